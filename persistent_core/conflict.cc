// The conflict rules of disconnected persistent opens (see conflict.h).

#include "conflict.h"

#include <cstring>

namespace samba_ca {
namespace persistent {

bool ShareModeDenies(uint32_t share, uint32_t access) {
  if ((access & (kAccessWriteData | kAccessAppendData)) &&
      !(share & kShareWrite)) {
    return true;
  }
  if ((access & (kAccessReadData | kAccessExecute)) && !(share & kShareRead)) {
    return true;
  }
  if ((access & kAccessDelete) && !(share & kShareDelete)) {
    return true;
  }
  return false;
}

namespace {

constexpr uint32_t kFileSupersede = 0;
constexpr uint32_t kFileOverwrite = 4;
constexpr uint32_t kFileOverwriteIf = 5;

// Byte ranges with exclusive ends; a zero length overlaps nothing.
bool RangesOverlap(uint64_t o1, uint64_t l1, uint64_t o2, uint64_t l2) {
  if (l1 == 0 || l2 == 0) {
    return false;
  }
  return o1 <= o2 + (l2 - 1) && o2 <= o1 + (l1 - 1);
}

}  // namespace

}  // namespace persistent
}  // namespace samba_ca

using samba_ca::persistent::kDataAccess;
using samba_ca::persistent::ShareModeDenies;

extern "C" pcore_status pcore_open_conflict(
    const struct pcore_open* held, const struct pcore_open_request* req) {
  if (held == nullptr || req == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  // The owner's own lease (same client, same key): its own open.
  if (req->has_lease && held->lease_version != 0 &&
      req->client_guid != nullptr &&
      memcmp(held->client_guid, req->client_guid, PCORE_GUID_SIZE) == 0 &&
      memcmp(held->lease_key, req->lease_key, PCORE_GUID_SIZE) == 0) {
    return PCORE_OK;
  }
  // Attribute-only opens share with anything and break nothing.
  if (!(req->access_mask & kDataAccess)) {
    return PCORE_OK;
  }
  // The disconnected open still holds its share mode, both ways.  As
  // Windows does, the answer is STATUS_FILE_NOT_AVAILABLE, not a sharing
  // violation: the file is held by an open whose client is away, and a
  // client may retry.
  if (ShareModeDenies(held->share_access, req->access_mask) ||
      ShareModeDenies(req->share_access, held->access_mask)) {
    return PCORE_FILE_NOT_AVAILABLE;
  }
  // Otherwise the open may have to break the holder's caching: write
  // caching (lease W, exclusive or batch oplock) breaks on any data open,
  // any caching on an overwrite.  A lease with Handle caching is kept for
  // its owner across the disconnect and the break waits for it (as smbd
  // waits for a connected holder's acknowledgement); anything else
  // cannot be delivered to an absent client and the open is refused.
  bool overwrite =
      req->create_disposition == samba_ca::persistent::kFileSupersede ||
      req->create_disposition == samba_ca::persistent::kFileOverwrite ||
      req->create_disposition == samba_ca::persistent::kFileOverwriteIf;
  bool leased = held->oplock_level == PCORE_OPLOCK_LEASE;
  bool write_caching =
      (leased && (held->lease_state & PCORE_LEASE_WRITE)) ||
      held->oplock_level == PCORE_OPLOCK_EXCLUSIVE ||
      held->oplock_level == PCORE_OPLOCK_BATCH;
  bool any_caching = held->oplock_level != PCORE_OPLOCK_NONE &&
                     (!leased || held->lease_state != 0);
  if (write_caching || (overwrite && any_caching)) {
    if (leased && (held->lease_state & PCORE_LEASE_HANDLE)) {
      return PCORE_BREAK_PENDING;
    }
    return PCORE_FILE_NOT_AVAILABLE;
  }
  return PCORE_OK;
}

extern "C" int pcore_lock_conflict(const struct pcore_open* held,
                                   uint64_t offset, uint64_t length,
                                   int exclusive) {
  if (held == nullptr) {
    return 0;
  }
  for (uint32_t i = 0; i < held->num_locks; i++) {
    const pcore_lock& l = held->locks[i];
    if (!exclusive && l.type != PCORE_LOCK_EXCLUSIVE) {
      continue;  // shared locks share
    }
    if (samba_ca::persistent::RangesOverlap(l.offset, l.length, offset,
                                            length)) {
      return 1;
    }
  }
  return 0;
}
