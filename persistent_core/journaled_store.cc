// A Store made durable by a journal, over any other Store
// (journaled_store.h).
#include "journaled_store.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

namespace samba_ca {
namespace persistent {

const char JournaledStore::kIndexBootKey[] = "PHJ/index-boot";

JournaledStore::JournaledStore(Store* inner) : inner_(inner) {}

JournaledStore::~JournaledStore() = default;

void JournaledStore::set_privileged(std::function<void(bool)> enter) {
  privileged_ = std::move(enter);
}

Status JournaledStore::Get(const std::string& key, std::string* value) {
  return inner_->Get(key, value);
}

Status JournaledStore::Traverse(const Visitor& visitor) {
  return inner_->Traverse([&](const std::string& k, const std::string& v) {
    return k == kIndexBootKey ? true : visitor(k, v);
  });
}

Status JournaledStore::Exclusive(const BeforeCommit& fn) {
  return inner_->Exclusive(fn);
}

Status JournaledStore::ApplyWith(const WriteBatch& batch, bool sync,
                                 const BeforeCommit& before_commit) {
  if (journal_ == nullptr) {
    return Status(PCORE_STORE_IO_ERROR, "journaled store not open");
  }
  if (batch.new_open()) {
    Status r = journal_->EnsureReserve();
    if (!r.ok()) {
      return r;
    }
  }
  // Inside the inner store's exclusion: entries go to the journal in the
  // order the inner store commits them, and an update that did not reach
  // the journal never becomes visible.
  bool journaled = false;
  Status s = inner_->ApplyWith(batch, false, [&]() -> Status {
    if (before_commit) {
      Status b = before_commit();
      if (!b.ok()) {
        return b;
      }
    }
    Status a = journal_->Append(batch, sync);
    journaled = a.ok();
    return a;
  });
  if (!s.ok()) {
    if (journaled) {
      Compensate(batch);
    }
    return s;
  }
  if (journal_->NeedsCompaction()) {
    MaybeCompact();
  }
  return s;
}

// The inner store failed after the journal took the batch: journal the
// keys' values as the inner store still has them, so that a rebuild does
// not bring back an update nobody was told of.  Inside the exclusion when
// the inner store gives it, so that no other writer's update comes between.
void JournaledStore::Compensate(const WriteBatch& batch) {
  bool ran = false;
  auto undo = [&]() -> Status {
    ran = true;
    WriteBatch reverse;
    for (const auto& op : batch.ops()) {
      std::string value;
      if (inner_->Get(op.key, &value).ok()) {
        reverse.Put(op.key, value);
      } else {
        reverse.Delete(op.key);
      }
    }
    return journal_->Append(reverse, true);
  };
  inner_->Exclusive(undo);
  if (!ran) {
    undo();
  }
}

// With the inner store's exclusion held no update can be appended
// meanwhile.
void JournaledStore::MaybeCompact() {
  inner_->Exclusive([&]() -> Status {
    bool done = false;
    return journal_->Compact(&done);
  });
}

Status JournaledStore::Open(const std::string& path, const uint8_t boot_id[16],
                            pcore_journal_report* report) {
  if (journal_ != nullptr) {
    return Status(PCORE_INVALID_PARAMETER, "journal already open");
  }
  std::unique_ptr<Journal> journal(new (std::nothrow) Journal());
  if (journal == nullptr) {
    return Status(PCORE_NO_MEMORY, "journal");
  }
  if (privileged_) {
    journal->set_privileged(privileged_);
  }
  bool fresh = false;
  Status s = journal->OpenLocked(path, &fresh);
  if (!s.ok()) {
    return s;
  }
  std::string index_boot;
  Status g = inner_->Get(kIndexBootKey, &index_boot);
  bool matched = g.ok() && index_boot.size() == 16 &&
                 memcmp(index_boot.data(), boot_id, 16) == 0;
  if (fresh) {
    // Nothing was ever journaled: the inner store is all there is.
    if (!g.ok() && g.code() != PCORE_NOT_FOUND) {
      return Status(g.code(), "store unreadable and no journal to rebuild "
                              "it from: " + g.message());
    }
    KeyValueMap state;
    s = inner_->Traverse([&](const std::string& k, const std::string& v) {
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
    // Straight to the inner store: the mark is not journaled.
    WriteBatch meta;
    meta.Put(kIndexBootKey,
             std::string(reinterpret_cast<const char*>(boot_id), 16));
    s = inner_->Apply(meta, false);
  }
  if (!s.ok()) {
    return s;
  }
  journal->Unlock();
  journal_ = std::move(journal);
  return Status::OK();
}

// The journal is the truth: fold it, replace the inner store's contents
// with the result, and rewrite the journal without its history and its
// bad bytes, so that the next rebuild starts clean.
Status JournaledStore::Rebuild(const uint8_t boot_id[16],
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
  s = inner_->Replace(state);
  if (!s.ok()) {
    return s;
  }
  return journal_->Rewrite(state, boot_id);
}

}  // namespace persistent
}  // namespace samba_ca
