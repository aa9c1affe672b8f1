// Tests of the persistent-handle logic over the in-memory store.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// cmocka 1.1 declares its functions without extern "C".
extern "C" {
#include <cmocka.h>
}

#include <map>
#include <string>
#include <vector>

#include "handle_table.h"
#include "persistent_record.h"
#include "store.h"
#include "test_util.h"

using namespace samba_ca::persistent;

namespace {

constexpr uint64_t kId = 0x100;
constexpr uint64_t kT0 = 1700000000000000ull;  // unix us
constexpr uint32_t kTimeoutMs = 60000;
constexpr uint64_t kTimeoutUs = kTimeoutMs * 1000ull;
const char kUser[] = "S-1-5-21-1-2-3-1000";
const char kOtherUser[] = "S-1-5-21-1-2-3-1001";

struct Fixture {
  InMemoryStore store;
  HandleTable table{&store};
};

Guid MakeGuid(uint8_t seed) {
  Guid g;
  for (size_t i = 0; i < g.size(); i++) {
    g[i] = static_cast<uint8_t>(seed + i);
  }
  return g;
}

OpenRecord MakeOpen(uint64_t id, bool leased) {
  OpenRecord r;
  r.persistent_id = id;
  r.volatile_id = id + 1000;
  r.create_guid = MakeGuid(static_cast<uint8_t>(id));
  r.client_guid = MakeGuid(0x80);
  if (leased) {
    r.oplock_level = PCORE_OPLOCK_LEASE;
    r.lease_version = 2;
    r.lease_key = MakeGuid(0x40);
    r.lease_state = PCORE_LEASE_READ | PCORE_LEASE_HANDLE;
  } else {
    r.oplock_level = PCORE_OPLOCK_BATCH;
  }
  r.owner.vnn = 0;
  r.owner.pid = 100;
  r.owner.unique_id = 1;
  r.access_mask = 0x0012019F;
  r.share_access = 1;
  r.create_disposition = 3;
  r.timeout_ms = kTimeoutMs;
  r.owner_sid = kUser;
  r.share_name = "ca";
  r.path = "file" + std::to_string(id);
  r.reply.create_action = 2;
  return r;
}

ReconnectRequest MakeReconnect(const OpenRecord& r) {
  ReconnectRequest q;
  q.persistent_id = r.persistent_id;
  q.create_guid = r.create_guid;
  q.client_guid = r.client_guid;
  q.persistent_flag = true;
  q.has_lease = r.oplock_level == PCORE_OPLOCK_LEASE;
  q.lease_key = r.lease_key;
  q.lease_version = r.lease_version;
  q.owner_sid = r.owner_sid;
  q.share_name = r.share_name;
  q.new_owner.vnn = 1;
  q.new_owner.pid = 200;
  q.new_owner.unique_id = 2;
  q.new_volatile_id = 7777;
  return q;
}

void ExpectOk(const Status& s) {
  if (!s.ok()) {
    fail_msg("unexpected failure: %s", s.ToString().c_str());
  }
}

void ExpectCode(const Status& s, pcore_status code) {
  if (s.code() != code) {
    fail_msg("got \"%s\", want %s", s.ToString().c_str(),
             pcore_status_string(code));
  }
}

int Setup(void** state) {
  *state = new Fixture;
  return 0;
}

int Teardown(void** state) {
  delete static_cast<Fixture*>(*state);
  return 0;
}

Fixture* F(void** state) { return static_cast<Fixture*>(*state); }

// Grants kId (leased), disconnects it at kT0.
OpenRecord GrantAndDisconnect(Fixture* f, bool leased = true) {
  OpenRecord open = MakeOpen(kId, leased);
  ExpectOk(f->table.Grant(open));
  ExpectOk(f->table.Disconnect(kId, kT0));
  return open;
}

void test_grant_stores_synced(void** state) {
  Fixture* f = F(state);
  OpenRecord open = MakeOpen(kId, true);
  open.state = OpenState::kDisconnected;  // ignored on grant
  open.disconnect_time_us = 5;
  ExpectOk(f->table.Grant(open));
  // record + create GUID entry + path index entry, in one synced batch
  assert_int_equal(f->store.size(), 3);
  assert_int_equal(f->store.synced_applies(), 1);
  OpenRecord got;
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.state, OpenState::kConnected);
  assert_int_equal(got.disconnect_time_us, 0);
  assert_int_equal(got.sequence, 1);
  assert_string_equal(got.path.c_str(), "file256");
  // A second grant of the same id or create GUID is refused.
  ExpectCode(f->table.Grant(open), PCORE_ALREADY_EXISTS);
  OpenRecord same_guid = MakeOpen(kId + 1, true);
  same_guid.create_guid = open.create_guid;
  ExpectCode(f->table.Grant(same_guid), PCORE_ALREADY_EXISTS);
  assert_int_equal(f->store.size(), 3);
}

