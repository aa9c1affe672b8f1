// Table-driven CRC-32C, reflected polynomial 0x82F63B78.  Records are small
// and written once per state change, so a byte-at-a-time loop is enough.
#include "crc32c.h"

#include <array>

namespace samba_ca {
namespace persistent {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; bit++) {
      c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    }
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = MakeTable();

}  // namespace

uint32_t Crc32cExtend(uint32_t crc, const uint8_t* data, size_t len) {
  uint32_t c = ~crc;
  for (size_t i = 0; i < len; i++) {
    c = kTable[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  }
  return ~c;
}

}  // namespace persistent
}  // namespace samba_ca
