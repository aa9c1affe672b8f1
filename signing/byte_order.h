// Copyright (C) samba-ca authors. GPLv3+.
//
// Little-endian loads and stores for wire fields: the one copy, used by
// signing/ and (through wire.h) by smbclient3/.

#ifndef SAMBA_CA_SIGNING_BYTE_ORDER_H_
#define SAMBA_CA_SIGNING_BYTE_ORDER_H_

#include <cstdint>

namespace samba_ca {
namespace signing {
namespace internal {

inline uint16_t LoadLe16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
inline uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t LoadLe64(const uint8_t* p) {
  return static_cast<uint64_t>(LoadLe32(p)) |
         (static_cast<uint64_t>(LoadLe32(p + 4)) << 32);
}
inline void StoreLe16(uint16_t v, uint8_t* p) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void StoreLe32(uint32_t v, uint8_t* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void StoreLe64(uint64_t v, uint8_t* p) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace internal
}  // namespace signing
}  // namespace samba_ca

#endif  // SAMBA_CA_SIGNING_BYTE_ORDER_H_