void test_grant_invalid_refused(void** state) {
  Fixture* f = F(state);
  OpenRecord open = MakeOpen(kId, true);
  open.owner_sid = "not a sid";
  ExpectCode(f->table.Grant(open), PCORE_INVALID_PARAMETER);
  open = MakeOpen(kId, false);
  open.timeout_ms = 0;
  ExpectCode(f->table.Grant(open), PCORE_INVALID_PARAMETER);
  assert_int_equal(f->store.size(), 0);
}

void test_store_failure_on_grant(void** state) {
  Fixture* f = F(state);
  for (pcore_status failure :
       {PCORE_STORE_FULL, PCORE_STORE_READ_ONLY, PCORE_STORE_IO_ERROR}) {
    f->store.FailWrites(failure);
    ExpectCode(f->table.Grant(MakeOpen(kId, true)), failure);
    assert_int_equal(f->store.size(), 0);
    assert_int_equal(f->store.synced_applies(), 0);
  }
  f->store.FailWrites(PCORE_OK);
  OpenRecord got;
  ExpectCode(f->table.Fetch(kId, &got), PCORE_NOT_FOUND);
}

void test_disconnect_reconnect(void** state) {
  Fixture* f = F(state);
  OpenRecord open = GrantAndDisconnect(f);
  OpenRecord got;
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.state, OpenState::kDisconnected);
  assert_int_equal(got.disconnect_time_us, kT0);
  ExpectCode(f->table.Disconnect(kId, kT0 + 1), PCORE_NOT_CONNECTED);

  ByteRangeLock lock;
  lock.offset = 10;
  lock.length = 20;
  lock.exclusive = true;
  ExpectOk(f->table.AddLock(kId, lock, 0));

  OpenRecord back;
  ExpectOk(f->table.Reconnect(MakeReconnect(open), kT0 + 1000, &back));
  assert_int_equal(back.state, OpenState::kConnected);
  assert_int_equal(back.owner.pid, 200);
  assert_int_equal(back.volatile_id, 7777);
  assert_int_equal(back.locks.size(), 1);
  assert_int_equal(back.locks[0].offset, 10);
  assert_true(back.lease_key == open.lease_key);
  ExpectOk(f->table.Fetch(kId, &got));
  assert_true(got == back);
  // Connected again: a second reconnect is refused.
  ExpectCode(f->table.Reconnect(MakeReconnect(open), kT0 + 2000, &back),
             PCORE_NOT_DISCONNECTED);
}

void test_reconnect_by_create_guid(void** state) {
  Fixture* f = F(state);
  OpenRecord open = GrantAndDisconnect(f);
  ReconnectRequest req = MakeReconnect(open);
  req.persistent_id = 0xDEAD;  // unknown id: falls back to the create GUID
  OpenRecord back;
  ExpectOk(f->table.Reconnect(req, kT0 + 1, &back));
  assert_int_equal(back.persistent_id, kId);
}

// Each faulty reconnect is refused with its status and changes nothing.
void ExpectRefused(Fixture* f, const ReconnectRequest& req, uint64_t now,
                   pcore_status code) {
  std::map<std::string, std::string> before = f->store.contents();
  OpenRecord back;
  ExpectCode(f->table.Reconnect(req, now, &back), code);
  if (f->store.contents() != before) {
    fail_msg("store changed by a refused reconnect (%s)",
             pcore_status_string(code));
  }
}

