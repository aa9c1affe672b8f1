// Where persistent-open records live.  The core reads and writes through
// this interface; the real stores (local TDB, CTDB) are callbacks filled by
// the C glue (CallbackStore), InMemoryStore serves unit tests.  The journal
// that makes the local store durable is not part of any of them: it is
// JournaledStore (journaled_store.h), a Store over another Store.
#ifndef SAMBA_CA_PERSISTENT_STORE_H
#define SAMBA_CA_PERSISTENT_STORE_H

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "persistent_core.h"
#include "status.h"

namespace samba_ca {
namespace persistent {

// Updates applied all or nothing, after every expectation holds.  An
// expectation of a value is compare-and-set; of absence, insert-if-absent.
class WriteBatch {
 public:
  enum class OpType { kPut, kDelete };
  struct Op {
    OpType type;
    std::string key;
    std::string value;
  };
  struct Expectation {
    std::string key;
    bool present;
    std::string value;
  };

  void Put(std::string key, std::string value) {
    ops_.push_back(Op{OpType::kPut, std::move(key), std::move(value)});
  }
  void Delete(std::string key) {
    ops_.push_back(Op{OpType::kDelete, std::move(key), std::string()});
  }
  void ExpectValue(std::string key, std::string value) {
    expectations_.push_back(
        Expectation{std::move(key), true, std::move(value)});
  }
  void ExpectAbsent(std::string key) {
    expectations_.push_back(Expectation{std::move(key), false, std::string()});
  }

  // A batch that creates a new open: with a journal it needs the
  // journal's reserve in place first (Journal::EnsureReserve).
  void set_new_open() { new_open_ = true; }
  bool new_open() const { return new_open_; }

  const std::vector<Op>& ops() const { return ops_; }
  const std::vector<Expectation>& expectations() const { return expectations_; }

 private:
  std::vector<Op> ops_;
  std::vector<Expectation> expectations_;
  bool new_open_ = false;
};

using KeyValueMap = std::map<std::string, std::string>;

class Store {
 public:
  // Return false to stop the traverse.
  using Visitor =
      std::function<bool(const std::string& key, const std::string& value)>;
  // Run by ApplyWith inside the store's exclusion (no writer of any
  // process commits meanwhile), once every expectation has held and before
  // any op becomes visible.  A status other than OK cancels the batch:
  // nothing is written and ApplyWith returns that status.
  using BeforeCommit = std::function<Status()>;

  virtual ~Store() = default;

  // PCORE_NOT_FOUND if the key is absent.
  virtual Status Get(const std::string& key, std::string* value) = 0;
  // Applies the batch atomically; PCORE_STORE_CONFLICT (nothing written) if
  // an expectation fails.  With sync, returns after the data is durable.
  Status Apply(const WriteBatch& batch, bool sync) {
    return ApplyWith(batch, sync, BeforeCommit());
  }
  // Apply, with before_commit (may be empty) run at the point where the
  // batch is decided but not yet visible: where a wrapper makes the batch
  // durable elsewhere (the journal) in the order the store commits.
  virtual Status ApplyWith(const WriteBatch& batch, bool sync,
                           const BeforeCommit& before_commit) = 0;
  virtual Status Traverse(const Visitor& visitor) = 0;

  // Makes the store hold exactly state, durably: a rebuild from a journal.
  // A store that may be damaged (torn by a power loss) throws its file
  // away here rather than read it.  By default, one batch that deletes
  // every other key and puts state's.
  virtual Status Replace(const KeyValueMap& state);

  // Deletes every key, in place: unlike Replace, the store's file stays
  // the one other processes have open (a rebuild while they run).  By
  // default, one batch that deletes every key.
  virtual Status Clear();

  // Runs fn inside the store's exclusion, as ApplyWith runs before_commit,
  // with nothing to write: for work that needs the store quiet (a journal
  // compaction, a compensating journal entry).  fn's status is returned.
  virtual Status Exclusive(const BeforeCommit& fn);

  // Single-key conveniences over Apply.
  Status Put(const std::string& key, const std::string& value, bool sync);
  Status Delete(const std::string& key, bool sync);
};

// A std::map, for unit tests.  Failures can be injected.
class InMemoryStore : public Store {
 public:
  Status Get(const std::string& key, std::string* value) override;
  Status ApplyWith(const WriteBatch& batch, bool sync,
                   const BeforeCommit& before_commit) override;
  Status Traverse(const Visitor& visitor) override;

  // Every later Apply fails with this status (PCORE_OK to stop).
  void FailWrites(pcore_status status) { fail_writes_ = status; }
  // Writes bytes under a key directly, bypassing every check.
  void PutRaw(const std::string& key, const std::string& value) {
    map_[key] = value;
  }
  size_t size() const { return map_.size(); }
  uint64_t synced_applies() const { return synced_applies_; }
  const std::map<std::string, std::string>& contents() const { return map_; }

 private:
  std::map<std::string, std::string> map_;
  pcore_status fail_writes_ = PCORE_OK;
  uint64_t synced_applies_ = 0;
};

// The store the glue implements with struct pcore_store_ops: every update
// is one transaction of the glue's (transaction_start .. commit), in which
// a BeforeCommit runs after the expectations held and before the ops are
// staged (so that a glue whose transactions are only an exclusion, or
// nothing, never shows an op whose BeforeCommit failed).
class CallbackStore : public Store {
 public:
  explicit CallbackStore(const pcore_store_ops& ops);
  ~CallbackStore() override;
  static bool OpsComplete(const pcore_store_ops& ops);

  Status Get(const std::string& key, std::string* value) override;
  Status ApplyWith(const WriteBatch& batch, bool sync,
                   const BeforeCommit& before_commit) override;
  Status Traverse(const Visitor& visitor) override;
  // With the glue's wipe (when offered): the file is thrown away, not
  // read, then refilled in one synced transaction.
  Status Replace(const KeyValueMap& state) override;
  // A transaction that writes nothing and is cancelled.
  Status Exclusive(const BeforeCommit& fn) override;
  // With the glue's clear (when offered), else Store::Clear.
  Status Clear() override;

  // The glue's privileged callback, as a function (empty when not offered).
  std::function<void(bool)> PrivilegedFn() const;
  // The glue's log callback, as a function (empty when not offered).
  std::function<void(const std::string&)> LogFn() const;

 private:
  Status ApplyOps(const WriteBatch& batch, const BeforeCommit& before_commit);

  pcore_store_ops ops_;
};

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_STORE_H
