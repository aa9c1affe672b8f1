// Status messages of the core.
#include "status.h"

#include <errno.h>

namespace samba_ca {
namespace persistent {
namespace {

constexpr const char* kStatusStrings[] = {
    "ok",
    "no persistent open found",
    "persistent open expired",
    "create GUID does not match",
    "client GUID does not match",
    "lease does not match",
    "persistent flag does not match",
    "user does not match the owner",
    "share does not match",
    "persistent open is still connected",
    "persistent open is not connected",
    "persistent open already exists",
    "file held by a disconnected persistent open",
    "waiting for a disconnected persistent open's lease break",
    "invalid parameter",
    "corrupted persistent-open record",
    "unknown persistent-open record version",
    "byte-range lock not found",
    "too many byte-range locks",
    "store is full",
    "store is read-only",
    "store I/O error",
    "concurrent update of the store",
    "out of memory",
    "internal error",
};
static_assert(sizeof(kStatusStrings) / sizeof(kStatusStrings[0]) ==
                  PCORE_STATUS_COUNT,
              "one string per pcore_status");

}  // namespace

std::string Status::ToString() const {
  std::string s = pcore_status_string(code_);
  if (!message_.empty()) {
    s += ": ";
    s += message_;
  }
  return s;
}

}  // namespace persistent
}  // namespace samba_ca

extern "C" const char* pcore_status_string(pcore_status status) {
  unsigned index = static_cast<unsigned>(status);
  if (index >= PCORE_STATUS_COUNT) {
    return "unknown status";
  }
  return samba_ca::persistent::kStatusStrings[index];
}

extern "C" pcore_status pcore_status_from_errno(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return PCORE_STORE_FULL;
    case EROFS:
    case EACCES:
    case EPERM:
      return PCORE_STORE_READ_ONLY;
    case ENOMEM:
      return PCORE_NO_MEMORY;
    default:
      return PCORE_STORE_IO_ERROR;
  }
}