void test_reconnect_refusals(void** state) {
  Fixture* f = F(state);
  OpenRecord open = GrantAndDisconnect(f);
  uint64_t now = kT0 + 1000;

  ReconnectRequest req = MakeReconnect(open);
  req.owner_sid = kOtherUser;
  ExpectRefused(f, req, now, PCORE_USER_MISMATCH);

  req = MakeReconnect(open);
  req.create_guid = MakeGuid(0xEE);
  ExpectRefused(f, req, now, PCORE_CREATE_GUID_MISMATCH);

  req = MakeReconnect(open);
  req.client_guid = MakeGuid(0x33);
  ExpectRefused(f, req, now, PCORE_CLIENT_GUID_MISMATCH);

  req = MakeReconnect(open);
  req.share_name = "other";
  ExpectRefused(f, req, now, PCORE_SHARE_MISMATCH);

  req = MakeReconnect(open);
  req.lease_key = MakeGuid(0x41);
  ExpectRefused(f, req, now, PCORE_LEASE_MISMATCH);

  req = MakeReconnect(open);
  req.has_lease = false;
  ExpectRefused(f, req, now, PCORE_LEASE_MISMATCH);

  req = MakeReconnect(open);
  req.lease_version = open.lease_version == 2 ? 1 : 2;
  ExpectRefused(f, req, now, PCORE_LEASE_MISMATCH);

  req = MakeReconnect(open);
  req.persistent_flag = false;
  ExpectRefused(f, req, now, PCORE_PERSISTENT_FLAG_MISMATCH);

  req = MakeReconnect(open);
  req.persistent_id = 0xDEAD;
  req.create_guid = MakeGuid(0xEE);
  ExpectRefused(f, req, now, PCORE_NOT_FOUND);

  // Expired: exactly at disconnect time + timeout, and after.
  ExpectRefused(f, MakeReconnect(open), kT0 + kTimeoutUs, PCORE_EXPIRED);
  ExpectRefused(f, MakeReconnect(open), kT0 + 10 * kTimeoutUs, PCORE_EXPIRED);

  // A moment before expiry the right request still succeeds.
  OpenRecord back;
  ExpectOk(
      f->table.Reconnect(MakeReconnect(open), kT0 + kTimeoutUs - 1, &back));
}

void test_reconnect_connected_refused(void** state) {
  Fixture* f = F(state);
  OpenRecord open = MakeOpen(kId, true);
  ExpectOk(f->table.Grant(open));
  ExpectRefused(f, MakeReconnect(open), kT0, PCORE_NOT_DISCONNECTED);
}

void test_oplock_open_ignores_client_guid(void** state) {
  // [MS-SMB2] 3.3.5.9.12 checks the client GUID only for a leased open.
  Fixture* f = F(state);
  OpenRecord open = GrantAndDisconnect(f, false);
  ReconnectRequest req = MakeReconnect(open);
  req.client_guid = MakeGuid(0x33);
  OpenRecord back;
  ExpectOk(f->table.Reconnect(req, kT0 + 1, &back));
}

void test_replay_lookup(void** state) {
  Fixture* f = F(state);
  OpenRecord open = MakeOpen(kId, true);
  open.reply.channel_sequence = 9;
  open.reply.end_of_file = 1234;
  ExpectOk(f->table.Grant(open));
  OpenRecord got;
  ExpectOk(f->table.LookupReplay(open.create_guid, open.client_guid, &got));
  assert_int_equal(got.persistent_id, kId);
  assert_int_equal(got.reply.channel_sequence, 9);
  assert_int_equal(got.reply.end_of_file, 1234);
  ExpectCode(f->table.LookupReplay(open.create_guid, MakeGuid(0x33), &got),
             PCORE_NOT_FOUND);
  ExpectCode(f->table.LookupReplay(MakeGuid(0xEE), open.client_guid, &got),
             PCORE_NOT_FOUND);
}

void test_lock_sequence(void** state) {
  Fixture* f = F(state);
  ExpectOk(f->table.Grant(MakeOpen(kId, true)));
  bool replay = true;
  const uint32_t seq = (5u << 4) | 3;  // index 5, number 3
  ExpectOk(f->table.CheckLockSequence(kId, seq, &replay));
  assert_false(replay);
  ByteRangeLock lock;
  lock.offset = 0;
  lock.length = 10;
  ExpectOk(f->table.AddLock(kId, lock, seq));
  OpenRecord got;
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.lock_sequence[4], 3);
  assert_int_equal(got.locks[0].lock_sequence, seq);
  // The same sequence again is a replay: success, nothing to do.
  ExpectOk(f->table.CheckLockSequence(kId, seq, &replay));
  assert_true(replay);
  // Another number at the same index: no replay, and the entry is reset.
  ExpectOk(f->table.CheckLockSequence(kId, (5u << 4) | 4, &replay));
  assert_false(replay);
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.lock_sequence[4], kLockSequenceInvalid);
  ExpectOk(f->table.CheckLockSequence(kId, seq, &replay));
  assert_false(replay);
  // Index 0 and indexes above 64 are never replays.
  for (uint32_t bad : {0u | 3u, (65u << 4) | 3u, 0xFFFFFFFFu}) {
    ExpectOk(f->table.CheckLockSequence(kId, bad, &replay));
    assert_false(replay);
  }
  // Index 64 is the last valid slot; unlock records its sequence too.
  const uint32_t last = (64u << 4) | 15;
  ExpectOk(f->table.RemoveLock(kId, 0, 10, last));
  ExpectOk(f->table.CheckLockSequence(kId, last, &replay));
  assert_true(replay);
  ExpectCode(f->table.CheckLockSequence(0xDEAD, seq, &replay), PCORE_NOT_FOUND);
}

