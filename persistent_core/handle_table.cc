// Persistent-handle logic over a Store.
#include "handle_table.h"

#include <map>
#include <vector>

#include "coding.h"

namespace samba_ca {
namespace persistent {
namespace {

constexpr char kRecordPrefix[] = "PH/open/";
constexpr char kGuidPrefix[] = "PH/guid/";
constexpr char kPathPrefix[] = "PH/path/";
constexpr char kFilePrefix[] = "PH/file/";
constexpr int kMaxUpdateAttempts = 4;
constexpr uint32_t kLockSequenceEntries = PCORE_LOCK_SEQUENCE_ENTRIES;

void AppendHex(std::string* out, uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; i--) {
    out->push_back(kHex[(value >> (4 * i)) & 0xF]);
  }
}

// [MS-SMB2] 2.2.26: LockSequenceNumber is the low 4 bits, LockSequenceIndex
// the 28 bits above; index 1..64 addresses Open.LockSequenceArray.
bool LockSequenceSlot(uint32_t lock_sequence, uint32_t* slot, uint8_t* number) {
  uint32_t index = lock_sequence >> 4;
  if (index == 0 || index > kLockSequenceEntries) {
    return false;
  }
  *slot = index - 1;
  *number = static_cast<uint8_t>(lock_sequence & 0xF);
  return true;
}

void RecordLockSequence(OpenRecord* r, uint32_t lock_sequence) {
  uint32_t slot;
  uint8_t number;
  if (LockSequenceSlot(lock_sequence, &slot, &number)) {
    r->lock_sequence[slot] = number;
  }
}

// A path index value: the persistent ids, u64 LE each.
bool DecodeIds(const std::string& value, std::vector<uint64_t>* ids) {
  ids->clear();
  if (value.size() % 8 != 0) {
    return false;
  }
  Decoder d(reinterpret_cast<const uint8_t*>(value.data()), value.size());
  for (size_t i = 0; i < value.size() / 8; i++) {
    uint64_t id = 0;
    d.GetFixed64(&id, "persistent id");
    ids->push_back(id);
  }
  return !d.failed();
}

std::string EncodeIds(const std::vector<uint64_t>& ids) {
  std::string value;
  for (uint64_t id : ids) {
    PutFixed64(&value, id);
  }
  return value;
}

}  // namespace

std::string HandleTable::PathKey(const std::string& share_name,
                                 const std::string& path) {
  std::string key = kPathPrefix;
  key += share_name;
  key.push_back('\0');  // share names hold no NUL, so the split is unique
  key += path;
  return key;
}

std::string HandleTable::FileKey(const FileIdentity& file) {
  std::string key = kFilePrefix;
  AppendHex(&key, file.devid, 16);
  key.push_back(':');
  AppendHex(&key, file.inode, 16);
  key.push_back(':');
  AppendHex(&key, file.extid, 16);
  return key;
}

std::string HandleTable::IndexKey(const OpenRecord& record) {
  return record.file.known ? FileKey(record.file)
                           : PathKey(record.share_name, record.path);
}

Status HandleTable::IdsAt(const std::string& index_key,
                          std::vector<uint64_t>* ids) {
  ids->clear();
  std::string value;
  Status s = store_->Get(index_key, &value);
  if (s.code() == PCORE_NOT_FOUND) {
    return Status::OK();
  }
  if (!s.ok()) {
    return s;
  }
  if (!DecodeIds(value, ids)) {
    return Status::Corrupt("index entry " + index_key + " holds " +
                           std::to_string(value.size()) + " bytes");
  }
  return Status::OK();
}

Status HandleTable::PathIds(const std::string& share_name,
                            const std::string& path,
                            std::vector<uint64_t>* ids) {
  return IdsAt(PathKey(share_name, path), ids);
}

Status HandleTable::FileIds(const FileIdentity& file,
                            std::vector<uint64_t>* ids) {
  return IdsAt(FileKey(file), ids);
}

std::string HandleTable::RecordKey(uint64_t persistent_id) {
  std::string key = kRecordPrefix;
  AppendHex(&key, persistent_id, 16);
  return key;
}

std::string HandleTable::GuidKey(const Guid& create_guid) {
  std::string key = kGuidPrefix;
  for (uint8_t b : create_guid) {
    AppendHex(&key, b, 2);
  }
  return key;
}

bool HandleTable::ParseRecordKey(const std::string& key,
                                 uint64_t* persistent_id) {
  const size_t prefix_len = sizeof(kRecordPrefix) - 1;
  if (key.size() != prefix_len + 16 ||
      key.compare(0, prefix_len, kRecordPrefix) != 0) {
    return false;
  }
  uint64_t id = 0;
  for (size_t i = prefix_len; i < key.size(); i++) {
    char c = key[i];
    uint64_t v;
    if (c >= '0' && c <= '9') {
      v = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    id = (id << 4) | v;
  }
  *persistent_id = id;
  return true;
}

bool HandleTable::IsExpired(const OpenRecord& r, uint64_t now_us) {
  if (r.state != OpenState::kDisconnected) {
    return false;
  }
  uint64_t timeout_us = static_cast<uint64_t>(r.timeout_ms) * 1000;
  if (r.disconnect_time_us > UINT64_MAX - timeout_us) {
    return false;  // expires beyond the end of time
  }
  return r.disconnect_time_us + timeout_us <= now_us;
}

Status HandleTable::Load(uint64_t persistent_id, OpenRecord* r,
                         std::string* raw) {
  std::string key = RecordKey(persistent_id);
  Status s = store_->Get(key, raw);
  if (!s.ok()) {
    if (s.code() == PCORE_NOT_FOUND) {
      return Status(PCORE_NOT_FOUND, "no record " + key);
    }
    return Status(s.code(), key + ": " + s.message());
  }
  s = DecodeRecord(reinterpret_cast<const uint8_t*>(raw->data()), raw->size(),
                   r);
  if (!s.ok()) {
    return Status(s.code(), "record " + key + ": " + s.message());
  }
  if (r->persistent_id != persistent_id) {
    return Status::Corrupt("record " + key + " holds persistent id " +
                           std::to_string(r->persistent_id));
  }
  return Status::OK();
}

Status HandleTable::Update(uint64_t persistent_id, const Mutation& mutate) {
  Status s;
  for (int attempt = 0; attempt < kMaxUpdateAttempts; attempt++) {
    OpenRecord r;
    std::string raw;
    s = Load(persistent_id, &r, &raw);
    if (!s.ok()) {
      return s;
    }
    bool write = true;
    s = mutate(&r, &write);
    if (!s.ok() || !write) {
      return s;
    }
    r.sequence++;
    std::string encoded;
    s = EncodeRecord(r, &encoded);
    if (!s.ok()) {
      return s;
    }
    WriteBatch batch;
    std::string key = RecordKey(persistent_id);
    batch.ExpectValue(key, raw);
    batch.Put(key, encoded);
    s = store_->Apply(batch, true);
    if (s.code() != PCORE_STORE_CONFLICT) {
      return s;
    }
  }
  return s;
}

Status HandleTable::Grant(const OpenRecord& open) {
  OpenRecord r = open;
  r.state = OpenState::kConnected;
  r.disconnect_time_us = 0;
  r.sequence = 1;
  std::string encoded;
  Status s = EncodeRecord(r, &encoded);
  if (!s.ok()) {
    return s;
  }
  std::string id_value;
  PutFixed64(&id_value, r.persistent_id);
  std::string key = RecordKey(r.persistent_id);
  std::string guid_key = GuidKey(r.create_guid);
  std::string path_key = IndexKey(r);
  for (int attempt = 0; attempt < kMaxUpdateAttempts; attempt++) {
    // The record, its create GUID and its file's index entry go to the
    // store in one synced transaction.
    std::string old_index;
    Status g = store_->Get(path_key, &old_index);
    if (!g.ok() && g.code() != PCORE_NOT_FOUND) {
      return g;
    }
    std::vector<uint64_t> ids;
    if (g.ok() && !DecodeIds(old_index, &ids)) {
      ids.clear();  // an unreadable index is rebuilt from this grant on
    }
    ids.push_back(r.persistent_id);
    WriteBatch batch;
    batch.set_new_open();
    batch.ExpectAbsent(key);
    batch.ExpectAbsent(guid_key);
    if (g.ok()) {
      batch.ExpectValue(path_key, old_index);
    } else {
      batch.ExpectAbsent(path_key);
    }
    batch.Put(key, encoded);
    batch.Put(guid_key, id_value);
    batch.Put(path_key, EncodeIds(ids));
    s = store_->Apply(batch, true);
    if (s.code() != PCORE_STORE_CONFLICT) {
      return s;
    }
    std::string probe;
    if (store_->Get(key, &probe).ok() || store_->Get(guid_key, &probe).ok()) {
      return Status(PCORE_ALREADY_EXISTS,
                    key + " or " + guid_key + " is already stored");
    }
    // only the index changed underneath (another open of the file): retry
  }
  return s;
}

Status HandleTable::Disconnect(uint64_t persistent_id, uint64_t now_us) {
  if (now_us == 0) {
    return Status::Invalid("disconnect time 0");
  }
  return Update(persistent_id, [now_us](OpenRecord* r, bool*) {
    if (r->state != OpenState::kConnected) {
      return Status(PCORE_NOT_CONNECTED, "already disconnected");
    }
    r->state = OpenState::kDisconnected;
    r->disconnect_time_us = now_us;
    return Status::OK();
  });
}

Status HandleTable::DisconnectServer(const ServerId& dead, bool whole_node,
                                     uint64_t now_us, uint32_t* count) {
  *count = 0;
  std::vector<uint64_t> ids;
  Status s =
      store_->Traverse([&](const std::string& key, const std::string& value) {
        uint64_t id;
        OpenRecord r;
        if (!ParseRecordKey(key, &id) ||
            !DecodeRecord(reinterpret_cast<const uint8_t*>(value.data()),
                          value.size(), &r)
                 .ok()) {
          return true;
        }
        bool owned = whole_node ? r.owner.vnn == dead.vnn : r.owner == dead;
        if (owned && r.state == OpenState::kConnected) {
          ids.push_back(id);
        }
        return true;
      });
  if (!s.ok()) {
    return s;
  }
  // One synced batch for all of them (one flush, not one per open), each
  // record expected as read; should any have changed meanwhile, record by
  // record below.
  {
    WriteBatch batch;
    uint32_t batched = 0;
    for (uint64_t id : ids) {
      OpenRecord r;
      std::string raw;
      std::string encoded;
      if (!Load(id, &r, &raw).ok()) {
        continue;
      }
      bool owned = whole_node ? r.owner.vnn == dead.vnn : r.owner == dead;
      if (!owned || r.state != OpenState::kConnected) {
        continue;
      }
      r.state = OpenState::kDisconnected;
      r.disconnect_time_us = now_us;
      r.sequence++;
      if (!EncodeRecord(r, &encoded).ok()) {
        continue;
      }
      batch.ExpectValue(RecordKey(id), raw);
      batch.Put(RecordKey(id), encoded);
      batched++;
    }
    if (batched == 0) {
      return s;
    }
    Status a = store_->Apply(batch, true);
    if (a.ok()) {
      *count = batched;
      return s;
    }
    if (a.code() != PCORE_STORE_CONFLICT) {
      return a;
    }
  }
  for (uint64_t id : ids) {
    Status d = Update(id, [&](OpenRecord* r, bool* write) {
      bool owned = whole_node ? r->owner.vnn == dead.vnn : r->owner == dead;
      if (!owned || r->state != OpenState::kConnected) {
        *write = false;  // reconnected or taken over meanwhile
        return Status::OK();
      }
      r->state = OpenState::kDisconnected;
      r->disconnect_time_us = now_us;
      (*count)++;
      return Status::OK();
    });
    if (!d.ok() && d.code() != PCORE_NOT_FOUND) {
      s = d;  // keep going; report the last failure
    }
  }
  return s;
}

Status HandleTable::Reconnect(const ReconnectRequest& req, uint64_t now_us,
                              OpenRecord* out) {
  uint64_t id = req.persistent_id;
  OpenRecord probe;
  std::string raw;
  Status s = Load(id, &probe, &raw);
  if (s.code() == PCORE_NOT_FOUND && req.persistent_flag) {
    // 3.3.5.9.12: a persistent reconnect falls back to the create GUID.
    std::string value;
    Status g = store_->Get(GuidKey(req.create_guid), &value);
    if (g.ok() && value.size() == 8) {
      Decoder d(reinterpret_cast<const uint8_t*>(value.data()), 8);
      d.GetFixed64(&id, "persistent id");
      s = Load(id, &probe, &raw);
    }
  }
  if (!s.ok()) {
    return s;
  }
  auto checks = [&](OpenRecord* r, bool*) -> Status {
    if (!req.persistent_flag) {
      return Status(PCORE_PERSISTENT_FLAG_MISMATCH,
                    "reconnect of a persistent open without the flag");
    }
    if (r->create_guid != req.create_guid) {
      return Status(PCORE_CREATE_GUID_MISMATCH, RecordKey(id));
    }
    if (r->state != OpenState::kDisconnected) {
      return Status(PCORE_NOT_DISCONNECTED, RecordKey(id));
    }
    if (IsExpired(*r, now_us)) {
      return Status(PCORE_EXPIRED, RecordKey(id));
    }
    bool leased = r->oplock_level == PCORE_OPLOCK_LEASE;
    if (leased && r->client_guid != req.client_guid) {
      return Status(PCORE_CLIENT_GUID_MISMATCH, RecordKey(id));
    }
    // [MS-SMB2] 3.3.5.9.12: the DH2C's lease context names the open's
    // lease, key and version; checked before the record is touched, so a
    // refused reconnect leaves the disconnect time as it was.
    if (leased != req.has_lease ||
        (leased && (r->lease_key != req.lease_key ||
                    r->lease_version != req.lease_version))) {
      return Status(PCORE_LEASE_MISMATCH, RecordKey(id));
    }
    if (r->owner_sid != req.owner_sid) {
      return Status(PCORE_USER_MISMATCH, RecordKey(id) + " belongs to " +
                                             r->owner_sid + ", not " +
                                             req.owner_sid);
    }
    if (r->share_name != req.share_name) {
      return Status(PCORE_SHARE_MISMATCH,
                    RecordKey(id) + " is on share " + r->share_name);
    }
    r->state = OpenState::kConnected;
    r->disconnect_time_us = 0;
    r->owner = req.new_owner;
    r->volatile_id = req.new_volatile_id;
    *out = *r;
    out->sequence = r->sequence + 1;  // as Update stores it
    return Status::OK();
  };
  return Update(id, checks);
}

Status HandleTable::LookupReplay(const Guid& create_guid,
                                 const Guid& client_guid, OpenRecord* out) {
  std::string guid_key = GuidKey(create_guid);
  std::string value;
  Status s = store_->Get(guid_key, &value);
  if (!s.ok()) {
    if (s.code() == PCORE_NOT_FOUND) {
      return Status(PCORE_NOT_FOUND, "no record for " + guid_key);
    }
    return s;
  }
  if (value.size() != 8) {
    return Status::Corrupt(guid_key + " holds " + std::to_string(value.size()) +
                           " bytes, not 8");
  }
  uint64_t id = 0;
  Decoder d(reinterpret_cast<const uint8_t*>(value.data()), 8);
  d.GetFixed64(&id, "persistent id");
  std::string raw;
  s = Load(id, out, &raw);
  if (!s.ok()) {
    return s;
  }
  if (out->create_guid != create_guid || out->client_guid != client_guid) {
    return Status(PCORE_NOT_FOUND, "no open of this client for " + guid_key);
  }
  return Status::OK();
}

Status HandleTable::Fetch(uint64_t persistent_id, OpenRecord* out) {
  std::string raw;
  return Load(persistent_id, out, &raw);
}

Status HandleTable::Release(uint64_t persistent_id) {
  std::string key = RecordKey(persistent_id);
  Status s;
  for (int attempt = 0; attempt < kMaxUpdateAttempts; attempt++) {
    OpenRecord r;
    std::string raw;
    s = Load(persistent_id, &r, &raw);
    WriteBatch batch;
    if (s.ok()) {
      batch.ExpectValue(key, raw);
      batch.Delete(GuidKey(r.create_guid));
      // The file's index entry goes in the same transaction.
      std::string path_key = IndexKey(r);
      std::string old_index;
      Status g = store_->Get(path_key, &old_index);
      if (!g.ok() && g.code() != PCORE_NOT_FOUND) {
        return g;
      }
      std::vector<uint64_t> ids;
      if (g.ok()) {
        batch.ExpectValue(path_key, old_index);
        DecodeIds(old_index, &ids);
        std::vector<uint64_t> left;
        for (uint64_t id : ids) {
          if (id != persistent_id) {
            left.push_back(id);
          }
        }
        if (left.empty()) {
          batch.Delete(path_key);
        } else {
          batch.Put(path_key, EncodeIds(left));
        }
      }
    } else if (s.code() == PCORE_CORRUPT_RECORD ||
               s.code() == PCORE_UNKNOWN_VERSION) {
      // A record we cannot read is still removed; its GUID and index
      // entries, if any, point nowhere and read as not found.
      batch.ExpectValue(key, raw);
    } else {
      return s;
    }
    batch.Delete(key);
    s = store_->Apply(batch, sync_release_);
    if (s.code() != PCORE_STORE_CONFLICT) {
      return s;
    }
  }
  return s;
}

Status HandleTable::Reindex(uint32_t* fixed) {
  *fixed = 0;
  std::map<std::string, std::vector<uint64_t>> found;  // index key -> ids
  Status s =
      store_->Traverse([&](const std::string& key, const std::string& value) {
        uint64_t id;
        OpenRecord r;
        if (key.compare(0, sizeof(kPathPrefix) - 1, kPathPrefix) == 0 ||
            key.compare(0, sizeof(kFilePrefix) - 1, kFilePrefix) == 0) {
          found.emplace(key, std::vector<uint64_t>());
          return true;
        }
        if (!ParseRecordKey(key, &id) ||
            !DecodeRecord(reinterpret_cast<const uint8_t*>(value.data()),
                          value.size(), &r)
                 .ok() ||
            r.persistent_id != id) {
          return true;
        }
        found[IndexKey(r)].push_back(id);
        return true;
      });
  if (!s.ok()) {
    return s;
  }
  for (const auto& f : found) {
    std::string old_index;
    Status g = store_->Get(f.first, &old_index);
    if (!g.ok() && g.code() != PCORE_NOT_FOUND) {
      return g;
    }
    std::vector<uint64_t> ids;
    if (g.ok()) {
      DecodeIds(old_index, &ids);
    }
    // Keep the ids whose record exists (a grant writes both at once), add
    // the records the index lacks (a store of an older version).
    std::vector<uint64_t> want;
    for (uint64_t id : ids) {
      std::string probe;
      if (store_->Get(RecordKey(id), &probe).ok()) {
        want.push_back(id);
      }
    }
    for (uint64_t id : f.second) {
      bool have = false;
      for (uint64_t w : want) {
        have = have || w == id;
      }
      if (!have) {
        want.push_back(id);
      }
    }
    std::string value = EncodeIds(want);
    if (g.ok() && value == old_index) {
      continue;
    }
    if (!g.ok() && want.empty()) {
      continue;
    }
    WriteBatch batch;
    if (g.ok()) {
      batch.ExpectValue(f.first, old_index);
    } else {
      batch.ExpectAbsent(f.first);
    }
    if (want.empty()) {
      batch.Delete(f.first);
    } else {
      batch.Put(f.first, value);
    }
    Status a = store_->Apply(batch, true);
    if (a.ok()) {
      (*fixed)++;
    } else if (a.code() != PCORE_STORE_CONFLICT) {
      return a;  // a conflict: a grant or close just did it; leave it
    }
  }
  return Status::OK();
}

Status HandleTable::CheckLockSequence(uint64_t persistent_id,
                                      uint32_t lock_sequence, bool* is_replay) {
  *is_replay = false;
  uint32_t slot;
  uint8_t number;
  if (!LockSequenceSlot(lock_sequence, &slot, &number)) {
    // Still check that the open exists and is readable.
    OpenRecord r;
    return Fetch(persistent_id, &r);
  }
  return Update(persistent_id, [&](OpenRecord* r, bool* write) {
    uint8_t entry = r->lock_sequence[slot];
    *write = false;
    if (entry == kLockSequenceInvalid) {
      return Status::OK();
    }
    if (entry == number) {
      *is_replay = true;
      return Status::OK();
    }
    r->lock_sequence[slot] = kLockSequenceInvalid;
    *write = true;
    return Status::OK();
  });
}

Status HandleTable::AddLock(uint64_t persistent_id, const ByteRangeLock& lock,
                            uint32_t lock_sequence) {
  if (lock.length != 0 && lock.offset > UINT64_MAX - (lock.length - 1)) {
    return Status::Invalid("lock range wraps around");
  }
  return Update(persistent_id, [&](OpenRecord* r, bool*) {
    if (r->locks.size() >= PCORE_MAX_LOCKS) {
      return Status(PCORE_TOO_MANY_LOCKS, RecordKey(persistent_id) + " holds " +
                                              std::to_string(r->locks.size()) +
                                              " locks");
    }
    ByteRangeLock l = lock;
    l.lock_sequence = lock_sequence;
    r->locks.push_back(l);
    RecordLockSequence(r, lock_sequence);
    return Status::OK();
  });
}

Status HandleTable::SetLockSequence(uint64_t persistent_id,
                                    uint32_t lock_sequence) {
  uint32_t slot;
  uint8_t number;
  if (!LockSequenceSlot(lock_sequence, &slot, &number)) {
    return Status::Invalid("lock sequence index " +
                           std::to_string(lock_sequence >> 4) +
                           " outside 1..64");
  }
  return Update(persistent_id, [&](OpenRecord* r, bool* write) {
    if (r->lock_sequence[slot] == number) {
      *write = false;  // a repeat: nothing new to store
      return Status::OK();
    }
    r->lock_sequence[slot] = number;
    return Status::OK();
  });
}

Status HandleTable::RemoveLock(uint64_t persistent_id, uint64_t offset,
                               uint64_t length, uint32_t lock_sequence) {
  return Update(persistent_id, [&](OpenRecord* r, bool*) {
    for (auto it = r->locks.begin(); it != r->locks.end(); ++it) {
      if (it->offset == offset && it->length == length) {
        r->locks.erase(it);
        RecordLockSequence(r, lock_sequence);
        return Status::OK();
      }
    }
    return Status(PCORE_LOCK_NOT_FOUND, "no lock at " + std::to_string(offset) +
                                            "+" + std::to_string(length));
  });
}

Status HandleTable::UpdateLease(uint64_t persistent_id, uint8_t oplock_level,
                                uint32_t lease_state, uint16_t lease_epoch) {
  return Update(persistent_id, [&](OpenRecord* r, bool*) {
    bool was_leased = r->oplock_level == PCORE_OPLOCK_LEASE;
    bool leased = oplock_level == PCORE_OPLOCK_LEASE;
    if (was_leased != leased) {
      return Status::Invalid("cannot switch between lease and oplock");
    }
    r->oplock_level = oplock_level;
    if (leased) {
      r->lease_state = lease_state;
      r->lease_epoch = lease_epoch;
    } else if (lease_state != 0 || lease_epoch != 0) {
      return Status::Invalid("lease state on an oplock");
    }
    return Status::OK();  // Update's encoder checks the values
  });
}

Status HandleTable::UpdatePath(uint64_t persistent_id,
                               const std::string& path) {
  return Update(persistent_id, [&](OpenRecord* r, bool* write) {
    if (!r->file.known) {
      // its index entry is its path: a rename would orphan it
      return Status::Invalid("record without a file identity");
    }
    if (r->path == path) {
      *write = false;
      return Status::OK();
    }
    r->path = path;
    return Status::OK();  // Update's encoder checks the path
  });
}

Status HandleTable::SetDeleteOnClose(uint64_t persistent_id,
                                     bool delete_on_close) {
  return Update(persistent_id, [&](OpenRecord* r, bool* write) {
    if (r->delete_on_close == delete_on_close) {
      *write = false;  // a repeat: nothing new to store
      return Status::OK();
    }
    r->delete_on_close = delete_on_close;
    return Status::OK();
  });
}

Status HandleTable::CheckOpenConflict(const std::string& share_name,
                                      const std::string& path,
                                      uint64_t now_us) {
  uint64_t holder = 0;
  bool held = false;
  Status s =
      store_->Traverse([&](const std::string& key, const std::string& value) {
        uint64_t id;
        OpenRecord r;
        if (!ParseRecordKey(key, &id) ||
            !DecodeRecord(reinterpret_cast<const uint8_t*>(value.data()),
                          value.size(), &r)
                 .ok()) {
          return true;
        }
        if (r.state == OpenState::kDisconnected && !IsExpired(r, now_us) &&
            r.share_name == share_name && r.path == path) {
          held = true;
          holder = id;
          return false;
        }
        return true;
      });
  if (!s.ok()) {
    return s;
  }
  if (held) {
    return Status(PCORE_FILE_NOT_AVAILABLE,
                  "held by disconnected " + RecordKey(holder));
  }
  return Status::OK();
}

Status HandleTable::Sweep(uint64_t now_us, const SweepVisitor& visitor) {
  std::vector<std::pair<uint64_t, Status>> found;
  Status s =
      store_->Traverse([&](const std::string& key, const std::string& value) {
        uint64_t id;
        if (!ParseRecordKey(key, &id)) {
          return true;
        }
        OpenRecord r;
        Status d = DecodeRecord(reinterpret_cast<const uint8_t*>(value.data()),
                                value.size(), &r);
        if (!d.ok()) {
          found.emplace_back(
              id, Status(d.code(), "record " + key + ": " + d.message()));
        } else if (r.persistent_id != id) {
          found.emplace_back(
              id, Status::Corrupt("record " + key + " holds another id"));
        } else if (IsExpired(r, now_us)) {
          found.emplace_back(id, Status(PCORE_EXPIRED, "record " + key));
        }
        return true;
      });
  if (!s.ok()) {
    return s;
  }
  for (const auto& f : found) {
    visitor(f.first, f.second);
  }
  return Status::OK();
}

}  // namespace persistent
}  // namespace samba_ca
