// A Store made durable by a journal (journal.h): JournaledStore wraps any
// other Store, the inner store, that it keeps as a lookup copy.
//
// The store's exclusion is the lock of its lookup stamp (lookup_stamp.h),
// a small file beside the journal: readers share it, writers hold it
// alone, across processes.  Every update is checked against the inner
// store's expectations, then appended to the journal (synced when asked)
// from inside the inner store's ApplyWith, before the inner store makes it
// visible: the journal holds every update in the order the inner store
// takes them, and nothing is acknowledged that is not in the journal.  The
// inner store is never asked to sync, and need not be transactional: the
// stamp is marked dirty before the append and clean after the inner store
// took the update, and whoever takes the lock and finds it dirty, or finds
// the inner store's generation (kGenerationKey) apart from the stamp's,
// rebuilds the inner store from the journal and logs why.
//
// Open() decides, under the journal's lock, what the inner store is worth
// (see pcore_store_attach_journal() for CREATED, TRUSTED and REBUILT): a
// rebuild folds the journal and Replace()s the inner store's contents with
// the result.  The boot id for which the inner store last matched its
// journal is kept in the inner store under kIndexBootKey, which is not a
// record: Traverse does not show it.
//
// What an inner store must give (docs/persistent-store.md): ApplyWith
// that runs before_commit after the expectations held and before any op
// is visible; Replace; Clear.  Whether it is transactional, locked or
// durable on its own does not matter here: every call comes with the
// stamp's lock held.
#ifndef SAMBA_CA_PERSISTENT_JOURNALED_STORE_H
#define SAMBA_CA_PERSISTENT_JOURNALED_STORE_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "journal.h"
#include "lookup_stamp.h"
#include "persistent_core.h"
#include "status.h"
#include "store.h"

namespace samba_ca {
namespace persistent {

class JournaledStore : public Store {
 public:
  // inner must outlive this store.
  explicit JournaledStore(Store* inner);
  ~JournaledStore() override;
  JournaledStore(const JournaledStore&) = delete;
  JournaledStore& operator=(const JournaledStore&) = delete;

  // Wraps the journal's steps that open or create files (Journal::
  // set_privileged).  Before Open.
  void set_privileged(std::function<void(bool)> enter);
  // Where a rebuild of the inner store found after Open (an update cut
  // short by a crash) is reported.  Before Open.
  void set_log(std::function<void(const std::string&)> log);

  // Opens the journal at path; on success the store is usable, and every
  // call of the inner store that Open made came with the journal locked
  // (the glue opens its store file there).  On failure nothing is usable
  // and a bad journal (header, version) is left as it was.
  Status Open(const std::string& path, const uint8_t boot_id[16],
              pcore_journal_report* report);
  bool is_open() const { return journal_ != nullptr; }

  Status Get(const std::string& key, std::string* value) override;
  Status ApplyWith(const WriteBatch& batch, bool sync,
                   const BeforeCommit& before_commit) override;
  Status Traverse(const Visitor& visitor) override;
  Status Exclusive(const BeforeCommit& fn) override;

  Store* inner() const { return inner_; }

  // The inner store's key holding the boot id it last matched in.
  static const char kIndexBootKey[];
  // The inner store's key holding the generation of its last complete
  // update (u64, little endian).
  static const char kGenerationKey[];
  // The stamp beside the journal at journal_path.
  static std::string StampPath(const std::string& journal_path);

  // How many times this process rebuilt the inner store after Open.
  uint64_t recoveries() const { return recoveries_; }

 private:
  enum class RebuildKind { kReplace, kClear };
  Status Rebuild(const uint8_t boot_id[16], RebuildKind kind,
                 pcore_journal_report* report);
  // With the stamp held exclusively: "" when the inner store agrees with
  // the stamp, else why not.
  std::string LookupProblem();
  // With the stamp held exclusively: rebuilds the inner store from the
  // journal when LookupProblem() names one.
  Status RecoverIfNeeded();
  // ApplyWith's part under the stamp: check, append (not synced), apply.
  Status ApplyLocked(const WriteBatch& batch, const BeforeCommit& before_commit);
  Status Refill(const KeyValueMap& state, RebuildKind kind);
  // Reads under the stamp's shared lock, recovering first if need be.
  Status Read(const std::function<Status()>& read);
  void Compensate(const WriteBatch& undo);
  void MaybeCompact();
  void Log(const std::string& message);

  Store* inner_;
  std::function<void(bool)> privileged_;
  std::function<void(const std::string&)> log_;
  std::unique_ptr<Journal> journal_;  // set once Open succeeded
  std::unique_ptr<LookupStamp> stamp_;
  uint64_t recoveries_ = 0;
};

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_JOURNALED_STORE_H