void test_locks_add_remove(void** state) {
  Fixture* f = F(state);
  ExpectOk(f->table.Grant(MakeOpen(kId, false)));
  ByteRangeLock a;
  a.offset = 0;
  a.length = 100;
  a.exclusive = true;
  ByteRangeLock b;
  b.offset = 100;
  b.length = 50;
  ExpectOk(f->table.AddLock(kId, a, 0));
  ExpectOk(f->table.AddLock(kId, b, 0));
  ExpectCode(f->table.RemoveLock(kId, 0, 50, 0), PCORE_LOCK_NOT_FOUND);
  ExpectOk(f->table.RemoveLock(kId, 0, 100, 0));
  OpenRecord got;
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.locks.size(), 1);
  assert_int_equal(got.locks[0].offset, 100);
  assert_false(got.locks[0].exclusive);
  assert_int_equal(got.sequence, 4);  // grant + 3 updates
  ByteRangeLock wraps;
  wraps.offset = UINT64_MAX;
  wraps.length = 2;
  ExpectCode(f->table.AddLock(kId, wraps, 0), PCORE_INVALID_PARAMETER);
}

void test_too_many_locks(void** state) {
  Fixture* f = F(state);
  OpenRecord open = MakeOpen(kId, false);
  open.locks.resize(PCORE_MAX_LOCKS);
  for (size_t i = 0; i < open.locks.size(); i++) {
    open.locks[i].offset = i;
    open.locks[i].length = 1;
  }
  ExpectOk(f->table.Grant(open));
  ByteRangeLock one;
  one.offset = 1u << 20;
  one.length = 1;
  ExpectCode(f->table.AddLock(kId, one, 0), PCORE_TOO_MANY_LOCKS);
}

void test_store_failure_on_update(void** state) {
  Fixture* f = F(state);
  ExpectOk(f->table.Grant(MakeOpen(kId, true)));
  f->store.FailWrites(PCORE_STORE_READ_ONLY);
  ExpectCode(f->table.Disconnect(kId, kT0), PCORE_STORE_READ_ONLY);
  f->store.FailWrites(PCORE_OK);
  OpenRecord got;
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.state, OpenState::kConnected);
}

void test_update_lease(void** state) {
  Fixture* f = F(state);
  ExpectOk(f->table.Grant(MakeOpen(kId, true)));
  ExpectOk(f->table.UpdateLease(kId, PCORE_OPLOCK_LEASE, PCORE_LEASE_READ, 4));
  OpenRecord got;
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.lease_state, PCORE_LEASE_READ);
  assert_int_equal(got.lease_epoch, 4);
  ExpectCode(f->table.UpdateLease(kId, PCORE_OPLOCK_LEASE, 0x10, 5),
             PCORE_INVALID_PARAMETER);
  ExpectCode(f->table.UpdateLease(kId, PCORE_OPLOCK_BATCH, 0, 0),
             PCORE_INVALID_PARAMETER);
}

void test_set_lock_sequence(void** state) {
  Fixture* f = F(state);
  OpenRecord open = MakeOpen(kId, true);
  ExpectOk(f->table.Grant(open));
  ExpectOk(f->table.SetLockSequence(kId, (1 << 4) | 5));
  ExpectOk(f->table.SetLockSequence(kId, (64 << 4) | 15));
  OpenRecord got;
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.lock_sequence[0], 5);
  assert_int_equal(got.lock_sequence[63], 15);
  assert_int_equal(got.lock_sequence[1], kLockSequenceInvalid);
  uint64_t seq = got.sequence;
  // the same entry again stores nothing
  ExpectOk(f->table.SetLockSequence(kId, (1 << 4) | 5));
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.sequence, seq);
  ExpectCode(f->table.SetLockSequence(kId, 5), PCORE_INVALID_PARAMETER);
  ExpectCode(f->table.SetLockSequence(kId, 65 << 4), PCORE_INVALID_PARAMETER);
  ExpectCode(f->table.SetLockSequence(kId + 1, (1 << 4) | 1), PCORE_NOT_FOUND);
}

