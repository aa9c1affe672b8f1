// A Store made durable by a journal (journal.h): JournaledStore wraps any
// other Store, the inner store, that it keeps as a lookup copy.
//
// Every update is checked against the inner store's expectations, then
// appended to the journal (synced when asked) from inside the inner
// store's ApplyWith, before the inner store makes it visible: the journal
// holds every update in the order the inner store commits them, and
// nothing is acknowledged that is not in the journal.  The inner store is
// never asked to sync.
//
// Open() decides, under the journal's lock, what the inner store is worth
// (see pcore_store_attach_journal() for CREATED, TRUSTED and REBUILT): a
// rebuild folds the journal and Replace()s the inner store's contents with
// the result.  The boot id for which the inner store last matched its
// journal is kept in the inner store under kIndexBootKey, which is not a
// record: Traverse does not show it.
//
// What an inner store must give (docs/persistent-store.md): ApplyWith
// whose before_commit runs with every other writer excluded, across
// processes; Replace; Exclusive.  Whether it is transactional or durable
// on its own does not matter here.
#ifndef SAMBA_CA_PERSISTENT_JOURNALED_STORE_H
#define SAMBA_CA_PERSISTENT_JOURNALED_STORE_H

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "journal.h"
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

 private:
  Status Rebuild(const uint8_t boot_id[16], pcore_journal_report* report);
  void Compensate(const WriteBatch& batch);
  void MaybeCompact();

  Store* inner_;
  std::function<void(bool)> privileged_;
  std::unique_ptr<Journal> journal_;  // set once Open succeeded
};

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_JOURNALED_STORE_H
