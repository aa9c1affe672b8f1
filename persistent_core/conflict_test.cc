// Tests of the conflict rules of disconnected persistent opens: share
// modes both ways, caching that cannot be broken, the owner's own lease,
// attribute-only opens, and byte-range locks.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// cmocka 1.1 declares its functions without extern "C".
extern "C" {
#include <cmocka.h>
}

#include <cstring>
#include <initializer_list>

#include "conflict.h"
#include "persistent_core.h"

using namespace samba_ca::persistent;

namespace {

constexpr uint32_t kRead = kAccessReadData;
constexpr uint32_t kWrite = kAccessWriteData;
constexpr uint32_t kAttributes = 0x00000080;  // FILE_READ_ATTRIBUTES
constexpr uint32_t kOpen = 1;                 // FILE_OPEN
constexpr uint32_t kOverwriteIf = 5;
const uint8_t kOwnerClient[PCORE_GUID_SIZE] = {1, 2, 3};
const uint8_t kOtherClient[PCORE_GUID_SIZE] = {9, 9, 9};
const uint8_t kOwnerLease[PCORE_GUID_SIZE] = {7, 7};

pcore_open Held(uint8_t oplock, uint32_t lease_state, uint32_t access,
                uint32_t share) {
  pcore_open h;
  memset(&h, 0, sizeof(h));
  h.oplock_level = oplock;
  if (oplock == PCORE_OPLOCK_LEASE) {
    h.lease_version = 2;
    h.lease_state = lease_state;
    memcpy(h.lease_key, kOwnerLease, PCORE_GUID_SIZE);
  }
  memcpy(h.client_guid, kOwnerClient, PCORE_GUID_SIZE);
  h.access_mask = access;
  h.share_access = share;
  return h;
}

pcore_open_request Request(uint32_t access, uint32_t share,
                           uint32_t disposition) {
  pcore_open_request r;
  memset(&r, 0, sizeof(r));
  r.access_mask = access;
  r.share_access = share;
  r.create_disposition = disposition;
  r.client_guid = kOtherClient;
  return r;
}

const uint32_t kAll = kShareRead | kShareWrite | kShareDelete;

void test_share_modes(void**) {
  // The held open shares only reading: a writer is refused, a reader not.
  pcore_open h = Held(PCORE_OPLOCK_NONE, 0, kRead | kWrite, kShareRead);
  assert_int_equal(pcore_open_conflict(&h, nullptr), PCORE_INVALID_PARAMETER);
  pcore_open_request w = Request(kWrite, kAll, kOpen);
  assert_int_equal(pcore_open_conflict(&h, &w), PCORE_FILE_NOT_AVAILABLE);
  pcore_open_request r = Request(kRead, kAll, kOpen);
  assert_int_equal(pcore_open_conflict(&h, &r), PCORE_OK);
  // The other way round: the request shares no writing, the held open
  // writes.
  pcore_open_request ro = Request(kRead, kShareRead, kOpen);
  assert_int_equal(pcore_open_conflict(&h, &ro), PCORE_FILE_NOT_AVAILABLE);
  // Delete access needs FILE_SHARE_DELETE.
  pcore_open_request d = Request(kAccessDelete, kAll, kOpen);
  assert_int_equal(pcore_open_conflict(&h, &d), PCORE_FILE_NOT_AVAILABLE);
  h.share_access = kAll;
  assert_int_equal(pcore_open_conflict(&h, &d), PCORE_OK);
}

void test_caching_that_cannot_be_broken(void**) {
  pcore_open_request r = Request(kRead, kAll, kOpen);
  pcore_open_request ow = Request(kWrite, kAll, kOverwriteIf);
  // Write caching breaks on any data open.
  for (uint8_t level : {PCORE_OPLOCK_EXCLUSIVE, PCORE_OPLOCK_BATCH}) {
    pcore_open h = Held(level, 0, kRead, kAll);
    assert_int_equal(pcore_open_conflict(&h, &r), PCORE_FILE_NOT_AVAILABLE);
  }
  pcore_open rwh = Held(PCORE_OPLOCK_LEASE,
                        PCORE_LEASE_READ | PCORE_LEASE_WRITE |
                            PCORE_LEASE_HANDLE,
                        kRead, kAll);
  // A lease with Handle caching waits for its owner to acknowledge the
  // break; without it, the break cannot be delivered.
  assert_int_equal(pcore_open_conflict(&rwh, &r), PCORE_BREAK_PENDING);
  assert_int_equal(pcore_open_conflict(&rwh, &ow), PCORE_BREAK_PENDING);
  pcore_open rw = Held(PCORE_OPLOCK_LEASE,
                       PCORE_LEASE_READ | PCORE_LEASE_WRITE, kRead, kAll);
  assert_int_equal(pcore_open_conflict(&rw, &r), PCORE_FILE_NOT_AVAILABLE);
  // A share mode conflict is refused whatever the lease.
  rwh.share_access = kShareRead;
  pcore_open_request w = Request(kWrite, kAll, kOpen);
  assert_int_equal(pcore_open_conflict(&rwh, &w), PCORE_FILE_NOT_AVAILABLE);
  // Read and handle caching survive a reader ...
  pcore_open rh =
      Held(PCORE_OPLOCK_LEASE, PCORE_LEASE_READ | PCORE_LEASE_HANDLE, kRead,
           kAll);
  assert_int_equal(pcore_open_conflict(&rh, &r), PCORE_OK);
  pcore_open level2 = Held(PCORE_OPLOCK_II, 0, kRead, kAll);
  assert_int_equal(pcore_open_conflict(&level2, &r), PCORE_OK);
  // ... not an overwrite: the break of a Handle lease waits, the others
  // cannot.
  assert_int_equal(pcore_open_conflict(&rh, &ow), PCORE_BREAK_PENDING);
  pcore_open r_only = Held(PCORE_OPLOCK_LEASE, PCORE_LEASE_READ, kRead, kAll);
  assert_int_equal(pcore_open_conflict(&r_only, &ow),
                   PCORE_FILE_NOT_AVAILABLE);
  assert_int_equal(pcore_open_conflict(&level2, &ow),
                   PCORE_FILE_NOT_AVAILABLE);
  // Nothing cached: nothing to break, even for an overwrite.
  pcore_open none = Held(PCORE_OPLOCK_NONE, 0, kRead, kAll);
  assert_int_equal(pcore_open_conflict(&none, &ow), PCORE_OK);
  pcore_open empty_lease = Held(PCORE_OPLOCK_LEASE, 0, kRead, kAll);
  assert_int_equal(pcore_open_conflict(&empty_lease, &ow), PCORE_OK);
}

void test_attribute_only_and_own_lease(void**) {
  pcore_open h = Held(PCORE_OPLOCK_BATCH, 0, kRead | kWrite, 0);
  pcore_open_request a = Request(kAttributes, 0, kOpen);
  assert_int_equal(pcore_open_conflict(&h, &a), PCORE_OK);
  // The owner coming back with its own lease key is not a contender.
  pcore_open rwh = Held(PCORE_OPLOCK_LEASE, 7, kRead | kWrite, 0);
  pcore_open_request own = Request(kRead | kWrite, 0, kOpen);
  own.client_guid = kOwnerClient;
  own.has_lease = 1;
  memcpy(own.lease_key, kOwnerLease, PCORE_GUID_SIZE);
  assert_int_equal(pcore_open_conflict(&rwh, &own), PCORE_OK);
  // Same key from another client, or another key: a contender.
  own.client_guid = kOtherClient;
  assert_int_equal(pcore_open_conflict(&rwh, &own), PCORE_FILE_NOT_AVAILABLE);
  own.client_guid = kOwnerClient;
  own.lease_key[0] ^= 1;
  assert_int_equal(pcore_open_conflict(&rwh, &own), PCORE_FILE_NOT_AVAILABLE);
  // An internal open (no client GUID) is never the owner.
  own.lease_key[0] ^= 1;
  own.client_guid = nullptr;
  assert_int_equal(pcore_open_conflict(&rwh, &own), PCORE_FILE_NOT_AVAILABLE);
}

void test_locks(void**) {
  pcore_lock locks[2] = {{0, 100, PCORE_LOCK_EXCLUSIVE, 0},
                         {200, 10, PCORE_LOCK_SHARED, 0}};
  pcore_open h = Held(PCORE_OPLOCK_NONE, 0, kRead, kAll);
  h.locks = locks;
  h.num_locks = 2;
  assert_true(pcore_lock_conflict(&h, 0, 10, 0));
  assert_true(pcore_lock_conflict(&h, 99, 1, 1));
  assert_false(pcore_lock_conflict(&h, 100, 10, 1));  // end is exclusive
  assert_false(pcore_lock_conflict(&h, 205, 1, 0));   // shared with shared
  assert_true(pcore_lock_conflict(&h, 205, 1, 1));
  assert_false(pcore_lock_conflict(&h, 50, 0, 1));    // zero length
  // a range to the end of the file does not wrap
  assert_true(pcore_lock_conflict(&h, UINT64_MAX - 1, 2, 1) == 0);
  locks[1] = {UINT64_MAX - 5, 6, PCORE_LOCK_EXCLUSIVE, 0};
  assert_true(pcore_lock_conflict(&h, UINT64_MAX - 1, 1, 0));
  assert_false(pcore_lock_conflict(nullptr, 0, 1, 1));
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_share_modes),
      cmocka_unit_test(test_caching_that_cannot_be_broken),
      cmocka_unit_test(test_attribute_only_and_own_lease),
      cmocka_unit_test(test_locks),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