// A SET_INFO's delete on close is stored, synced, survives a disconnect
// and a reconnect, and is cleared again; a repeat writes nothing.
void test_set_delete_on_close(void** state) {
  Fixture* f = F(state);
  ExpectOk(f->table.Grant(MakeOpen(kId, true)));
  OpenRecord got;
  ExpectOk(f->table.Fetch(kId, &got));
  assert_false(got.delete_on_close);
  size_t synced = f->store.synced_applies();
  ExpectOk(f->table.SetDeleteOnClose(kId, true));
  assert_int_equal(f->store.synced_applies(), synced + 1);
  ExpectOk(f->table.Fetch(kId, &got));
  assert_true(got.delete_on_close);
  uint64_t seq = got.sequence;
  ExpectOk(f->table.SetDeleteOnClose(kId, true));
  assert_int_equal(f->store.synced_applies(), synced + 1);
  ExpectOk(f->table.Fetch(kId, &got));
  assert_int_equal(got.sequence, seq);
  ExpectOk(f->table.Disconnect(kId, kT0));
  ExpectOk(f->table.Fetch(kId, &got));
  assert_true(got.delete_on_close);
  ExpectOk(f->table.SetDeleteOnClose(kId, false));
  ExpectOk(f->table.Fetch(kId, &got));
  assert_false(got.delete_on_close);
  ExpectCode(f->table.SetDeleteOnClose(kId + 1, true), PCORE_NOT_FOUND);
  f->store.FailWrites(PCORE_STORE_FULL);
  ExpectCode(f->table.SetDeleteOnClose(kId, true), PCORE_STORE_FULL);
  f->store.FailWrites(PCORE_OK);
  ExpectOk(f->table.Fetch(kId, &got));
  assert_false(got.delete_on_close);
}

void test_path_index(void** state) {
  Fixture* f = F(state);
  OpenRecord a = MakeOpen(1, true);
  OpenRecord b = MakeOpen(2, false);
  b.path = a.path;
  OpenRecord c = MakeOpen(3, false);
  ExpectOk(f->table.Grant(a));
  ExpectOk(f->table.Grant(b));
  ExpectOk(f->table.Grant(c));
  std::vector<uint64_t> ids;
  ExpectOk(f->table.PathIds("ca", a.path, &ids));
  assert_int_equal(ids.size(), 2);
  assert_int_equal(ids[0], 1);
  assert_int_equal(ids[1], 2);
  ExpectOk(f->table.PathIds("other", a.path, &ids));
  assert_int_equal(ids.size(), 0);
  ExpectOk(f->table.Release(1));
  ExpectOk(f->table.PathIds("ca", a.path, &ids));
  assert_int_equal(ids.size(), 1);
  assert_int_equal(ids[0], 2);
  ExpectOk(f->table.Release(2));
  ExpectOk(f->table.PathIds("ca", a.path, &ids));
  assert_int_equal(ids.size(), 0);
  // the last release removes the index entry itself
  assert_int_equal(f->store.size(), 3);
  // an index entry of a removed record, and a record without its entry
  // (a store of an older version): Reindex fixes both
  f->store.PutRaw(HandleTable::PathKey("ca", "gone"), std::string(8, '\x07'));
  ExpectOk(f->store.Delete(HandleTable::PathKey("ca", c.path), true));
  uint32_t fixed = 0;
  ExpectOk(f->table.Reindex(&fixed));
  assert_int_equal(fixed, 2);
  ExpectOk(f->table.PathIds("ca", c.path, &ids));
  assert_int_equal(ids.size(), 1);
  assert_int_equal(ids[0], 3);
  ExpectOk(f->table.PathIds("ca", "gone", &ids));
  assert_int_equal(ids.size(), 0);
  ExpectOk(f->table.Reindex(&fixed));
  assert_int_equal(fixed, 0);
}

