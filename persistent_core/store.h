// Where persistent-open records live.  The core reads and writes through
// this interface; the real stores (local TDB, CTDB) are callbacks filled by
// the C glue (CallbackStore), InMemoryStore serves unit tests.
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

class Store {
 public:
  // Return false to stop the traverse.
  using Visitor =
      std::function<bool(const std::string& key, const std::string& value)>;

  virtual ~Store() = default;

  // PCORE_NOT_FOUND if the key is absent.
  virtual Status Get(const std::string& key, std::string* value) = 0;
  // Applies the batch atomically; PCORE_STORE_CONFLICT (nothing written) if
  // an expectation fails.  With sync, returns after the data is durable.
  virtual Status Apply(const WriteBatch& batch, bool sync) = 0;
  virtual Status Traverse(const Visitor& visitor) = 0;

  // Single-key conveniences over Apply.
  Status Put(const std::string& key, const std::string& value, bool sync);
  Status Delete(const std::string& key, bool sync);
};

// A std::map, for unit tests.  Failures can be injected.
class InMemoryStore : public Store {
 public:
  Status Get(const std::string& key, std::string* value) override;
  Status Apply(const WriteBatch& batch, bool sync) override;
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

class Journal;

// The store the glue implements with struct pcore_store_ops.  With a
// journal attached, every update is appended to the journal (synced when
// asked) inside the store's transaction, before the commit; the store
// itself then needs no sync of its own.
class CallbackStore : public Store {
 public:
  explicit CallbackStore(const pcore_store_ops& ops);
  ~CallbackStore() override;
  static bool OpsComplete(const pcore_store_ops& ops);

  Status Get(const std::string& key, std::string* value) override;
  Status Apply(const WriteBatch& batch, bool sync) override;
  Status Traverse(const Visitor& visitor) override;

  // See pcore_store_attach_journal().  Every callback it makes comes with
  // the journal's lock held, the first one a read: the glue opens its
  // store file there, so that no smbd decides on a file that another
  // one's rebuild (a wipe, under the same lock) replaces.
  Status AttachJournal(const std::string& path, const uint8_t boot_id[16],
                       pcore_journal_report* report);
  bool has_journal() const { return journal_ != nullptr; }

  // The key holding the boot id for which the store was last found to
  // match its journal (not a record: the table ignores it).
  static const char kIndexBootKey[];

 private:
  Status ApplyOps(const WriteBatch& batch);
  Status Rebuild(const uint8_t boot_id[16], pcore_journal_report* report);
  void Compensate(const WriteBatch& batch);
  void MaybeCompact();

  pcore_store_ops ops_;
  std::unique_ptr<Journal> journal_;
};

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_STORE_H
