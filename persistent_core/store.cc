// The in-memory store and the adapter over the glue's callbacks.
#include "store.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

#include "journal.h"

namespace samba_ca {
namespace persistent {
namespace {

const uint8_t* Bytes(const std::string& s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

// A store callback may only answer with a store status; anything else is
// the glue's bug, reported as an I/O error rather than trusted.
Status FromCallback(pcore_status st, const char* what) {
  switch (st) {
    case PCORE_OK:
      return Status::OK();
    case PCORE_NOT_FOUND:
    case PCORE_STORE_FULL:
    case PCORE_STORE_READ_ONLY:
    case PCORE_STORE_IO_ERROR:
    case PCORE_STORE_CONFLICT:
    case PCORE_NO_MEMORY:
      return Status(st, std::string("store ") + what + " failed");
    default:
      return Status(PCORE_STORE_IO_ERROR, std::string("store ") + what +
                                              " returned " +
                                              pcore_status_string(st));
  }
}

}  // namespace

Status Store::Put(const std::string& key, const std::string& value, bool sync) {
  WriteBatch batch;
  batch.Put(key, value);
  return Apply(batch, sync);
}

Status Store::Delete(const std::string& key, bool sync) {
  WriteBatch batch;
  batch.Delete(key);
  return Apply(batch, sync);
}

Status InMemoryStore::Get(const std::string& key, std::string* value) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    return Status(PCORE_NOT_FOUND, "no such key");
  }
  *value = it->second;
  return Status::OK();
}

Status InMemoryStore::Apply(const WriteBatch& batch, bool sync) {
  if (fail_writes_ != PCORE_OK) {
    return Status(fail_writes_, "injected store failure");
  }
  for (const auto& e : batch.expectations()) {
    auto it = map_.find(e.key);
    bool present = it != map_.end();
    if (present != e.present || (present && it->second != e.value)) {
      return Status(PCORE_STORE_CONFLICT, "record changed underneath");
    }
  }
  for (const auto& op : batch.ops()) {
    if (op.type == WriteBatch::OpType::kPut) {
      map_[op.key] = op.value;
    } else {
      map_.erase(op.key);
    }
  }
  if (sync) {
    synced_applies_++;
  }
  return Status::OK();
}

Status InMemoryStore::Traverse(const Visitor& visitor) {
  for (const auto& kv : map_) {
    if (!visitor(kv.first, kv.second)) {
      break;
    }
  }
  return Status::OK();
}

const char CallbackStore::kIndexBootKey[] = "PHJ/index-boot";

CallbackStore::CallbackStore(const pcore_store_ops& ops) : ops_(ops) {}

CallbackStore::~CallbackStore() = default;

bool CallbackStore::OpsComplete(const pcore_store_ops& ops) {
  return ops.fetch != nullptr && ops.store != nullptr &&
         ops.remove != nullptr && ops.traverse != nullptr &&
         ops.transaction_start != nullptr &&
         ops.transaction_commit != nullptr && ops.transaction_cancel != nullptr;
}

namespace {

struct FetchResult {
  std::string* value;
  bool called;
};

void CopyValue(const uint8_t* value, size_t len, void* data) {
  auto* result = static_cast<FetchResult*>(data);
  result->value->assign(reinterpret_cast<const char*>(value), len);
  result->called = true;
}

struct TraverseState {
  const Store::Visitor* visitor;
  std::string key;
  std::string value;
};

int VisitRecord(const uint8_t* key, size_t key_len, const uint8_t* value,
                size_t value_len, void* data) {
  auto* state = static_cast<TraverseState*>(data);
  state->key.assign(reinterpret_cast<const char*>(key), key_len);
  state->value.assign(reinterpret_cast<const char*>(value), value_len);
  return (*state->visitor)(state->key, state->value) ? 0 : 1;
}

}  // namespace

Status CallbackStore::Get(const std::string& key, std::string* value) {
  FetchResult result{value, false};
  pcore_status st =
      ops_.fetch(ops_.private_data, Bytes(key), key.size(), CopyValue, &result);
  if (st == PCORE_OK && !result.called) {
    return Status(PCORE_STORE_IO_ERROR, "store fetch returned no value");
  }
  return FromCallback(st, "fetch");
}

// Inside a transaction: checks the expectations, applies the ops.  On
// failure the transaction is cancelled.
Status CallbackStore::ApplyOps(const WriteBatch& batch) {
  Status s;
  for (const auto& e : batch.expectations()) {
    std::string current;
    s = Get(e.key, &current);
    bool present = s.ok();
    if (!s.ok() && s.code() != PCORE_NOT_FOUND) {
      ops_.transaction_cancel(ops_.private_data);
      return s;
    }
    if (present != e.present || (present && current != e.value)) {
      ops_.transaction_cancel(ops_.private_data);
      return Status(PCORE_STORE_CONFLICT, "record changed underneath");
    }
  }
  for (const auto& op : batch.ops()) {
    pcore_status st;
    if (op.type == WriteBatch::OpType::kPut) {
      st = ops_.store(ops_.private_data, Bytes(op.key), op.key.size(),
                      Bytes(op.value), op.value.size());
    } else {
      st = ops_.remove(ops_.private_data, Bytes(op.key), op.key.size());
      if (st == PCORE_NOT_FOUND) {
        st = PCORE_OK;
      }
    }
    if (st != PCORE_OK) {
      ops_.transaction_cancel(ops_.private_data);
      return FromCallback(
          st, op.type == WriteBatch::OpType::kPut ? "store" : "remove");
    }
  }
  return Status::OK();
}

Status CallbackStore::Apply(const WriteBatch& batch, bool sync) {
  if (journal_ != nullptr && batch.new_open()) {
    Status r = journal_->EnsureReserve();
    if (!r.ok()) {
      return r;
    }
  }
  Status s = FromCallback(ops_.transaction_start(ops_.private_data),
                          "transaction start");
  if (!s.ok()) {
    return s;
  }
  s = ApplyOps(batch);
  if (!s.ok()) {
    return s;
  }
  if (journal_ != nullptr) {
    // The journal entry is what makes the update durable; without it the
    // update must not become visible.
    s = journal_->Append(batch, sync);
    if (!s.ok()) {
      ops_.transaction_cancel(ops_.private_data);
      return s;
    }
  }
  s = FromCallback(ops_.transaction_commit(ops_.private_data, sync ? 1 : 0),
                   "transaction commit");
  if (journal_ != nullptr) {
    if (!s.ok()) {
      Compensate(batch);
    } else if (journal_->NeedsCompaction()) {
      MaybeCompact();
    }
  }
  return s;
}

// The commit failed after the journal took the batch: journal the keys'
// values as the store still has them, so that a rebuild does not bring
// back an update nobody was told of.
void CallbackStore::Compensate(const WriteBatch& batch) {
  WriteBatch undo;
  for (const auto& op : batch.ops()) {
    std::string value;
    Status g = Get(op.key, &value);
    if (g.ok()) {
      undo.Put(op.key, value);
    } else {
      undo.Delete(op.key);
    }
  }
  journal_->Append(undo, true);
}

// With the store's transaction held no update can be appended meanwhile;
// the transaction itself writes nothing and is cancelled.
void CallbackStore::MaybeCompact() {
  if (ops_.transaction_start(ops_.private_data) != PCORE_OK) {
    return;
  }
  bool done = false;
  journal_->Compact(&done);
  ops_.transaction_cancel(ops_.private_data);
}

Status CallbackStore::AttachJournal(const std::string& path,
                                    const uint8_t boot_id[16],
                                    pcore_journal_report* report) {
  std::unique_ptr<Journal> journal(new (std::nothrow) Journal());
  if (journal == nullptr) {
    return Status(PCORE_NO_MEMORY, "journal");
  }
  if (ops_.privileged != nullptr) {
    pcore_store_ops ops = ops_;
    journal->set_privileged(
        [ops](bool enter) { ops.privileged(ops.private_data, enter ? 1 : 0); });
  }
  bool fresh = false;
  Status s = journal->OpenLocked(path, &fresh);
  if (!s.ok()) {
    return s;
  }
  std::string index_boot;
  Status g = Get(kIndexBootKey, &index_boot);
  bool matched = g.ok() && index_boot.size() == 16 &&
                 memcmp(index_boot.data(), boot_id, 16) == 0;
  if (fresh) {
    // Nothing was ever journaled: the store is all there is.
    if (!g.ok() && g.code() != PCORE_NOT_FOUND) {
      return Status(g.code(), "store unreadable and no journal to rebuild "
                              "it from: " + g.message());
    }
    KeyValueMap state;
    s = Traverse([&](const std::string& k, const std::string& v) {
      if (k != kIndexBootKey) {
        state[k] = v;
      }
      return true;
    });
    if (s.ok()) {
      s = journal->Rewrite(state, boot_id);
    }
    report->action = PCORE_JOURNAL_CREATED;
    report->keys = state.size();
  } else if (matched) {
    report->action = PCORE_JOURNAL_TRUSTED;
  } else {
    journal_ = std::move(journal);
    s = Rebuild(boot_id, report);
    journal = std::move(journal_);
  }
  if (s.ok() && report->action != PCORE_JOURNAL_TRUSTED) {
    WriteBatch meta;
    meta.Put(kIndexBootKey,
             std::string(reinterpret_cast<const char*>(boot_id), 16));
    s = Apply(meta, false);  // not journaled: journal_ is not set yet
  }
  if (!s.ok()) {
    return s;
  }
  journal->Unlock();
  journal_ = std::move(journal);
  return Status::OK();
}

// The journal is the truth: fold it, empty the store, write the result.
Status CallbackStore::Rebuild(const uint8_t boot_id[16],
                              pcore_journal_report* report) {
  KeyValueMap state;
  JournalFoldStats stats;
  Status s = journal_->Fold(&state, &stats);
  if (!s.ok()) {
    return s;
  }
  report->action = PCORE_JOURNAL_REBUILT;
  report->entries = stats.entries;
  report->skipped_bytes = stats.skipped_bytes;
  report->keys = state.size();
  snprintf(report->problem, sizeof(report->problem), "%s",
           stats.first_problem.c_str());
  if (ops_.wipe != nullptr) {
    s = FromCallback(ops_.wipe(ops_.private_data), "wipe");
    if (!s.ok()) {
      return s;
    }
  }
  s = FromCallback(ops_.transaction_start(ops_.private_data),
                   "transaction start");
  if (!s.ok()) {
    return s;
  }
  if (ops_.wipe == nullptr) {
    std::vector<std::string> stale;
    s = Traverse([&](const std::string& k, const std::string&) {
      stale.push_back(k);
      return true;
    });
    for (size_t i = 0; s.ok() && i < stale.size(); i++) {
      pcore_status st =
          ops_.remove(ops_.private_data, Bytes(stale[i]), stale[i].size());
      if (st != PCORE_OK && st != PCORE_NOT_FOUND) {
        s = FromCallback(st, "remove");
      }
    }
  }
  for (auto it = state.begin(); s.ok() && it != state.end(); ++it) {
    s = FromCallback(ops_.store(ops_.private_data, Bytes(it->first),
                                it->first.size(), Bytes(it->second),
                                it->second.size()),
                     "store");
  }
  if (!s.ok()) {
    ops_.transaction_cancel(ops_.private_data);
    return s;
  }
  s = FromCallback(ops_.transaction_commit(ops_.private_data, 1),
                   "transaction commit");
  if (!s.ok()) {
    return s;
  }
  // Drop the history and the bad bytes; the next rebuild starts clean.
  return journal_->Rewrite(state, boot_id);
}

Status CallbackStore::Traverse(const Visitor& visitor) {
  TraverseState state{&visitor, std::string(), std::string()};
  return FromCallback(ops_.traverse(ops_.private_data, VisitRecord, &state),
                      "traverse");
}

}  // namespace persistent
}  // namespace samba_ca
