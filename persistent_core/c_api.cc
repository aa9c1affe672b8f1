// The extern "C" API over the C++ core.  Nothing C++ crosses it: handles are
// opaque, data is plain, and the core is built without exceptions.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "cookie.h"
#include "handle_table.h"
#include "journal.h"
#include "journaled_store.h"
#include "persistent_core.h"
#include "persistent_record.h"
#include "store.h"

using samba_ca::persistent::ByteRangeLock;
using samba_ca::persistent::CallbackStore;
using samba_ca::persistent::CookieView;
using samba_ca::persistent::FileIdentity;
using samba_ca::persistent::Guid;
using samba_ca::persistent::HandleTable;
using samba_ca::persistent::JournaledStore;
using samba_ca::persistent::OpenRecord;
using samba_ca::persistent::OpenState;
using samba_ca::persistent::ReconnectRequest;
using samba_ca::persistent::ServerId;
using samba_ca::persistent::Status;

// The glue's store, and the journal wrapped around it once attached; the
// tables use whichever is on top, so a journal is attached before any.
struct pcore_store {
  explicit pcore_store(const pcore_store_ops& ops) : callbacks(ops) {}
  samba_ca::persistent::Store* top() {
    if (journaled != nullptr) {
      return journaled.get();
    }
    return &callbacks;
  }
  CallbackStore callbacks;
  std::unique_ptr<JournaledStore> journaled;
  bool has_table = false;
};

struct pcore_table {
  explicit pcore_table(pcore_store* store) : table(store->top()) {}
  HandleTable table;
  std::string last_error;
};

struct pcore_record {
  OpenRecord record;
  std::vector<pcore_lock> locks;
};

namespace {

pcore_status Finish(pcore_table* table, const Status& s) {
  if (s.ok()) {
    table->last_error.clear();
  } else {
    table->last_error = s.ToString();
  }
  return s.code();
}

Guid ToGuid(const uint8_t* bytes) {
  Guid g;
  for (size_t i = 0; i < g.size(); i++) {
    g[i] = bytes[i];
  }
  return g;
}

ServerId ToServerId(const pcore_server_id& id) {
  ServerId s;
  s.vnn = id.vnn;
  s.pid = id.pid;
  s.unique_id = id.unique_id;
  return s;
}

pcore_server_id FromServerId(const ServerId& s) {
  pcore_server_id id;
  id.vnn = s.vnn;
  id.pid = s.pid;
  id.unique_id = s.unique_id;
  return id;
}

// Copies a bounded C string; false if NULL or longer than max_len.
bool CopyString(const char* src, size_t max_len, std::string* dst) {
  if (src == nullptr) {
    return false;
  }
  size_t len = 0;
  while (src[len] != '\0') {
    if (len == max_len) {
      return false;
    }
    len++;
  }
  dst->assign(src, len);
  return true;
}

Status FromOpen(const pcore_open& o, OpenRecord* r) {
  r->persistent_id = o.persistent_id;
  r->volatile_id = o.volatile_id;
  r->create_guid = ToGuid(o.create_guid);
  r->client_guid = ToGuid(o.client_guid);
  r->oplock_level = o.oplock_level;
  r->lease_version = o.lease_version;
  r->lease_key = ToGuid(o.lease_key);
  r->lease_state = o.lease_state;
  r->lease_epoch = o.lease_epoch;
  if (!CopyString(o.owner_sid, PCORE_MAX_SID_LEN, &r->owner_sid)) {
    return Status::Invalid("owner SID missing or too long");
  }
  if (!CopyString(o.share_name, PCORE_MAX_SHARE_NAME_LEN, &r->share_name)) {
    return Status::Invalid("share name missing or too long");
  }
  if (!CopyString(o.path, PCORE_MAX_PATH_LEN, &r->path)) {
    return Status::Invalid("path missing or too long");
  }
  r->owner = ToServerId(o.owner);
  r->access_mask = o.access_mask;
  r->share_access = o.share_access;
  r->create_disposition = o.create_disposition;
  r->create_options = o.create_options;
  r->timeout_ms = o.timeout_ms;
  r->state = OpenState::kConnected;
  r->disconnect_time_us = 0;
  r->sequence = 0;
  if (o.num_locks > PCORE_MAX_LOCKS) {
    return Status(PCORE_TOO_MANY_LOCKS, std::to_string(o.num_locks) + " locks");
  }
  if (o.num_locks != 0 && o.locks == nullptr) {
    return Status::Invalid("locks missing");
  }
  r->locks.clear();
  for (uint32_t i = 0; i < o.num_locks; i++) {
    const pcore_lock& l = o.locks[i];
    if (l.type != PCORE_LOCK_SHARED && l.type != PCORE_LOCK_EXCLUSIVE) {
      return Status::Invalid("lock " + std::to_string(i) + " type " +
                             std::to_string(l.type));
    }
    ByteRangeLock b;
    b.offset = l.offset;
    b.length = l.length;
    b.exclusive = l.type == PCORE_LOCK_EXCLUSIVE;
    b.lock_sequence = l.lock_sequence;
    r->locks.push_back(b);
  }
  for (size_t i = 0; i < r->lock_sequence.size(); i++) {
    r->lock_sequence[i] = o.lock_sequence[i];
  }
  const pcore_create_reply& p = o.reply;
  r->reply.channel_sequence = p.channel_sequence;
  r->reply.create_action = p.create_action;
  r->reply.creation_time = p.creation_time;
  r->reply.last_access_time = p.last_access_time;
  r->reply.last_write_time = p.last_write_time;
  r->reply.change_time = p.change_time;
  r->reply.allocation_size = p.allocation_size;
  r->reply.end_of_file = p.end_of_file;
  r->reply.file_attributes = p.file_attributes;
  r->reply.maximal_access = p.maximal_access;
  r->delete_on_close = o.delete_on_close != 0;
  r->file = FileIdentity();
  if (o.has_identity) {
    r->file.known = true;
    r->file.devid = o.file_id.devid;
    r->file.inode = o.file_id.inode;
    r->file.extid = o.file_id.extid;
    r->file.birth_time = o.birth_time;
    if (o.stream_name != nullptr &&
        !CopyString(o.stream_name, PCORE_MAX_STREAM_NAME_LEN,
                    &r->file.stream_name)) {
      return Status::Invalid("stream name too long");
    }
  }
  return Status::OK();
}

pcore_status NewRecord(pcore_table* table, const OpenRecord& r,
                       pcore_record** out) {
  pcore_record* rec = new (std::nothrow) pcore_record;
  if (rec == nullptr) {
    return Finish(table, Status(PCORE_NO_MEMORY, "record"));
  }
  rec->record = r;
  rec->locks.reserve(r.locks.size());
  for (const ByteRangeLock& b : r.locks) {
    pcore_lock l;
    l.offset = b.offset;
    l.length = b.length;
    l.type = b.exclusive ? PCORE_LOCK_EXCLUSIVE : PCORE_LOCK_SHARED;
    l.lock_sequence = b.lock_sequence;
    rec->locks.push_back(l);
  }
  *out = rec;
  return Finish(table, Status::OK());
}

}  // namespace

