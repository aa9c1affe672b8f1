// The cookie smbd keeps for a persistent open (the backend cookie of its
// smbXsrv_open_global record) and hands back on disconnect and reconnect.
// It wraps the default durable cookie (vfs_default_durable_*) behind a
// header of our own, so that cookies of plain durable opens, which lack
// the magic, are told apart and passed through.
//
// Layout (little endian), version 1:
//   magic "SCA-PH\0\0" (8 bytes), u32 version, u32 inner length,
//   u64 persistent id, then the inner cookie (inner length bytes, exactly
//   to the end).
// Cookies already kept by smbds in smbXsrv_open_global.tdb are in this
// format: a change needs a new version and a reader of the old one.
#ifndef SAMBA_CA_PERSISTENT_COOKIE_H
#define SAMBA_CA_PERSISTENT_COOKIE_H

#include <cstddef>
#include <cstdint>
#include <string>

#include "persistent_core.h"
#include "status.h"

namespace samba_ca {
namespace persistent {

constexpr size_t kCookieMagicSize = 8;
constexpr uint32_t kCookieVersion = 1;
constexpr size_t kCookieHeaderSize = PCORE_COOKIE_HEADER_SIZE;
static_assert(kCookieHeaderSize == kCookieMagicSize + 4 + 4 + 8,
              "the cookie header is magic, version, length, id");

// A decoded cookie; the inner cookie is a range of the decoded bytes.
struct CookieView {
  uint64_t persistent_id = 0;
  size_t inner_offset = 0;
  size_t inner_length = 0;
};

// True when the bytes start with our magic: the cookie is ours to decode
// (and to refuse if it is damaged), not a plain durable open's.
bool IsPersistentCookie(const uint8_t* data, size_t len);

// Appends the cookie for persistent_id around inner[0, inner_len).  An
// inner cookie longer than the 32-bit length field is PCORE_INVALID_PARAMETER
// and appends nothing.
Status EncodeCookie(uint64_t persistent_id, const uint8_t* inner,
                    size_t inner_len, std::string* out);

// Checks every field: PCORE_UNKNOWN_VERSION for another version,
// PCORE_CORRUPT_RECORD for anything else wrong (too short, no magic, an
// inner length that does not reach exactly to the end).  *view is set only
// on success.
Status DecodeCookie(const uint8_t* data, size_t len, CookieView* view);

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_COOKIE_H
