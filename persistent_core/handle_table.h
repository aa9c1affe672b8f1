// The persistent-handle logic over a Store: grant, disconnect, reconnect
// checks ([MS-SMB2] 3.3.5.9.12), replay lookup (3.3.5.9.10), lock sequences
// (3.3.5.14), byte-range locks, conflicts and expiry.  Time is passed in by
// the caller as unix microseconds; the table reads no clock.
//
// Keys: "PH/open/<16 hex digits of the persistent id>" holds the record;
// "PH/guid/<32 hex digits of the create GUID>" holds the persistent id
// (u64 LE); "PH/path/<share>\0<path>" holds the persistent ids (u64 LE
// each) of the records of that file, so that a conflict check reads one
// key instead of traversing the store.  All are written in one atomic,
// synced batch.  Every update is
// a compare-and-set against the bytes read, retried a few times on conflict.
#ifndef SAMBA_CA_PERSISTENT_HANDLE_TABLE_H
#define SAMBA_CA_PERSISTENT_HANDLE_TABLE_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "persistent_record.h"
#include "status.h"
#include "store.h"

namespace samba_ca {
namespace persistent {

struct ReconnectRequest {
  uint64_t persistent_id = 0;
  Guid create_guid{};
  Guid client_guid{};
  bool persistent_flag = true;
  bool has_lease = false;  // the DH2C carried a lease context
  Guid lease_key{};        // ... with this key
  uint8_t lease_version = 0;  // ... of this version (1 or 2)
  std::string owner_sid;
  std::string share_name;
  ServerId new_owner;
  uint64_t new_volatile_id = 0;
};

class HandleTable {
 public:
  // Called after the traverse with each record that needs attention.
  using SweepVisitor =
      std::function<void(uint64_t persistent_id, const Status& why)>;

  explicit HandleTable(Store* store) : store_(store) {}

  // Whether Release() waits for its update to be durable (default no: a
  // release lost in a power loss brings the open back as disconnected, and
  // it expires after its timeout; the next synced update covers it).
  void set_sync_release(bool sync) { sync_release_ = sync; }

  Status Grant(const OpenRecord& open);
  Status Disconnect(uint64_t persistent_id, uint64_t now_us);
  // Disconnects every connected open of a dead smbd (or, with whole_node,
  // of every smbd on dead.vnn); *count gets how many.
  Status DisconnectServer(const ServerId& dead, bool whole_node,
                          uint64_t now_us, uint32_t* count);
  Status Reconnect(const ReconnectRequest& req, uint64_t now_us,
                   OpenRecord* out);
  Status LookupReplay(const Guid& create_guid, const Guid& client_guid,
                      OpenRecord* out);
  Status Fetch(uint64_t persistent_id, OpenRecord* out);
  Status Release(uint64_t persistent_id);
  Status CheckLockSequence(uint64_t persistent_id, uint32_t lock_sequence,
                           bool* is_replay);
  Status AddLock(uint64_t persistent_id, const ByteRangeLock& lock,
                 uint32_t lock_sequence);
  Status RemoveLock(uint64_t persistent_id, uint64_t offset, uint64_t length,
                    uint32_t lock_sequence);
  // A LOCK request with this LockSequence succeeded: its entry is stored.
  Status SetLockSequence(uint64_t persistent_id, uint32_t lock_sequence);
  Status UpdateLease(uint64_t persistent_id, uint8_t oplock_level,
                     uint32_t lease_state, uint16_t lease_epoch);
  // A rename through smbd: the record's path follows its file (records with
  // a file identity only; the index entry is the identity and stays).
  Status UpdatePath(uint64_t persistent_id, const std::string& path);
  // A SET_INFO (FileDispositionInformation) on the open: the file is to be
  // deleted when its last handle closes or expires, or no longer.
  Status SetDeleteOnClose(uint64_t persistent_id, bool delete_on_close);
  Status CheckOpenConflict(const std::string& share_name,
                           const std::string& path, uint64_t now_us);
  Status Sweep(uint64_t now_us, const SweepVisitor& visitor);
  // The ids of the records of one file (the path index, no traverse):
  // records without a file identity (a store of an older version).
  Status PathIds(const std::string& share_name, const std::string& path,
                 std::vector<uint64_t>* ids);
  // The ids of the records of one file by its identity (devid, inode,
  // extid; the file index, no traverse), whichever share granted them.
  Status FileIds(const FileIdentity& file, std::vector<uint64_t>* ids);
  // Adds records missing from the path index (a store written by an older
  // version) and drops ids whose record is gone; *fixed gets how many index
  // entries were rewritten.
  Status Reindex(uint32_t* fixed);

  static bool IsExpired(const OpenRecord& record, uint64_t now_us);
  static std::string RecordKey(uint64_t persistent_id);
  static std::string GuidKey(const Guid& create_guid);
  static std::string PathKey(const std::string& share_name,
                             const std::string& path);
  static std::string FileKey(const FileIdentity& file);
  // The index entry a record is listed under: its file identity, or, for
  // a record without one, its share and path.
  static std::string IndexKey(const OpenRecord& record);
  // The persistent id of a record key; false for any other key.
  static bool ParseRecordKey(const std::string& key, uint64_t* persistent_id);

 private:
  // Changes the record in place; sets *write to false to store nothing.
  using Mutation = std::function<Status(OpenRecord* record, bool* write)>;

  Status Load(uint64_t persistent_id, OpenRecord* record, std::string* raw);
  Status IdsAt(const std::string& index_key, std::vector<uint64_t>* ids);
  Status Update(uint64_t persistent_id, const Mutation& mutate);

  Store* store_;
  bool sync_release_ = false;
};

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_HANDLE_TABLE_H
