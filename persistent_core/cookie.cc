// The persistent open's cookie (cookie.h).
#include "cookie.h"

#include <cstring>

#include "coding.h"

namespace samba_ca {
namespace persistent {
namespace {

constexpr uint8_t kCookieMagic[kCookieMagicSize] = {'S', 'C', 'A', '-',
                                                    'P', 'H', 0,   0};

}  // namespace

bool IsPersistentCookie(const uint8_t* data, size_t len) {
  return len >= kCookieMagicSize && data != nullptr &&
         memcmp(data, kCookieMagic, kCookieMagicSize) == 0;
}

Status EncodeCookie(uint64_t persistent_id, const uint8_t* inner,
                    size_t inner_len, std::string* out) {
  if (inner_len > UINT32_MAX) {
    return Status::Invalid("inner cookie of " + std::to_string(inner_len) +
                           " bytes");
  }
  if (inner_len != 0 && inner == nullptr) {
    return Status::Invalid("inner cookie missing");
  }
  out->reserve(out->size() + kCookieHeaderSize + inner_len);
  PutBytes(out, kCookieMagic, kCookieMagicSize);
  PutFixed32(out, kCookieVersion);
  PutFixed32(out, static_cast<uint32_t>(inner_len));
  PutFixed64(out, persistent_id);
  if (inner_len != 0) {
    PutBytes(out, inner, inner_len);
  }
  return Status::OK();
}

Status DecodeCookie(const uint8_t* data, size_t len, CookieView* view) {
  if (len < kCookieHeaderSize) {
    return Status::Corrupt("cookie of " + std::to_string(len) +
                           " bytes, shorter than its header");
  }
  if (!IsPersistentCookie(data, len)) {
    return Status::Corrupt("cookie without the persistent magic");
  }
  Decoder d(data + kCookieMagicSize, len - kCookieMagicSize);
  uint32_t version = 0;
  uint32_t inner_len = 0;
  uint64_t persistent_id = 0;
  d.GetFixed32(&version, "cookie version");
  d.GetFixed32(&inner_len, "cookie inner length");
  d.GetFixed64(&persistent_id, "cookie persistent id");
  if (d.failed()) {
    return Status::Corrupt(d.error());
  }
  if (version != kCookieVersion) {
    return Status(PCORE_UNKNOWN_VERSION, "cookie version " +
                                             std::to_string(version) +
                                             ", this build reads version " +
                                             std::to_string(kCookieVersion));
  }
  if (inner_len != d.remaining()) {
    return Status::Corrupt("cookie inner length " + std::to_string(inner_len) +
                           " of " + std::to_string(d.remaining()) +
                           " bytes after the header");
  }
  view->persistent_id = persistent_id;
  view->inner_offset = kCookieHeaderSize;
  view->inner_length = inner_len;
  return Status::OK();
}

}  // namespace persistent
}  // namespace samba_ca
