// Tests of JournaledStore over InMemoryStore: the journal as a wrapper
// around any store.  Journal bytes written before this wrapper existed are
// read as they are (golden bytes) and the wrapper writes the same bytes;
// every update is in the journal before the inner store makes it visible,
// and the inner store is not asked to sync; what the inner store refuses
// is not journaled, or is undone in the journal; a crash between the
// append and the inner store's commit is replayed by the next rebuild;
// a torn or damaged journal tail is detected and brings back nothing,
// least of all a record whose delete was synced.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>
#include "journal_test_util.h"
// After the C++ headers: cmocka defines fail() as a macro.
// cmocka 1.1 declares its functions without extern "C".
extern "C" {
#include <cmocka.h>
}

#include "journal.h"
#include "journaled_store.h"
#include "persistent_core.h"
#include "store.h"

using namespace samba_ca::persistent;

namespace {

// A journal of format version 1, byte for byte: a header (boot kBootA, base
// bytes 105, its CRC32C), an entry putting PH/open/1 = "granted" (what a
// rewrite of that one key writes), then one entry of two ops: put
// PH/open/2 = "v2", delete PH/open/1.
const uint8_t kGolden[] = {
    0x50, 0x48, 0x43, 0x41, 0x4a, 0x52, 0x4e, 0x4c, 0x01, 0x00, 0x00, 0x00,
    0x40, 0x00, 0x00, 0x00, 0x0a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x69, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x69, 0x05, 0xb3, 0x0e, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x50, 0x48, 0x4a, 0x45, 0x1d, 0x00, 0x00, 0x00,
    0x2c, 0xee, 0x57, 0xe1, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x00, 0x00,
    0x00, 0x50, 0x48, 0x2f, 0x6f, 0x70, 0x65, 0x6e, 0x2f, 0x31, 0x07, 0x00,
    0x00, 0x00, 0x67, 0x72, 0x61, 0x6e, 0x74, 0x65, 0x64, 0x50, 0x48, 0x4a,
    0x45, 0x26, 0x00, 0x00, 0x00, 0x15, 0xb2, 0xde, 0xbb, 0x02, 0x00, 0x00,
    0x00, 0x01, 0x09, 0x00, 0x00, 0x00, 0x50, 0x48, 0x2f, 0x6f, 0x70, 0x65,
    0x6e, 0x2f, 0x32, 0x02, 0x00, 0x00, 0x00, 0x76, 0x32, 0x02, 0x09, 0x00,
    0x00, 0x00, 0x50, 0x48, 0x2f, 0x6f, 0x70, 0x65, 0x6e, 0x2f, 0x31,
};
constexpr size_t kGoldenFirstEntryEnd = 105;

std::string Golden() {
  return std::string(reinterpret_cast<const char*>(kGolden), sizeof(kGolden));
}

std::string Boot(const uint8_t boot[16]) {
  return std::string(reinterpret_cast<const char*>(boot), 16);
}

// An inner store that lets a test look at, or fail, the moment between
// the wrapper's before_commit and the commit: forwards to an
// InMemoryStore.
class InnerSpy : public Store {
 public:
  explicit InnerSpy(InMemoryStore* mem) : mem_(mem) {}

  Status Get(const std::string& key, std::string* value) override {
    return mem_->Get(key, value);
  }
  Status Traverse(const Visitor& visitor) override {
    return mem_->Traverse(visitor);
  }
  Status ApplyWith(const WriteBatch& batch, bool sync,
                   const BeforeCommit& before_commit) override {
    applies++;
    if (sync) {
      synced_applies++;
    }
    return mem_->ApplyWith(batch, sync, [&]() -> Status {
      Status s = before_commit ? before_commit() : Status::OK();
      if (!s.ok()) {
        return s;
      }
      if (at_commit) {
        at_commit(batch);
      }
      if (fail_commit) {
        return Status(PCORE_STORE_FULL, "inner commit failed");
      }
      return s;
    });
  }

  std::function<void(const WriteBatch&)> at_commit;
  bool fail_commit = false;
  int applies = 0;
  int synced_applies = 0;

