// The in-memory store and the adapter over the glue's callbacks.
#include "store.h"

#include <vector>

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

Status Store::Replace(const KeyValueMap& state) {
  WriteBatch batch;
  Status s = Traverse([&](const std::string& k, const std::string&) {
    if (state.count(k) == 0) {
      batch.Delete(k);
    }
    return true;
  });
  if (!s.ok()) {
    return s;
  }
  for (const auto& kv : state) {
    batch.Put(kv.first, kv.second);
  }
  return Apply(batch, true);
}

Status Store::Clear() {
  WriteBatch batch;
  Status s = Traverse([&](const std::string& k, const std::string&) {
    batch.Delete(k);
    return true;
  });
  if (!s.ok()) {
    return s;
  }
  return Apply(batch, false);
}

Status Store::Exclusive(const BeforeCommit& fn) {
  return ApplyWith(WriteBatch(), false, fn);
}

Status InMemoryStore::Get(const std::string& key, std::string* value) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    return Status(PCORE_NOT_FOUND, "no such key");
  }
  *value = it->second;
  return Status::OK();
}

Status InMemoryStore::ApplyWith(const WriteBatch& batch, bool sync,
                                const BeforeCommit& before_commit) {
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
  if (before_commit) {
    Status s = before_commit();
    if (!s.ok()) {
      return s;
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

// Inside a transaction: checks the expectations, runs before_commit,
// applies the ops.  On failure the transaction is cancelled.
Status CallbackStore::ApplyOps(const WriteBatch& batch,
                               const BeforeCommit& before_commit) {
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
  if (before_commit) {
    s = before_commit();
    if (!s.ok()) {
      ops_.transaction_cancel(ops_.private_data);
      return s;
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

Status CallbackStore::ApplyWith(const WriteBatch& batch, bool sync,
                                const BeforeCommit& before_commit) {
  Status s = FromCallback(ops_.transaction_start(ops_.private_data),
                          "transaction start");
  if (!s.ok()) {
    return s;
  }
  s = ApplyOps(batch, before_commit);
  if (!s.ok()) {
    return s;
  }
  return FromCallback(ops_.transaction_commit(ops_.private_data, sync ? 1 : 0),
                      "transaction commit");
}

Status CallbackStore::Exclusive(const BeforeCommit& fn) {
  Status s = FromCallback(ops_.transaction_start(ops_.private_data),
                          "transaction start");
  if (!s.ok()) {
    return s;
  }
  s = fn();
  ops_.transaction_cancel(ops_.private_data);
  return s;
}

Status CallbackStore::Clear() {
  if (ops_.clear == nullptr) {
    return Store::Clear();
  }
  return FromCallback(ops_.clear(ops_.private_data), "clear");
}

std::function<void(const std::string&)> CallbackStore::LogFn() const {
  if (ops_.log == nullptr) {
    return std::function<void(const std::string&)>();
  }
  pcore_store_ops ops = ops_;
  return [ops](const std::string& message) {
    ops.log(ops.private_data, message.c_str());
  };
}

std::function<void(bool)> CallbackStore::PrivilegedFn() const {
  if (ops_.privileged == nullptr) {
    return std::function<void(bool)>();
  }
  pcore_store_ops ops = ops_;
  return [ops](bool enter) { ops.privileged(ops.private_data, enter ? 1 : 0); };
}

Status CallbackStore::Replace(const KeyValueMap& state) {
  if (ops_.wipe == nullptr) {
    return Store::Replace(state);
  }
  Status s = FromCallback(ops_.wipe(ops_.private_data), "wipe");
  if (!s.ok()) {
    return s;
  }
  s = FromCallback(ops_.transaction_start(ops_.private_data),
                   "transaction start");
  if (!s.ok()) {
    return s;
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
  return FromCallback(ops_.transaction_commit(ops_.private_data, 1),
                      "transaction commit");
}

Status CallbackStore::Traverse(const Visitor& visitor) {
  TraverseState state{&visitor, std::string(), std::string()};
  return FromCallback(ops_.traverse(ops_.private_data, VisitRecord, &state),
                      "traverse");
}

}  // namespace persistent
}  // namespace samba_ca
