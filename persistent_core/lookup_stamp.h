// The stamp of a journaled store's lookup copy (journaled_store.h): a small
// file beside the journal whose fcntl lock is the store's exclusion and
// whose contents say whether the lookup copy can be believed.
//
// The lookup copy (the local TDB) is written without transactions: an
// update is a synced journal append followed by plain stores.  A process
// that dies between the two, or in the middle of the stores, leaves a copy
// that is stale or torn.  So every update marks the stamp dirty before its
// journal append and clean, with the next generation, after the lookup
// copy took it; the lookup copy keeps the generation of its last complete
// update as well.  Whoever takes the lock and finds the stamp dirty, or
// the generations apart, rebuilds the copy from the journal.
//
// File layout (little endian, 32 bytes): magic "PHJSTAMP", u32 version,
// u32 state (0 clean, 1 dirty), u64 generation, u32 CRC32C of the 24 bytes
// before it, u32 zero.  It is never synced: it speaks for the page cache,
// which a process crash keeps; after a reboot the boot id decides (the
// lookup copy is rebuilt whatever the stamp says).
//
// Lock: byte 0, F_RDLCK for readers, F_WRLCK for writers.  Lock order: the
// stamp before the journal's own lock.  The file is never replaced.
#ifndef SAMBA_CA_PERSISTENT_LOOKUP_STAMP_H
#define SAMBA_CA_PERSISTENT_LOOKUP_STAMP_H

#include <cstdint>
#include <string>

#include "status.h"

namespace samba_ca {
namespace persistent {

class LookupStamp {
 public:
  static constexpr uint32_t kVersion = 1;
  static constexpr size_t kSize = 32;
  enum class Mode { kNone, kShared, kExclusive };

  LookupStamp() = default;
  ~LookupStamp();
  LookupStamp(const LookupStamp&) = delete;
  LookupStamp& operator=(const LookupStamp&) = delete;

  // Opens (creating it if missing) the stamp at path.  *created: the file
  // was missing or empty, so it vouches for nothing.
  Status Open(const std::string& path, bool* created);
  const std::string& path() const { return path_; }

  // Takes the lock in mode, waiting.  Taking kExclusive while holding
  // kShared converts the lock.
  Status Lock(Mode mode);
  void Unlock();
  Mode held() const { return held_; }

  // Under the lock.  valid(): the contents have the magic, version and
  // checksum; a stamp that is not valid vouches for nothing.
  bool valid() const;
  bool dirty() const;
  uint64_t generation() const;
  // Under the exclusive lock.
  void MarkDirty();
  void MarkClean(uint64_t generation);

 private:
  void Write(uint32_t state, uint64_t generation);

  std::string path_;
  int fd_ = -1;
  uint8_t* map_ = nullptr;
  Mode held_ = Mode::kNone;
};

// Holds a LookupStamp's lock for a scope, unless the stamp is already
// held (a nested call) in a mode that covers the one asked for.
class StampLock {
 public:
  StampLock(LookupStamp* stamp, LookupStamp::Mode mode);
  ~StampLock();
  StampLock(const StampLock&) = delete;
  StampLock& operator=(const StampLock&) = delete;
  const Status& status() const { return status_; }

 private:
  LookupStamp* stamp_;
  LookupStamp::Mode restore_;
  bool taken_ = false;
  Status status_;
};

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_LOOKUP_STAMP_H