// Records with a file identity are found by it, whichever share and path
// granted them; the path index holds only records without one.
void test_file_index(void** state) {
  Fixture* f = F(state);
  OpenRecord a = MakeOpen(1, false);
  a.file.known = true;
  a.file.devid = 0x801;
  a.file.inode = 77;
  OpenRecord b = MakeOpen(2, false);
  b.share_name = "ca2";
  b.path = "elsewhere/name";
  b.file = a.file;
  OpenRecord c = MakeOpen(3, false);  // another file, same share and path
  c.file = a.file;
  c.file.inode = 78;
  c.path = a.path;
  ExpectOk(f->table.Grant(a));
  ExpectOk(f->table.Grant(b));
  ExpectOk(f->table.Grant(c));
  std::vector<uint64_t> ids;
  ExpectOk(f->table.FileIds(a.file, &ids));
  assert_int_equal(ids.size(), 2);
  assert_int_equal(ids[0], 1);
  assert_int_equal(ids[1], 2);
  ExpectOk(f->table.FileIds(c.file, &ids));
  assert_int_equal(ids.size(), 1);
  assert_int_equal(ids[0], 3);
  ExpectOk(f->table.PathIds("ca", a.path, &ids));
  assert_int_equal(ids.size(), 0);
  ExpectOk(f->table.Release(1));
  ExpectOk(f->table.FileIds(a.file, &ids));
  assert_int_equal(ids.size(), 1);
  assert_int_equal(ids[0], 2);
  // a lost file index entry is put back by Reindex
  ExpectOk(f->store.Delete(HandleTable::FileKey(c.file), true));
  uint32_t fixed = 0;
  ExpectOk(f->table.Reindex(&fixed));
  assert_int_equal(fixed, 1);
  ExpectOk(f->table.FileIds(c.file, &ids));
  assert_int_equal(ids.size(), 1);
  // a rename: the path follows, the file index entry stays
  ExpectOk(f->table.UpdatePath(2, "moved/there"));
  OpenRecord got;
  ExpectOk(f->table.Fetch(2, &got));
  assert_string_equal(got.path.c_str(), "moved/there");
  ExpectOk(f->table.FileIds(a.file, &ids));
  assert_int_equal(ids.size(), 1);
  ExpectCode(f->table.UpdatePath(2, "/absolute"), PCORE_INVALID_PARAMETER);
  ExpectCode(f->table.UpdatePath(99, "x"), PCORE_NOT_FOUND);
  ExpectOk(f->table.Release(2));
  ExpectOk(f->table.Release(3));
  assert_int_equal(f->store.size(), 0);
  // a record without an identity is indexed by its path: no rename
  OpenRecord old = MakeOpen(4, false);
  ExpectOk(f->table.Grant(old));
  ExpectCode(f->table.UpdatePath(4, "new"), PCORE_INVALID_PARAMETER);
}

void test_release(void** state) {
  Fixture* f = F(state);
  OpenRecord open = MakeOpen(kId, true);
  ExpectOk(f->table.Grant(open));
  ExpectOk(f->table.Release(kId));
  assert_int_equal(f->store.size(), 0);
  ExpectCode(f->table.Release(kId), PCORE_NOT_FOUND);
  // The create GUID is free again.
  ExpectOk(f->table.Grant(open));
}

// Grants and lock changes wait for the disk; a release does not, unless
// asked (a lost release only brings the open back until its timeout).
void test_release_sync_policy(void** state) {
  Fixture* f = F(state);
  ExpectOk(f->table.Grant(MakeOpen(kId, true)));
  ByteRangeLock lock;
  lock.offset = 0;
  lock.length = 10;
  lock.exclusive = true;
  ExpectOk(f->table.AddLock(kId, lock, 0));
  assert_int_equal(f->store.synced_applies(), 2);
  ExpectOk(f->table.Release(kId));
  assert_int_equal(f->store.synced_applies(), 2);
  assert_int_equal(f->store.size(), 0);
  f->table.set_sync_release(true);
  ExpectOk(f->table.Grant(MakeOpen(kId, true)));
  ExpectOk(f->table.Release(kId));
  assert_int_equal(f->store.synced_applies(), 4);
}

void test_expiry_sweep(void** state) {
  Fixture* f = F(state);
  OpenRecord a = MakeOpen(1, true);
  OpenRecord b = MakeOpen(2, false);
  b.timeout_ms = 1000;
  OpenRecord c = MakeOpen(3, false);  // stays connected
  ExpectOk(f->table.Grant(a));
  ExpectOk(f->table.Grant(b));
  ExpectOk(f->table.Grant(c));
  ExpectOk(f->table.Disconnect(1, kT0));
  ExpectOk(f->table.Disconnect(2, kT0));
  std::vector<uint64_t> expired;
  auto collect = [&](uint64_t id, const Status& why) {
    assert_int_equal(why.code(), PCORE_EXPIRED);
    expired.push_back(id);
  };
  ExpectOk(f->table.Sweep(kT0 + 999 * 1000, collect));
  assert_int_equal(expired.size(), 0);
  ExpectOk(f->table.Sweep(kT0 + 1000 * 1000, collect));
  assert_int_equal(expired.size(), 1);
  assert_int_equal(expired[0], 2);
  expired.clear();
  ExpectOk(f->table.Sweep(kT0 + kTimeoutUs, collect));
  assert_int_equal(expired.size(), 2);
  // Sweeping removes nothing; the glue releases after cleaning up.
  assert_int_equal(f->store.size(), 9);  // 3 x (record, GUID, path index)
  for (uint64_t id : expired) {
    ExpectOk(f->table.Release(id));
  }
  assert_int_equal(f->store.size(), 3);
  // Expiry never overflows: a disconnect at the end of time never expires.
  OpenRecord late = MakeOpen(9, false);
  late.state = OpenState::kDisconnected;
  late.disconnect_time_us = UINT64_MAX - 5;
  assert_false(HandleTable::IsExpired(late, UINT64_MAX));
}