extern "C" {

pcore_status pcore_store_new(const pcore_store_ops* ops,
                             pcore_store** store_out) {
  if (ops == nullptr || store_out == nullptr ||
      !CallbackStore::OpsComplete(*ops)) {
    return PCORE_INVALID_PARAMETER;
  }
  pcore_store* store = new (std::nothrow) pcore_store(*ops);
  if (store == nullptr) {
    return PCORE_NO_MEMORY;
  }
  *store_out = store;
  return PCORE_OK;
}

void pcore_store_free(pcore_store* store) { delete store; }

pcore_status pcore_store_attach_journal(pcore_store* store,
                                        const char* journal_path,
                                        const char* boot_id_path,
                                        pcore_journal_report* report) {
  if (store == nullptr || journal_path == nullptr || boot_id_path == nullptr ||
      report == nullptr || store->journaled != nullptr || store->has_table) {
    return PCORE_INVALID_PARAMETER;
  }
  *report = pcore_journal_report();
  uint8_t boot_id[16];
  Status s = samba_ca::persistent::ReadBootId(boot_id_path, boot_id);
  std::unique_ptr<JournaledStore> journaled;
  if (s.ok()) {
    journaled.reset(new (std::nothrow) JournaledStore(&store->callbacks));
    if (journaled == nullptr) {
      s = Status(PCORE_NO_MEMORY, "journaled store");
    }
  }
  if (s.ok()) {
    journaled->set_privileged(store->callbacks.PrivilegedFn());
    journaled->set_log(store->callbacks.LogFn());
    s = journaled->Open(journal_path, boot_id, report);
  }
  if (s.ok()) {
    store->journaled = std::move(journaled);
  } else {
    snprintf(report->problem, sizeof(report->problem), "%s",
             s.ToString().c_str());
  }
  return s.code();
}

pcore_status pcore_store_traverse(pcore_store* store, pcore_traverse_fn fn,
                                  void* traverse_data) {
  if (store == nullptr || fn == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  Status s = store->top()->Traverse(
      [&](const std::string& key, const std::string& value) {
        return fn(reinterpret_cast<const uint8_t*>(key.data()), key.size(),
                  reinterpret_cast<const uint8_t*>(value.data()),
                  value.size(), traverse_data) == 0;
      });
  return s.code();
}

pcore_status pcore_table_new(pcore_store* store, pcore_table** table_out) {
  if (store == nullptr || table_out == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  pcore_table* table = new (std::nothrow) pcore_table(store);
  if (table == nullptr) {
    return PCORE_NO_MEMORY;
  }
  store->has_table = true;
  *table_out = table;
  return PCORE_OK;
}

void pcore_table_free(pcore_table* table) { delete table; }

const char* pcore_table_last_error(const pcore_table* table) {
  return table == nullptr ? "" : table->last_error.c_str();
}

pcore_status pcore_grant(pcore_table* table, const pcore_open* open) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  if (open == nullptr) {
    return Finish(table, Status::Invalid("no open"));
  }
  OpenRecord r;
  Status s = FromOpen(*open, &r);
  if (!s.ok()) {
    return Finish(table, s);
  }
  return Finish(table, table->table.Grant(r));
}

pcore_status pcore_disconnect(pcore_table* table, uint64_t persistent_id,
                              uint64_t now_us) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  return Finish(table, table->table.Disconnect(persistent_id, now_us));
}

pcore_status pcore_disconnect_server(pcore_table* table,
                                     const pcore_server_id* dead,
                                     int whole_node, uint64_t now_us,
                                     uint32_t* count) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  if (dead == nullptr || count == nullptr || now_us == 0) {
    return Finish(table, Status::Invalid("disconnect server arguments"));
  }
  return Finish(table, table->table.DisconnectServer(
                           ToServerId(*dead), whole_node != 0, now_us, count));
}

