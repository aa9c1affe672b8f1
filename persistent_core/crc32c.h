// CRC-32C (Castagnoli), the checksum over a stored record.
#ifndef SAMBA_CA_PERSISTENT_CRC32C_H
#define SAMBA_CA_PERSISTENT_CRC32C_H

#include <cstddef>
#include <cstdint>

namespace samba_ca {
namespace persistent {

// Continue a CRC-32C over data; start with crc = 0.
uint32_t Crc32cExtend(uint32_t crc, const uint8_t* data, size_t len);
inline uint32_t Crc32c(const uint8_t* data, size_t len) {
  return Crc32cExtend(0, data, len);
}

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_CRC32C_H