void test_disconnect_server(void** state) {
  Fixture* f = F(state);
  OpenRecord a = MakeOpen(1, true);
  OpenRecord b = MakeOpen(2, false);
  b.owner.pid = 101;
  OpenRecord c = MakeOpen(3, false);
  c.owner.vnn = 2;
  ExpectOk(f->table.Grant(a));
  ExpectOk(f->table.Grant(b));
  ExpectOk(f->table.Grant(c));
  uint32_t count = 0;
  ExpectOk(f->table.DisconnectServer(a.owner, false, kT0, &count));
  assert_int_equal(count, 1);
  ExpectOk(f->table.DisconnectServer(a.owner, true, kT0 + 5, &count));
  assert_int_equal(count, 1);  // b: same node, other pid
  OpenRecord got;
  ExpectOk(f->table.Fetch(1, &got));
  assert_int_equal(got.disconnect_time_us, kT0);
  ExpectOk(f->table.Fetch(2, &got));
  assert_int_equal(got.disconnect_time_us, kT0 + 5);
  ExpectOk(f->table.Fetch(3, &got));
  assert_int_equal(got.state, OpenState::kConnected);
}

// A dead server's opens are marked disconnected in one synced update,
// not one per open.
void test_disconnect_server_batched(void** state) {
  Fixture* f = F(state);
  OpenRecord other = MakeOpen(100, false);
  other.owner.pid = 7;
  ExpectOk(f->table.Grant(other));
  OpenRecord dead;
  for (uint64_t id = 1; id <= 20; id++) {
    dead = MakeOpen(id, false);
    ExpectOk(f->table.Grant(dead));
  }
  uint64_t before = f->store.synced_applies();
  uint32_t count = 0;
  ExpectOk(f->table.DisconnectServer(dead.owner, false, kT0, &count));
  assert_int_equal(count, 20);
  assert_int_equal(f->store.synced_applies(), before + 1);
  OpenRecord got;
  for (uint64_t id = 1; id <= 20; id++) {
    ExpectOk(f->table.Fetch(id, &got));
    assert_int_equal(got.state, OpenState::kDisconnected);
    assert_int_equal(got.disconnect_time_us, kT0);
  }
  ExpectOk(f->table.Fetch(100, &got));
  assert_int_equal(got.state, OpenState::kConnected);
  // Nothing left to disconnect: no update at all.
  ExpectOk(f->table.DisconnectServer(dead.owner, false, kT0 + 1, &count));
  assert_int_equal(count, 0);
  assert_int_equal(f->store.synced_applies(), before + 1);
}

void test_open_conflict(void** state) {
  Fixture* f = F(state);
  OpenRecord a = MakeOpen(1, true);
  ExpectOk(f->table.Grant(a));
  ExpectOk(f->table.CheckOpenConflict("ca", a.path, kT0));
  ExpectOk(f->table.Disconnect(1, kT0));
  ExpectCode(f->table.CheckOpenConflict("ca", a.path, kT0 + 1),
             PCORE_FILE_NOT_AVAILABLE);
  ExpectOk(f->table.CheckOpenConflict("other", a.path, kT0 + 1));
  ExpectOk(f->table.CheckOpenConflict("ca", "elsewhere", kT0 + 1));
  ExpectOk(f->table.CheckOpenConflict("ca", a.path, kT0 + kTimeoutUs));
}