pcore_status pcore_reconnect(pcore_table* table,
                             const pcore_reconnect_request* req,
                             uint64_t now_us, pcore_record** record_out) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  if (req == nullptr || record_out == nullptr) {
    return Finish(table, Status::Invalid("no reconnect request"));
  }
  ReconnectRequest r;
  r.persistent_id = req->persistent_id;
  r.create_guid = ToGuid(req->create_guid);
  r.client_guid = ToGuid(req->client_guid);
  r.persistent_flag = req->persistent_flag != 0;
  r.has_lease = req->has_lease != 0;
  r.lease_key = ToGuid(req->lease_key);
  r.lease_version = req->lease_version;
  if (!CopyString(req->owner_sid, PCORE_MAX_SID_LEN, &r.owner_sid) ||
      !CopyString(req->share_name, PCORE_MAX_SHARE_NAME_LEN, &r.share_name)) {
    return Finish(table, Status::Invalid("reconnect user or share"));
  }
  r.new_owner = ToServerId(req->new_owner);
  r.new_volatile_id = req->new_volatile_id;
  OpenRecord out;
  Status s = table->table.Reconnect(r, now_us, &out);
  if (!s.ok()) {
    return Finish(table, s);
  }
  return NewRecord(table, out, record_out);
}

pcore_status pcore_lookup_replay(pcore_table* table,
                                 const uint8_t create_guid[PCORE_GUID_SIZE],
                                 const uint8_t client_guid[PCORE_GUID_SIZE],
                                 pcore_record** record_out) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  if (create_guid == nullptr || client_guid == nullptr ||
      record_out == nullptr) {
    return Finish(table, Status::Invalid("replay lookup arguments"));
  }
  OpenRecord out;
  Status s =
      table->table.LookupReplay(ToGuid(create_guid), ToGuid(client_guid), &out);
  if (!s.ok()) {
    return Finish(table, s);
  }
  return NewRecord(table, out, record_out);
}

pcore_status pcore_fetch(pcore_table* table, uint64_t persistent_id,
                         pcore_record** record_out) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  if (record_out == nullptr) {
    return Finish(table, Status::Invalid("no record pointer"));
  }
  OpenRecord out;
  Status s = table->table.Fetch(persistent_id, &out);
  if (!s.ok()) {
    return Finish(table, s);
  }
  return NewRecord(table, out, record_out);
}

void pcore_table_set_sync_release(pcore_table* table, int sync) {
  if (table != nullptr) {
    table->table.set_sync_release(sync != 0);
  }
}

pcore_status pcore_release(pcore_table* table, uint64_t persistent_id) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  return Finish(table, table->table.Release(persistent_id));
}