 private:
  InMemoryStore* mem_;
};

// The inner store's records, without the wrapper's boot mark and
// generation.
KeyValueMap Records(const InMemoryStore& mem) {
  KeyValueMap m = mem.contents();
  m.erase(JournaledStore::kIndexBootKey);
  m.erase(JournaledStore::kGenerationKey);
  return m;
}

bool IsMeta(const std::string& key) {
  return key == JournaledStore::kIndexBootKey ||
         key == JournaledStore::kGenerationKey;
}

// The batch's first op that is not the wrapper's own.
std::string FirstKey(const WriteBatch& batch) {
  for (const auto& op : batch.ops()) {
    if (!IsMeta(op.key)) {
      return op.key;
    }
  }
  return std::string();
}

Status Open(JournaledStore* store, const std::string& path,
            const uint8_t boot[16], pcore_journal_report* r) {
  *r = pcore_journal_report();
  return store->Open(path, boot, r);
}

// A journal written before the wrapper existed is replayed into any inner
// store, whatever that store held.
void test_golden_journal_is_read(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  WriteFile(path, Golden());
  InMemoryStore mem;
  mem.PutRaw("PH/open/stale", "torn by a power loss");
  JournaledStore store(&mem);
  pcore_journal_report r;
  assert_true(Open(&store, path, kBootB, &r).ok());
  assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
  assert_int_equal(r.entries, 2);
  assert_int_equal(r.skipped_bytes, 0);
  assert_int_equal(r.keys, 1);
  KeyValueMap expect = {{"PH/open/2", "v2"}};
  assert_true(Records(mem) == expect);
  assert_true(mem.contents().at(JournaledStore::kIndexBootKey) ==
              Boot(kBootB));
  std::string v;
  assert_int_equal(store.Get("PH/open/1", &v).code(), PCORE_NOT_FOUND);
}

// And the wrapper writes the same bytes: a journal created from an inner
// store's contents, then one batch.
void test_golden_journal_is_written(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  InMemoryStore mem;
  mem.PutRaw("PH/open/1", "granted");
  JournaledStore store(&mem);
  pcore_journal_report r;
  assert_true(Open(&store, path, kBootA, &r).ok());
  assert_int_equal(r.action, PCORE_JOURNAL_CREATED);
  assert_true(ReadFile(path) == Golden().substr(0, kGoldenFirstEntryEnd));
  WriteBatch b;
  b.Put("PH/open/2", "v2");
  b.Delete("PH/open/1");
  assert_true(store.Apply(b, true).ok());
  assert_true(ReadFile(path) == Golden());
}

// The update is in the journal before the inner store takes it (synced
// before ApplyWith returns, after the stamp is released: group commit);
// the inner store is never asked to sync; the traverse shows records only.
void test_journal_before_inner(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  InMemoryStore mem;
  InnerSpy spy(&mem);
  JournaledStore store(&spy);
  pcore_journal_report r;
  assert_true(Open(&store, path, kBootA, &r).ok());
  int seen = 0;
  spy.at_commit = [&](const WriteBatch& batch) {
    if (FirstKey(batch).empty()) {
      return;
    }
    seen++;
    JournalFoldStats stats;
    KeyValueMap journaled = FoldFile(path, &stats);
    std::string v;
    for (const auto& op : batch.ops()) {
      if (IsMeta(op.key)) {
        continue;
      }
      bool put = op.type == WriteBatch::OpType::kPut;
      assert_int_equal(journaled.count(op.key), put ? 1 : 0);
      if (put) {
        assert_true(journaled[op.key] == op.value);
        assert_int_equal(mem.Get(op.key, &v).code(), PCORE_NOT_FOUND);
      } else {
        assert_true(mem.Get(op.key, &v).ok());
      }
    }
  };
  assert_true(store.Put("PH/open/1", "a", true).ok());
  assert_true(store.Put("PH/open/2", "b", true).ok());
  assert_true(store.Delete("PH/open/1", true).ok());
  assert_int_equal(seen, 3);
  assert_int_equal(spy.synced_applies, 0);
  assert_int_equal(mem.synced_applies(), 0);
  int visited = 0;
  assert_true(store
                  .Traverse([&](const std::string& k, const std::string&) {
                    assert_true(k == "PH/open/2");
                    visited++;
                    return true;
                  })
                  .ok());
  assert_int_equal(visited, 1);
}

// What the inner store refuses before the append (an expectation, a
// failing store) is not journaled; what it fails after the append is
// undone in the journal, so that a rebuild agrees with what callers were
// told.
void test_refused_updates_leave_journal_agreeing(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  InMemoryStore mem;
  InnerSpy spy(&mem);
  JournaledStore store(&spy);
  pcore_journal_report r;
  assert_true(Open(&store, path, kBootA, &r).ok());
  assert_true(store.Put("PH/open/1", "old", true).ok());
  uint64_t size = FileSize(path);

  WriteBatch conflict;
  conflict.ExpectAbsent("PH/open/1");
  conflict.Put("PH/open/1", "second grant");
  assert_int_equal(store.Apply(conflict, true).code(), PCORE_STORE_CONFLICT);
  assert_int_equal(FileSize(path), size);

  mem.FailWrites(PCORE_STORE_IO_ERROR);
  assert_int_equal(store.Put("PH/open/2", "x", true).code(),
                   PCORE_STORE_IO_ERROR);
  mem.FailWrites(PCORE_OK);
  assert_int_equal(FileSize(path), size);

  spy.fail_commit = true;
  WriteBatch b;
  b.Put("PH/open/1", "new");
  b.Put("PH/open/3", "new");
  assert_int_equal(store.Apply(b, true).code(), PCORE_STORE_FULL);
  spy.fail_commit = false;
  JournalFoldStats stats;
  KeyValueMap journaled = FoldFile(path, &stats);
  assert_true(journaled == Records(mem));
  assert_true(journaled["PH/open/1"] == "old");
  assert_int_equal(journaled.count("PH/open/3"), 0);
}

// The process dies after the synced append, before the inner store took
// the update: nobody was told, the inner store lacks the update, and the
// stamp it left dirty makes the next opener of the same boot rebuild the
// inner store from the journal (stale), with the reason in the report.  A
// delete that reached the journal so is not undone by the rebuild either.
void test_crash_between_append_and_commit(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  InMemoryStore mem;
  InnerSpy spy(&mem);
  pcore_journal_report r;
  {
    JournaledStore store(&spy);
    assert_true(Open(&store, path, kBootA, &r).ok());
    assert_true(store.Put("PH/open/gone", "closed later", true).ok());
    assert_true(store.Put("PH/open/kept", "v", true).ok());
    const WriteBatch* crash_at = nullptr;
    WriteBatch grant;
    grant.Put("PH/open/new", "granted");
    WriteBatch close;
    close.Delete("PH/open/gone");
    for (const WriteBatch* batch : {&grant, &close}) {
      crash_at = batch;
      pid_t pid = fork();
      assert_true(pid != -1);
      if (pid == 0) {
        // The batch as the inner store gets it: the caller's ops and the
        // wrapper's generation (not a rebuild's batch).
        spy.at_commit = [&](const WriteBatch& b) {
          if (FirstKey(b) == FirstKey(*crash_at) &&
              b.ops().size() == crash_at->ops().size() + 1) {
            _exit(0);
          }
        };
        store.Apply(*batch, true);
        _exit(1);  // the crash did not come
      }
      int status = 0;
      assert_int_equal(waitpid(pid, &status, 0), pid);
      assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
  }
  // This process's inner store is what the dead one left behind.
  std::string v;
  assert_int_equal(mem.Get("PH/open/new", &v).code(), PCORE_NOT_FOUND);
  assert_true(mem.Get("PH/open/gone", &v).ok());
  KeyValueMap expect = {{"PH/open/kept", "v"}, {"PH/open/new", "granted"}};
  {
    // A restart in the same boot: the stamp is dirty, the inner store is
    // rebuilt in place.
    JournaledStore store(&spy);
    assert_true(Open(&store, path, kBootA, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
    assert_true(strstr(r.reason, "cut short") != nullptr);
    assert_true(Records(mem) == expect);
  }
  {
    JournaledStore store(&spy);
    assert_true(Open(&store, path, kBootA, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_TRUSTED);
  }
  JournaledStore store(&spy);
  assert_true(Open(&store, path, kBootB, &r).ok());
  assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
  assert_true(strstr(r.reason, "another boot") != nullptr);
  assert_int_equal(r.skipped_bytes, 0);
  assert_true(Records(mem) == expect);
}

// Bad input: a lookup copy that disagrees with the journal in the same
// boot.  Stale (an older copy of the file: its generation is behind the
// stamp's), missing (emptied), or torn while other processes run (an
// update cut short, found by the next reader of a store opened before):
// each is detected, rebuilt from the journal and reported; no open is
// lost and none whose close was synced comes back.
void test_lookup_copy_disagrees(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  InMemoryStore mem;
  InnerSpy spy(&mem);
  pcore_journal_report r;
  KeyValueMap old_copy;
  {
    JournaledStore store(&spy);
    assert_true(Open(&store, path, kBootA, &r).ok());
    assert_true(store.Put("PH/open/closed", "granted", true).ok());
    assert_true(store.Put("PH/open/kept", "granted", true).ok());
    old_copy = mem.contents();
    assert_true(store.Delete("PH/open/closed", true).ok());
    assert_true(store.Put("PH/open/later", "granted", true).ok());
  }
  KeyValueMap expect = {{"PH/open/kept", "granted"},
                        {"PH/open/later", "granted"}};

  // Stale: the older copy is put back.
  InMemoryStore stale;
  for (const auto& kv : old_copy) {
    stale.PutRaw(kv.first, kv.second);
  }
  {
    JournaledStore store(&stale);
    assert_true(Open(&store, path, kBootA, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
    assert_true(strstr(r.reason, "stale") != nullptr);
    assert_true(Records(stale) == expect);
  }

  // Missing: an empty lookup copy.
  InMemoryStore missing;
  {
    JournaledStore store(&missing);
    assert_true(Open(&store, path, kBootA, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
    assert_true(strstr(r.reason, "missing") != nullptr);
    assert_true(Records(missing) == expect);
  }

  // A damaged stamp vouches for nothing.
  {
    std::string bytes = ReadFile(JournaledStore::StampPath(path));
    bytes[20] ^= 0x40;
    WriteFile(JournaledStore::StampPath(path), bytes);
    JournaledStore store(&missing);
    assert_true(Open(&store, path, kBootA, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
    assert_true(strstr(r.reason, "damaged") != nullptr);
    assert_true(Records(missing) == expect);
  }

  // Torn while this process has the store open: another process dies in
  // the middle of an update (here: after the append, with one key of two
  // applied); this process's next read rebuilds and logs it.
  InMemoryStore shared;
  InnerSpy shared_spy(&shared);
  JournaledStore reader(&shared_spy);
  std::vector<std::string> logged;
  reader.set_log([&](const std::string& m) { logged.push_back(m); });
  assert_true(Open(&reader, path, kBootA, &r).ok());
  assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
  pid_t pid = fork();
  assert_true(pid != -1);
  if (pid == 0) {
    JournaledStore writer(&shared_spy);
    pcore_journal_report wr;
    if (!Open(&writer, path, kBootA, &wr).ok() ||
        wr.action != PCORE_JOURNAL_TRUSTED) {
      _exit(2);
    }
    shared_spy.at_commit = [&](const WriteBatch& b) {
      if (FirstKey(b) == "PH/open/torn") {
        _exit(0);
      }
    };
    WriteBatch b;
    b.Put("PH/open/torn", "granted");
    b.Delete("PH/open/kept");
    writer.Apply(b, true);
    _exit(1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // What the dead writer left in this process's copy: half its batch.
  shared.PutRaw("PH/open/torn", "granted");
  std::string v;
  assert_true(reader.Get("PH/open/kept", &v).code() == PCORE_NOT_FOUND);
  assert_int_equal(reader.recoveries(), 1);
  assert_int_equal(logged.size(), 1);
  assert_true(logged[0].find("cut short") != std::string::npos);
  KeyValueMap after = {{"PH/open/later", "granted"},
                       {"PH/open/torn", "granted"}};
  assert_true(Records(shared) == after);
  // Agreed again: no more rebuilds.
  assert_true(reader.Put("PH/open/next", "granted", true).ok());
  assert_int_equal(reader.recoveries(), 1);
}

// A torn last entry (a power loss in the middle of an append that was
// never acknowledged) and a damaged one are detected, skipped and named;
// neither brings back the record whose delete was synced before them.
void test_torn_tail_resurrects_nothing(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  InMemoryStore mem;
  pcore_journal_report r;
  std::string grant_again;
  {
    JournaledStore store(&mem);
    assert_true(Open(&store, path, kBootA, &r).ok());
    assert_true(store.Put("PH/open/1", "granted", true).ok());
    assert_true(store.Put("PH/open/2", "granted", true).ok());
    assert_true(store.Delete("PH/open/1", true).ok());
    WriteBatch again;
    again.Put("PH/open/1", "granted");
    grant_again = Journal::EncodeEntry(again);
  }
  std::string synced = ReadFile(path);
  const std::string tails[] = {
      grant_again.substr(0, grant_again.size() - 3),  // torn
      grant_again.substr(0, 12) + std::string(grant_again.size() - 12, 'x'),
  };
  for (const std::string& tail : tails) {
    WriteFile(path, synced + tail);
    InMemoryStore after_reboot;
    after_reboot.PutRaw("PH/open/1", "torn index");
    JournaledStore store(&after_reboot);
    assert_true(Open(&store, path, kBootB, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
    assert_int_equal(r.skipped_bytes, tail.size());
    assert_true(strstr(r.problem, "entry at offset") != nullptr);
    assert_true(strstr(r.problem, std::to_string(synced.size()).c_str()) !=
                nullptr);
    KeyValueMap expect = {{"PH/open/2", "granted"}};
    assert_true(Records(after_reboot) == expect);
    // The rebuild rewrote the journal without the bad bytes.
    JournalFoldStats stats;
    assert_true(FoldFile(path, &stats) == expect);
    assert_int_equal(stats.skipped_bytes, 0);
  }
}

// Compaction through the wrapper: the journal shrinks and still folds to
// what the inner store holds.
void test_compaction_through_wrapper(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  InMemoryStore mem;
  JournaledStore store(&mem);
  pcore_journal_report r;
  assert_true(Open(&store, path, kBootA, &r).ok());
  std::string value(500, 'x');
  uint64_t largest = 0;
  bool shrank = false;
  for (int i = 0; i < 5000 && !shrank; i++) {
    assert_true(
        store.Put("PH/open/" + std::to_string(i % 10), value + std::to_string(i),
                  false)
            .ok());
    uint64_t size = FileSize(path);
    shrank = size < largest;
    largest = size > largest ? size : largest;
  }
  assert_true(shrank);
  // The update that took the file past the threshold compacted it.
  assert_true(largest + 1024 >= Journal::kMinCompactBytes);
  JournalFoldStats stats;
  assert_true(FoldFile(path, &stats) == Records(mem));
  assert_int_equal(stats.skipped_bytes, 0);
}

void test_not_open(void** state) {
  (void)state;
  InMemoryStore mem;
  JournaledStore store(&mem);
  assert_false(store.is_open());
  assert_int_equal(store.Put("PH/open/1", "v", true).code(),
                   PCORE_STORE_IO_ERROR);
  assert_int_equal(mem.size(), 0);
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_journal_is_read),
      cmocka_unit_test(test_golden_journal_is_written),
      cmocka_unit_test(test_journal_before_inner),
      cmocka_unit_test(test_refused_updates_leave_journal_agreeing),
      cmocka_unit_test(test_crash_between_append_and_commit),
      cmocka_unit_test(test_lookup_copy_disagrees),
      cmocka_unit_test(test_torn_tail_resurrects_nothing),
      cmocka_unit_test(test_compaction_through_wrapper),
      cmocka_unit_test(test_not_open),
  };
  return cmocka_run_group_tests_name("journaled_store", tests, nullptr,
                                     nullptr);
}
