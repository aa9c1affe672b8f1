// The journal of a JournaledStore (journaled_store.h): an append-only file
// of checksummed write batches, synced once per update.  It is what makes a
// record durable; the store it wraps (the local TDB) is the shared index
// the smbds read, kept without syncs and rebuilt from the journal after a
// reboot.
//
// File layout (little endian):
//   header, 64 bytes: magic "PHCAJRNL", u32 version, u32 header length,
//     16 bytes boot id of the writer, u64 base bytes (the size the file had
//     when it was last rewritten), u32 CRC32C of the bytes before it, zeros.
//   entries: u32 magic "PHJE", u32 payload length, u32 CRC32C of the length
//     and payload, payload: u32 op count, then per op u8 type (1 put,
//     2 delete), u32 key length, key, and for a put u32 value length, value.
//
// Writers append inside the wrapped store's exclusion (the stamp's lock,
// lookup_stamp.h), so entries are in commit order; they sync after it.  A rewrite (compaction, or after a rebuild) writes a new file and
// renames it over the old one while holding an fcntl lock on the old one;
// openers lock, then check that the path still names the file they locked.
#ifndef SAMBA_CA_PERSISTENT_JOURNAL_H
#define SAMBA_CA_PERSISTENT_JOURNAL_H

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "status.h"
#include "store.h"

namespace samba_ca {
namespace persistent {

struct JournalFoldStats {
  uint64_t entries = 0;        // good entries applied
  uint64_t skipped_bytes = 0;  // bytes of bad or torn entries passed over
  std::string first_problem;   // "" when every byte was a good entry
};

class Journal {
 public:
  static constexpr uint32_t kVersion = 1;
  static constexpr size_t kHeaderSize = 64;
  static constexpr uint32_t kEntryMagic = 0x454a4850;  // "PHJE"
  static constexpr size_t kMaxPayload = 64u << 20;
  // Compaction starts once the file is this big and twice its base size.
  static constexpr uint64_t kMinCompactBytes = 1u << 20;
  static constexpr uint64_t kReserveBytes = 256u << 10;

  Journal() = default;
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Opens (creating it empty if missing) and locks the journal at path,
  // waiting for the lock.  *fresh is set when the file holds no header yet.
  // A header with a bad checksum or an unknown version is an error.
  Status OpenLocked(const std::string& path, bool* fresh);
  void Unlock();
  bool is_open() const { return fd_ != -1; }
  const std::string& path() const { return path_; }

  // Applies every good entry, in order, to *state.  Bad bytes are skipped
  // up to the next good entry and counted.
  Status Fold(KeyValueMap* state, JournalFoldStats* stats);

  // Replaces the file by one holding state, synced, with boot_id in the
  // header.  Needs the lock; keeps it (on the new file).
  Status Rewrite(const KeyValueMap& state, const uint8_t boot_id[16]);

  // Appends the batch's operations as one entry; with sync, returns after
  // fdatasync.  The caller serialises appends (JournaledStore: inside the
  // wrapped store's exclusion).
  // On failure the file is cut back to its old size.
  Status Append(const WriteBatch& batch, bool sync);

  // fdatasync of the journal: what Append(batch, false) wrote before is
  // durable when it returns OK.  Needs no lock: a sync of another
  // process's appends, or of a file another process has just rewritten
  // (the rewrite synced what it copied), does no harm.
  Status Sync();

  // Keeps kReserveBytes allocated past the end of the file (fallocate,
  // size unchanged), so that the updates of opens already granted
  // (disconnect, locks, lease) find room on a file system that has filled
  // up.  A new open must call this first and is refused with
  // PCORE_STORE_FULL when the reserve cannot be had.  A file system
  // without fallocate gives no reserve and no refusal.
  Status EnsureReserve();

  // Follows a rewrite by another process (reopens the path when it names
  // another file now) and learns the file's size.
  Status Refresh() { return FollowRename(); }

  bool NeedsCompaction() const;
  // Rewrites the file from its own contents unless another process holds
  // the lock (then it is skipped: *done false).  Appends must be held off
  // by the caller.
  Status Compact(bool* done);

  uint64_t size() const { return size_; }

  // Wraps the steps that open or create files (reopen after another
  // process's rewrite, compaction): enter(true) before, enter(false) after.
  void set_privileged(std::function<void(bool)> enter) {
    privileged_ = std::move(enter);
  }

  static std::string EncodeEntry(const WriteBatch& batch);

 private:
  Status Reopen();
  Status FollowRename();
  Status ReadHeader(bool* fresh);
  Status ReadAll(std::string* data);

  std::string path_;
  int fd_ = -1;
  bool locked_ = false;
  uint64_t size_ = 0;
  uint64_t base_bytes_ = 0;
  uint64_t retry_at_ = 0;
  uint64_t reserved_end_ = 0;  // this process's last fallocate reached here  // after a failed compaction: not before this size
  uint8_t boot_id_[16] = {};
  std::function<void(bool)> privileged_;
};

// Reads the 16-byte boot id (a UUID in text, as in
// /proc/sys/kernel/random/boot_id) from path.
Status ReadBootId(const std::string& path, uint8_t boot_id[16]);

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_JOURNAL_H