pcore_status pcore_lock_sequence_check(pcore_table* table,
                                       uint64_t persistent_id,
                                       uint32_t lock_sequence, int* is_replay) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  if (is_replay == nullptr) {
    return Finish(table, Status::Invalid("no replay flag"));
  }
  bool replay = false;
  Status s =
      table->table.CheckLockSequence(persistent_id, lock_sequence, &replay);
  *is_replay = replay ? 1 : 0;
  return Finish(table, s);
}

pcore_status pcore_lock_add(pcore_table* table, uint64_t persistent_id,
                            const pcore_lock* lock, uint32_t lock_sequence) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  if (lock == nullptr ||
      (lock->type != PCORE_LOCK_SHARED && lock->type != PCORE_LOCK_EXCLUSIVE)) {
    return Finish(table, Status::Invalid("lock missing or of unknown type"));
  }
  ByteRangeLock b;
  b.offset = lock->offset;
  b.length = lock->length;
  b.exclusive = lock->type == PCORE_LOCK_EXCLUSIVE;
  return Finish(table, table->table.AddLock(persistent_id, b, lock_sequence));
}

pcore_status pcore_lock_remove(pcore_table* table, uint64_t persistent_id,
                               uint64_t offset, uint64_t length,
                               uint32_t lock_sequence) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  return Finish(table, table->table.RemoveLock(persistent_id, offset, length,
                                               lock_sequence));
}

pcore_status pcore_update_lease(pcore_table* table, uint64_t persistent_id,
                                uint8_t oplock_level, uint32_t lease_state,
                                uint16_t lease_epoch) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  return Finish(table, table->table.UpdateLease(persistent_id, oplock_level,
                                                lease_state, lease_epoch));
}

pcore_status pcore_set_lock_sequence(pcore_table* table,
                                     uint64_t persistent_id,
                                     uint32_t lock_sequence) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  return Finish(table,
                table->table.SetLockSequence(persistent_id, lock_sequence));
}

pcore_status pcore_update_path(pcore_table* table, uint64_t persistent_id,
                               const char* path) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  std::string p;
  if (!CopyString(path, PCORE_MAX_PATH_LEN, &p)) {
    return Finish(table, Status::Invalid("path missing or too long"));
  }
  return Finish(table, table->table.UpdatePath(persistent_id, p));
}

pcore_status pcore_set_delete_on_close(pcore_table* table,
                                       uint64_t persistent_id,
                                       int delete_on_close) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  return Finish(table, table->table.SetDeleteOnClose(persistent_id,
                                                     delete_on_close != 0));
}

pcore_status pcore_check_open_conflict(pcore_table* table,
                                       const char* share_name, const char* path,
                                       uint64_t now_us) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  std::string share;
  std::string p;
  if (!CopyString(share_name, PCORE_MAX_SHARE_NAME_LEN, &share) ||
      !CopyString(path, PCORE_MAX_PATH_LEN, &p)) {
    return Finish(table, Status::Invalid("share or path"));
  }
  return Finish(table, table->table.CheckOpenConflict(share, p, now_us));
}

pcore_status pcore_sweep(pcore_table* table, uint64_t now_us, pcore_sweep_fn fn,
                         void* sweep_data) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  if (fn == nullptr) {
    return Finish(table, Status::Invalid("no sweep callback"));
  }
  Status s = table->table.Sweep(now_us, [&](uint64_t id, const Status& why) {
    fn(id, why.code(), why.message().c_str(), sweep_data);
  });
  return Finish(table, s);
}

namespace {

// An index lookup's answer: its status, or each id to fn until fn says stop.
pcore_status VisitIds(pcore_table* table, const Status& looked_up,
                      const std::vector<uint64_t>& ids, pcore_id_fn fn,
                      void* id_data) {
  Finish(table, looked_up);
  if (!looked_up.ok()) {
    return looked_up.code();
  }
  for (uint64_t id : ids) {
    if (fn(id, id_data) != 0) {
      break;
    }
  }
  return PCORE_OK;
}

}  // namespace

pcore_status pcore_path_ids(pcore_table* table, const char* share_name,
                            const char* path, pcore_id_fn fn, void* id_data) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  std::string share;
  std::string p;
  if (fn == nullptr || !CopyString(share_name, PCORE_MAX_SHARE_NAME_LEN,
                                   &share) ||
      !CopyString(path, PCORE_MAX_PATH_LEN, &p)) {
    return Finish(table, Status::Invalid("share, path or callback"));
  }
  std::vector<uint64_t> ids;
  Status s = table->table.PathIds(share, p, &ids);
  return VisitIds(table, s, ids, fn, id_data);
}