void test_corrupt_record_isolated(void** state) {
  Fixture* f = F(state);
  OpenRecord a = GrantAndDisconnect(f);  // kId
  OpenRecord b = MakeOpen(kId + 1, false);
  OpenRecord c = MakeOpen(kId + 2, true);
  ExpectOk(f->table.Grant(b));
  ExpectOk(f->table.Grant(c));
  ExpectOk(f->table.Disconnect(kId + 1, kT0));
  ExpectOk(f->table.Disconnect(kId + 2, kT0));

  // Flip one byte of b's stored record.
  std::string key = HandleTable::RecordKey(kId + 1);
  std::string raw = f->store.contents().at(key);
  raw[100] = static_cast<char>(raw[100] ^ 0x20);
  f->store.PutRaw(key, raw);
  // And store a record of an unknown version under a fourth id.
  OpenRecord d = MakeOpen(kId + 3, false);
  std::string newer;
  ExpectOk(EncodeRecord(d, &newer));
  newer[4] = 9;
  ResealRecordForTesting(&newer);
  f->store.PutRaw(HandleTable::RecordKey(kId + 3), newer);

  OpenRecord back;
  Status s = f->table.Reconnect(MakeReconnect(b), kT0 + 1, &back);
  ExpectCode(s, PCORE_CORRUPT_RECORD);
  assert_true(s.message().find(key) != std::string::npos);
  assert_true(s.message().find("checksum") != std::string::npos);
  ExpectCode(f->table.Reconnect(MakeReconnect(d), kT0 + 1, &back),
             PCORE_UNKNOWN_VERSION);
  // The others are untouched and reconnect.
  ExpectOk(f->table.Reconnect(MakeReconnect(a), kT0 + 1, &back));
  ExpectOk(f->table.Reconnect(MakeReconnect(c), kT0 + 1, &back));
  assert_string_equal(f->store.contents().at(key).c_str(), raw.c_str());

  // The sweep reports the bad ones and carries on.
  std::map<uint64_t, pcore_status> seen;
  ExpectOk(f->table.Sweep(
      kT0 + 1, [&](uint64_t id, const Status& why) { seen[id] = why.code(); }));
  assert_int_equal(seen.size(), 2);
  assert_int_equal(seen[kId + 1], PCORE_CORRUPT_RECORD);
  assert_int_equal(seen[kId + 3], PCORE_UNKNOWN_VERSION);
  // A corrupt record can still be released.
  ExpectOk(f->table.Release(kId + 1));
  OpenRecord got;
  ExpectCode(f->table.Fetch(kId + 1, &got), PCORE_NOT_FOUND);
}

void test_record_under_wrong_key(void** state) {
  Fixture* f = F(state);
  OpenRecord a = MakeOpen(kId, true);
  std::string bytes;
  ExpectOk(EncodeRecord(a, &bytes));
  f->store.PutRaw(HandleTable::RecordKey(kId + 5), bytes);
  OpenRecord got;
  ExpectCode(f->table.Fetch(kId + 5, &got), PCORE_CORRUPT_RECORD);
}

void test_keys(void**) {
  assert_string_equal(HandleTable::RecordKey(0x1234).c_str(),
                      "PH/open/0000000000001234");
  uint64_t id = 0;
  assert_true(HandleTable::ParseRecordKey("PH/open/00000000000012ab", &id));
  assert_int_equal(id, 0x12ab);
  assert_false(HandleTable::ParseRecordKey("PH/open/00000000000012AB", &id));
  assert_false(HandleTable::ParseRecordKey("PH/guid/0000000000001234", &id));
  assert_false(HandleTable::ParseRecordKey("PH/open/1234", &id));
  assert_string_equal(HandleTable::GuidKey(MakeGuid(0)).c_str(),
                      "PH/guid/000102030405060708090a0b0c0d0e0f");
}

void test_random_records_through_table(void**) {
  // Seeded records go through grant/fetch unchanged (state aside).
  for (uint64_t seed = 1; seed <= 200; seed++) {
    Fixture f;
    OpenRecord r = testing::RandomRecord(seed);
    Status s = f.table.Grant(r);
    if (!s.ok()) {
      fail_msg("seed %llu: %s", static_cast<unsigned long long>(seed),
               s.ToString().c_str());
    }
    OpenRecord got;
    ExpectOk(f.table.Fetch(r.persistent_id, &got));
    r.state = OpenState::kConnected;
    r.disconnect_time_us = 0;
    r.sequence = 1;
    if (got != r) {
      fail_msg("seed %llu: fetched record differs",
               static_cast<unsigned long long>(seed));
    }
  }
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_release_sync_policy, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_grant_stores_synced, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_grant_invalid_refused, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_store_failure_on_grant, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_disconnect_reconnect, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_reconnect_by_create_guid, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_reconnect_refusals, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_reconnect_connected_refused, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_oplock_open_ignores_client_guid,
                                      Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_replay_lookup, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_lock_sequence, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_locks_add_remove, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_too_many_locks, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_store_failure_on_update, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_update_lease, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_set_lock_sequence, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_set_delete_on_close, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_path_index, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_file_index, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_release, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_expiry_sweep, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_disconnect_server_batched, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_disconnect_server, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_open_conflict, Setup, Teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_record_isolated, Setup,
                                      Teardown),
      cmocka_unit_test_setup_teardown(test_record_under_wrong_key, Setup,
                                      Teardown),
      cmocka_unit_test(test_keys),
      cmocka_unit_test(test_random_records_through_table),
  };
  return cmocka_run_group_tests_name("handle_table", tests, nullptr, nullptr);
}
