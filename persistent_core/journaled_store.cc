// A Store made durable by a journal, over any other Store
// (journaled_store.h).
#include "journaled_store.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

#include "coding.h"

namespace samba_ca {
namespace persistent {
namespace {

std::string EncodeGeneration(uint64_t generation) {
  std::string s;
  PutFixed64(&s, generation);
  return s;
}

bool DecodeGeneration(const std::string& s, uint64_t* generation) {
  if (s.size() != 8) {
    return false;
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(s.data());
  *generation = static_cast<uint64_t>(DecodeFixed32(p)) |
                (static_cast<uint64_t>(DecodeFixed32(p + 4)) << 32);
  return true;
}

bool IsMetaKey(const std::string& key) {
  return key == JournaledStore::kIndexBootKey ||
         key == JournaledStore::kGenerationKey;
}

}  // namespace

const char JournaledStore::kIndexBootKey[] = "PHJ/index-boot";
const char JournaledStore::kGenerationKey[] = "PHJ/generation";

std::string JournaledStore::StampPath(const std::string& journal_path) {
  return journal_path + ".stamp";
}

JournaledStore::JournaledStore(Store* inner) : inner_(inner) {}

JournaledStore::~JournaledStore() = default;

void JournaledStore::set_privileged(std::function<void(bool)> enter) {
  privileged_ = std::move(enter);
}

void JournaledStore::set_log(std::function<void(const std::string&)> log) {
  log_ = std::move(log);
}

void JournaledStore::Log(const std::string& message) {
  if (log_) {
    log_(message);
  }
}

Status JournaledStore::Read(const std::function<Status()>& read) {
  if (stamp_ == nullptr || stamp_->held() != LookupStamp::Mode::kNone) {
    return read();
  }
  {
    StampLock lock(stamp_.get(), LookupStamp::Mode::kShared);
    if (!lock.status().ok()) {
      return lock.status();
    }
    if (!stamp_->dirty()) {
      return read();
    }
  }
  // An update was cut short: rebuild before anybody reads the remains.
  StampLock lock(stamp_.get(), LookupStamp::Mode::kExclusive);
  if (!lock.status().ok()) {
    return lock.status();
  }
  Status s = RecoverIfNeeded();
  if (!s.ok()) {
    return s;
  }
  return read();
}

Status JournaledStore::Get(const std::string& key, std::string* value) {
  return Read([&]() { return inner_->Get(key, value); });
}

Status JournaledStore::Traverse(const Visitor& visitor) {
  return Read([&]() {
    return inner_->Traverse([&](const std::string& k, const std::string& v) {
      return IsMetaKey(k) ? true : visitor(k, v);
    });
  });
}

Status JournaledStore::Exclusive(const BeforeCommit& fn) {
  if (stamp_ == nullptr) {
    return inner_->Exclusive(fn);
  }
  StampLock lock(stamp_.get(), LookupStamp::Mode::kExclusive);
  if (!lock.status().ok()) {
    return lock.status();
  }
  return inner_->Exclusive(fn);
}

std::string JournaledStore::LookupProblem() {
  if (!stamp_->valid()) {
    return "stamp " + stamp_->path() + " missing or damaged";
  }
  if (stamp_->dirty()) {
    return "torn or stale: an update was cut short between its journal "
           "append and the lookup copy (stamp left dirty)";
  }
  std::string value;
  Status g = inner_->Get(kGenerationKey, &value);
  uint64_t generation = 0;
  if (!g.ok() || !DecodeGeneration(value, &generation)) {
    return "missing: the lookup copy holds no generation (" +
           (g.ok() ? std::string("bad value") : g.ToString()) + ")";
  }
  if (generation != stamp_->generation()) {
    char buf[128];
    snprintf(buf, sizeof(buf),
             "stale: the lookup copy is at generation %llu, its stamp at "
             "%llu",
             static_cast<unsigned long long>(generation),
             static_cast<unsigned long long>(stamp_->generation()));
    return buf;
  }
  return std::string();
}

// Empties the inner store (in place, or by throwing its file away) and
// fills it with state, then marks the stamp clean at a new generation.
Status JournaledStore::Refill(const KeyValueMap& state, RebuildKind kind) {
  uint64_t generation = stamp_->generation() + 1;
  stamp_->MarkDirty();
  if (kind == RebuildKind::kReplace) {
    Status s = inner_->Replace(state);
    if (!s.ok()) {
      return s;
    }
    WriteBatch meta;
    meta.Put(kGenerationKey, EncodeGeneration(generation));
    s = inner_->Apply(meta, false);
    if (!s.ok()) {
      return s;
    }
  } else {
    Status s = inner_->Clear();
    if (!s.ok()) {
      // Too damaged to be emptied in place: thrown away.
      Log("lookup copy cannot be emptied in place (" + s.ToString() +
          "): replaced");
      return Refill(state, RebuildKind::kReplace);
    }
    WriteBatch batch;
    for (const auto& kv : state) {
      batch.Put(kv.first, kv.second);
    }
    batch.Put(kGenerationKey, EncodeGeneration(generation));
    s = inner_->Apply(batch, false);
    if (!s.ok()) {
      return s;
    }
  }
  stamp_->MarkClean(generation);
  return Status::OK();
}

Status JournaledStore::RecoverIfNeeded() {
  std::string problem = LookupProblem();
  if (problem.empty()) {
    return Status::OK();
  }
  Status s = journal_->Refresh();
  KeyValueMap state;
  JournalFoldStats stats;
  if (s.ok()) {
    s = journal_->Fold(&state, &stats);
  }
  if (s.ok()) {
    s = Refill(state, RebuildKind::kClear);
  }
  recoveries_++;
  char counts[160];
  snprintf(counts, sizeof(counts),
           ": %llu journal entries replayed, %llu keys, %llu damaged bytes "
           "skipped",
           static_cast<unsigned long long>(stats.entries),
           static_cast<unsigned long long>(state.size()),
           static_cast<unsigned long long>(stats.skipped_bytes));
  if (!s.ok()) {
    Log("lookup copy disagrees with the journal " + journal_->path() + " (" +
        problem + ") and rebuilding it failed: " + s.ToString());
    return s;
  }
  Log("lookup copy rebuilt from the journal " + journal_->path() + " (" +
      problem + ")" + counts);
  return Status::OK();
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
  // Group commit: the append is written with the stamp held alone, and
  // synced after the stamp is released, so that the fdatasyncs of smbds
  // updating at the same time can share one flush of the disk.  Nested in
  // a caller that holds the stamp, the sync happens under it.
  Status s = ApplyLocked(batch, before_commit);
  if (!s.ok() || !sync) {
    return s;
  }
  s = journal_->Sync();
  if (!s.ok()) {
    // The update is visible and in the journal's page cache, but not
    // known to be on disk: the caller is told it failed (never
    // acknowledged); an fdatasync error means the file system has lost
    // writes, which the next reboot's rebuild sees as it is.
    Log("journal " + journal_->path() + ": update not made durable: " +
        s.ToString());
  }
  return s;
}

Status JournaledStore::ApplyLocked(const WriteBatch& batch,
                                   const BeforeCommit& before_commit) {
  StampLock lock(stamp_.get(), LookupStamp::Mode::kExclusive);
  if (!lock.status().ok()) {
    return lock.status();
  }
  Status s = RecoverIfNeeded();
  if (!s.ok()) {
    return s;
  }
  uint64_t generation = stamp_->generation() + 1;
  WriteBatch inner_batch = batch;
  inner_batch.Put(kGenerationKey, EncodeGeneration(generation));
  // The inner store checks the expectations, then this runs before any op
  // is visible: the keys' old values are kept for an undo, the stamp goes
  // dirty, the batch goes to the journal.
  bool marked = false;
  bool journaled = false;
  WriteBatch undo;
  s = inner_->ApplyWith(inner_batch, false, [&]() -> Status {
    if (before_commit) {
      Status b = before_commit();
      if (!b.ok()) {
        return b;
      }
    }
    for (const auto& op : batch.ops()) {
      std::string value;
      Status g = inner_->Get(op.key, &value);
      if (g.ok()) {
        undo.Put(op.key, value);
      } else if (g.code() == PCORE_NOT_FOUND) {
        undo.Delete(op.key);
      } else {
        return g;
      }
    }
    stamp_->MarkDirty();
    marked = true;
    Status a = journal_->Append(batch, false);
    journaled = a.ok();
    return a;
  });
  if (!s.ok()) {
    if (journaled) {
      Compensate(undo);
    } else if (marked) {
      // The append failed and was cut back: nothing reached the inner
      // store either.
      stamp_->MarkClean(generation - 1);
    }
    return s;
  }
  stamp_->MarkClean(generation);
  if (journal_->NeedsCompaction()) {
    MaybeCompact();
  }
  return s;
}

// The inner store failed after the journal took the batch: journal the
// keys' old values, so that a rebuild does not bring back an update nobody
// was told of, and rebuild the inner store from the journal, since it may
// hold part of the batch.  With the stamp held.
void JournaledStore::Compensate(const WriteBatch& undo) {
  Status a = journal_->Append(undo, true);
  if (!a.ok()) {
    Log("journal " + journal_->path() + ": undo of a failed update not "
        "written: " + a.ToString());
  }
  RecoverIfNeeded();
}

// With the stamp held no update can be appended meanwhile.
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
  std::unique_ptr<LookupStamp> stamp(new (std::nothrow) LookupStamp());
  if (journal == nullptr || stamp == nullptr) {
    return Status(PCORE_NO_MEMORY, "journal");
  }
  if (privileged_) {
    journal->set_privileged(privileged_);
  }
  // The stamp's lock first, then the journal's: the order every writer
  // takes them in (a compaction runs with the stamp held).
  bool stamp_created = false;
  Status s = stamp->Open(StampPath(path), &stamp_created);
  if (s.ok()) {
    s = stamp->Lock(LookupStamp::Mode::kExclusive);
  }
  if (!s.ok()) {
    return s;
  }
  bool fresh = false;
  s = journal->OpenLocked(path, &fresh);
  if (!s.ok()) {
    return s;
  }
  journal_ = std::move(journal);
  stamp_ = std::move(stamp);
  std::string index_boot;
  Status g = inner_->Get(kIndexBootKey, &index_boot);
  bool matched = g.ok() && index_boot.size() == 16 &&
                 memcmp(index_boot.data(), boot_id, 16) == 0;
  if (fresh) {
    // Nothing was ever journaled: the inner store is all there is.
    if (!g.ok() && g.code() != PCORE_NOT_FOUND) {
      s = Status(g.code(), "store unreadable and no journal to rebuild "
                           "it from: " + g.message());
    }
    KeyValueMap state;
    if (s.ok()) {
      s = inner_->Traverse([&](const std::string& k, const std::string& v) {
        if (!IsMetaKey(k)) {
          state[k] = v;
        }
        return true;
      });
    }
    if (s.ok()) {
      s = journal_->Rewrite(state, boot_id);
    }
    if (s.ok()) {
      uint64_t generation = stamp_->generation() + 1;
      WriteBatch meta;
      meta.Put(kGenerationKey, EncodeGeneration(generation));
      s = inner_->Apply(meta, false);
      if (s.ok()) {
        stamp_->MarkClean(generation);
      }
    }
    report->action = PCORE_JOURNAL_CREATED;
    report->keys = state.size();
  } else if (!matched) {
    // Another boot (unsynced writes of the inner store may be lost or
    // torn, its structure too), or unreadable: thrown away and rebuilt.
    std::string why = g.ok() ? "written during another boot"
                      : g.code() == PCORE_NOT_FOUND
                          ? "missing: no boot mark (a new or emptied file)"
                          : "unreadable: " + g.ToString();
    if (!stamp_->valid()) {
      why += "; stamp " + stamp_->path() + " missing or damaged";
    } else if (stamp_->dirty()) {
      why += "; stamp dirty (an update was cut short)";
    }
    snprintf(report->reason, sizeof(report->reason), "%s", why.c_str());
    // Emptied in place while it can be read, so that an smbd of this
    // boot that has it open keeps the file everybody uses; thrown away
    // when unreadable.
    s = Rebuild(boot_id,
                g.ok() || g.code() == PCORE_NOT_FOUND ? RebuildKind::kClear
                                                      : RebuildKind::kReplace,
                report);
  } else {
    std::string problem = LookupProblem();
    if (problem.empty()) {
      report->action = PCORE_JOURNAL_TRUSTED;
    } else {
      // This boot, but a process died in the middle of an update.
      snprintf(report->reason, sizeof(report->reason), "%s",
               problem.c_str());
      s = Rebuild(boot_id, RebuildKind::kClear, report);
    }
  }
  if (s.ok() && report->action != PCORE_JOURNAL_TRUSTED) {
    // Straight to the inner store: the mark is not journaled.
    WriteBatch meta;
    meta.Put(kIndexBootKey,
             std::string(reinterpret_cast<const char*>(boot_id), 16));
    s = inner_->Apply(meta, false);
  }
  journal_->Unlock();
  stamp_->Unlock();
  if (!s.ok()) {
    journal_.reset();
    stamp_.reset();
    return s;
  }
  return Status::OK();
}

// The journal is the truth: fold it, replace the inner store's contents
// with the result, and rewrite the journal without its history and its
// bad bytes, so that the next rebuild starts clean.  With both locks held.
Status JournaledStore::Rebuild(const uint8_t boot_id[16], RebuildKind kind,
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
  s = Refill(state, kind);
  if (!s.ok()) {
    return s;
  }
  return journal_->Rewrite(state, boot_id);
}

}  // namespace persistent
}  // namespace samba_ca