pcore_status pcore_file_ids(pcore_table* table, const pcore_file_id* file_id,
                            pcore_id_fn fn, void* id_data) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  if (fn == nullptr || file_id == nullptr) {
    return Finish(table, Status::Invalid("file id or callback"));
  }
  FileIdentity f;
  f.known = true;
  f.devid = file_id->devid;
  f.inode = file_id->inode;
  f.extid = file_id->extid;
  std::vector<uint64_t> ids;
  Status s = table->table.FileIds(f, &ids);
  return VisitIds(table, s, ids, fn, id_data);
}

pcore_status pcore_reindex(pcore_table* table, uint32_t* fixed) {
  if (table == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  uint32_t n = 0;
  Status s = table->table.Reindex(&n);
  if (fixed != nullptr) {
    *fixed = n;
  }
  return Finish(table, s);
}

void pcore_record_view(const pcore_record* record, pcore_open* view) {
  const OpenRecord& r = record->record;
  *view = pcore_open();
  view->persistent_id = r.persistent_id;
  view->volatile_id = r.volatile_id;
  for (size_t i = 0; i < PCORE_GUID_SIZE; i++) {
    view->create_guid[i] = r.create_guid[i];
    view->client_guid[i] = r.client_guid[i];
    view->lease_key[i] = r.lease_key[i];
  }
  view->oplock_level = r.oplock_level;
  view->lease_version = r.lease_version;
  view->lease_state = r.lease_state;
  view->lease_epoch = r.lease_epoch;
  view->owner_sid = r.owner_sid.c_str();
  view->share_name = r.share_name.c_str();
  view->path = r.path.c_str();
  view->owner = FromServerId(r.owner);
  view->access_mask = r.access_mask;
  view->share_access = r.share_access;
  view->create_disposition = r.create_disposition;
  view->create_options = r.create_options;
  view->timeout_ms = r.timeout_ms;
  view->state = static_cast<uint32_t>(r.state);
  view->disconnect_time_us = r.disconnect_time_us;
  view->sequence = r.sequence;
  view->locks = record->locks.empty() ? nullptr : record->locks.data();
  view->num_locks = static_cast<uint32_t>(record->locks.size());
  for (size_t i = 0; i < r.lock_sequence.size(); i++) {
    view->lock_sequence[i] = r.lock_sequence[i];
  }
  pcore_create_reply& p = view->reply;
  p.channel_sequence = r.reply.channel_sequence;
  p.create_action = r.reply.create_action;
  p.creation_time = r.reply.creation_time;
  p.last_access_time = r.reply.last_access_time;
  p.last_write_time = r.reply.last_write_time;
  p.change_time = r.reply.change_time;
  p.allocation_size = r.reply.allocation_size;
  p.end_of_file = r.reply.end_of_file;
  p.file_attributes = r.reply.file_attributes;
  p.maximal_access = r.reply.maximal_access;
  view->has_identity = r.file.known ? 1 : 0;
  view->file_id.devid = r.file.devid;
  view->file_id.inode = r.file.inode;
  view->file_id.extid = r.file.extid;
  view->birth_time = r.file.birth_time;
  view->stream_name = r.file.stream_name.c_str();
  view->delete_on_close = r.delete_on_close ? 1 : 0;
}

void pcore_record_free(pcore_record* record) { delete record; }

int pcore_cookie_is_ours(const uint8_t* cookie, size_t cookie_len) {
  return samba_ca::persistent::IsPersistentCookie(cookie, cookie_len) ? 1 : 0;
}

pcore_status pcore_cookie_encode(uint64_t persistent_id, const uint8_t* inner,
                                 size_t inner_len, uint8_t* out,
                                 size_t out_len) {
  if (out == nullptr || inner_len > out_len ||
      out_len - inner_len != PCORE_COOKIE_HEADER_SIZE) {
    return PCORE_INVALID_PARAMETER;
  }
  std::string bytes;
  Status s = samba_ca::persistent::EncodeCookie(persistent_id, inner, inner_len,
                                                &bytes);
  if (!s.ok()) {
    return s.code();
  }
  std::copy(bytes.begin(), bytes.end(), out);
  return PCORE_OK;
}

pcore_status pcore_cookie_decode(const uint8_t* cookie, size_t cookie_len,
                                 pcore_cookie* out) {
  if (out == nullptr) {
    return PCORE_INVALID_PARAMETER;
  }
  *out = pcore_cookie();
  CookieView view;
  Status s = samba_ca::persistent::DecodeCookie(cookie, cookie_len, &view);
  if (!s.ok()) {
    snprintf(out->problem, sizeof(out->problem), "%s", s.message().c_str());
    return s.code();
  }
  out->persistent_id = view.persistent_id;
  out->inner_offset = view.inner_offset;
  out->inner_len = view.inner_length;
  return PCORE_OK;
}

}  // extern "C"
