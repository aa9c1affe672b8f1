// Tests of the local store's journal and of a journaled store over a
// callback store, as the glue has it: replay, torn and corrupted entries, headers, compaction, a
// rewrite seen by another opener, and the attach decisions (created,
// trusted, rebuilt) with a failing append and a failing commit; the
// attach reads the store only under the journal's lock and rebuilds once
// per boot, an unreadable store included.
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <map>
#include <string>
#include "journal_test_util.h"
// After the C++ headers: cmocka defines fail() as a macro.
// cmocka 1.1 declares its functions without extern "C".
extern "C" {
#include <cmocka.h>
}

#include "coding.h"
#include "crc32c.h"
#include "journal.h"
#include "journaled_store.h"
#include "persistent_core.h"
#include "store.h"

using namespace samba_ca::persistent;

namespace {

// A journal created and rewritten empty, so that it has a header.
void NewJournal(Journal* j, const std::string& path) {
  bool fresh = false;
  assert_true(j->OpenLocked(path, &fresh).ok());
  assert_true(fresh);
  assert_true(j->Rewrite(KeyValueMap(), kBootA).ok());
  j->Unlock();
}

void Put(Journal* j, const std::string& k, const std::string& v) {
  WriteBatch b;
  b.Put(k, v);
  assert_true(j->Append(b, true).ok());
}

void test_append_fold(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  Journal j;
  NewJournal(&j, path);
  Put(&j, "a", "1");
  Put(&j, "b", "2");
  WriteBatch b;
  b.Put("c", std::string("\0x\0", 3));
  b.Delete("a");
  b.Put("b", "");
  assert_true(j.Append(b, false).ok());

  JournalFoldStats stats;
  KeyValueMap m = FoldFile(path, &stats);
  assert_int_equal(stats.entries, 3);
  assert_int_equal(stats.skipped_bytes, 0);
  assert_true(stats.first_problem.empty());
  assert_int_equal(m.size(), 2);
  assert_true(m["b"].empty());
  assert_true(m["c"] == std::string("\0x\0", 3));
}

void test_torn_tail(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  Journal j;
  NewJournal(&j, path);
  Put(&j, "a", "1");
  Put(&j, "b", std::string(300, 'v'));
  std::string data = ReadFile(path);
  // A power loss in the middle of the second entry.
  WriteFile(path, data.substr(0, data.size() - 100));
  JournalFoldStats stats;
  KeyValueMap m = FoldFile(path, &stats);
  assert_int_equal(stats.entries, 1);
  assert_int_equal(m.size(), 1);
  assert_true(m["a"] == "1");
  assert_true(stats.skipped_bytes > 0);
  assert_true(stats.first_problem.find("entry at offset") == 0);
}

void test_corrupt_middle_entry(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  Journal j;
  NewJournal(&j, path);
  Put(&j, "a", "1");
  uint64_t second = FileSize(path);
  Put(&j, "b", "2");
  Put(&j, "c", "3");
  std::string data = ReadFile(path);
  data[second + 14] ^= 0x40;  // inside the second entry's payload
  WriteFile(path, data);
  JournalFoldStats stats;
  KeyValueMap m = FoldFile(path, &stats);
  // The damaged entry is passed over, the one after it still counts.
  assert_int_equal(stats.entries, 2);
  assert_true(m.count("a") == 1 && m.count("b") == 0 && m.count("c") == 1);
  assert_true(stats.first_problem.find("checksum mismatch") !=
              std::string::npos);
  assert_true(stats.first_problem.find(std::to_string(second)) !=
              std::string::npos);
}

void test_bad_headers(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  {
    Journal j;
    NewJournal(&j, path);
  }
  std::string good = ReadFile(path);
  bool fresh = false;

  std::string bad = good;
  bad[0] = 'X';
  WriteFile(path, bad);
  {
    Journal j;
    Status s = j.OpenLocked(path, &fresh);
    assert_int_equal(s.code(), PCORE_CORRUPT_RECORD);
    assert_true(s.message().find("bad magic") != std::string::npos);
  }
  bad = good;
  bad[20] ^= 1;  // boot id: covered by the checksum
  WriteFile(path, bad);
  {
    Journal j;
    assert_int_equal(j.OpenLocked(path, &fresh).code(), PCORE_CORRUPT_RECORD);
  }
  WriteFile(path, good.substr(0, 30));
  {
    Journal j;
    Status s = j.OpenLocked(path, &fresh);
    assert_int_equal(s.code(), PCORE_CORRUPT_RECORD);
    assert_true(s.message().find("truncated") != std::string::npos);
  }
  // Version 2 with a correct checksum: a newer format, not damage.
  bad = good;
  bad[8] = 2;
  // The checksum of the header's first 40 bytes, little endian.
  uint32_t crc = Crc32c(reinterpret_cast<const uint8_t*>(bad.data()), 40);
  EncodeFixed32(reinterpret_cast<uint8_t*>(&bad[40]), crc);
  WriteFile(path, bad);
  {
    Journal j;
    Status s = j.OpenLocked(path, &fresh);
    assert_int_equal(s.code(), PCORE_UNKNOWN_VERSION);
    assert_true(s.message().find("version 2") != std::string::npos);
  }
}

void test_compaction(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  Journal j;
  NewJournal(&j, path);
  std::string value(500, 'x');
  int i = 0;
  while (!j.NeedsCompaction()) {
    Put(&j, "k" + std::to_string(i % 10), value + std::to_string(i));
    i++;
  }
  assert_true(j.size() >= Journal::kMinCompactBytes);
  bool done = false;
  assert_true(j.Compact(&done).ok());
  assert_true(done);
  assert_false(j.NeedsCompaction());
  assert_true(FileSize(path) < 10 * 1024);
  Put(&j, "after", "compaction");
  JournalFoldStats stats;
  KeyValueMap m = FoldFile(path, &stats);
  assert_int_equal(m.size(), 11);
  assert_true(m["k" + std::to_string((i - 1) % 10)] ==
              value + std::to_string(i - 1));
  assert_true(m["after"] == "compaction");
  assert_int_equal(stats.skipped_bytes, 0);
}

void test_append_follows_rewrite(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("j");
  Journal a;
  NewJournal(&a, path);
  Put(&a, "a", "1");
  Journal b;
  bool fresh = true;
  assert_true(b.OpenLocked(path, &fresh).ok());
  assert_false(fresh);
  KeyValueMap m;
  JournalFoldStats stats;
  assert_true(b.Fold(&m, &stats).ok());
  assert_true(b.Rewrite(m, kBootA).ok());
  b.Unlock();
  // a still holds the replaced file; its next append must reach the new one.
  Put(&a, "c", "3");
  KeyValueMap after = FoldFile(path, &stats);
  assert_int_equal(after.size(), 2);
  assert_true(after["c"] == "3");
}

// ---- A store over the C callbacks, with transactions, as the glue's. ----

struct MapStore {
  std::map<std::string, std::string> data;
  std::map<std::string, std::string> txn;
  bool in_txn = false;
  bool fail_commit = false;
  int wipes = 0;
  // A store file the glue cannot open (torn by a power loss): reads
  // fail until a wipe replaces it.
  bool unreadable = false;
  // Set: each read, transaction start and wipe checks from another
  // process whether this journal is locked.
  std::string lock_probe;
  int probes = 0;
  int unlocked = 0;
};

// Whether another process finds the journal at path locked (an fcntl
// lock is invisible to the process that holds it).
bool LockedForOthers(const std::string& path) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct flock fl;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 1;
    if (fd == -1 || fcntl(fd, F_GETLK, &fl) == -1) {
      _exit(2);
    }
    _exit(fl.l_type == F_UNLCK ? 1 : 0);
  }
  int status = 0;
  if (pid == -1 || waitpid(pid, &status, 0) != pid) {
    return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void Probe(MapStore* s) {
  if (s->lock_probe.empty()) {
    return;
  }
  s->probes++;
  if (!LockedForOthers(s->lock_probe)) {
    s->unlocked++;
  }
}

pcore_status MFetch(void* p, const uint8_t* k, size_t kl, pcore_parser_fn fn,
                    void* pd) {
  auto* s = static_cast<MapStore*>(p);
  Probe(s);
  if (s->unreadable) {
    return PCORE_STORE_IO_ERROR;
  }
  auto& m = s->in_txn ? s->txn : s->data;
  auto it = m.find(std::string(reinterpret_cast<const char*>(k), kl));
  if (it == m.end()) {
    return PCORE_NOT_FOUND;
  }
  fn(reinterpret_cast<const uint8_t*>(it->second.data()), it->second.size(),
     pd);
  return PCORE_OK;
}
pcore_status MStore(void* p, const uint8_t* k, size_t kl, const uint8_t* v,
                    size_t vl) {
  auto* s = static_cast<MapStore*>(p);
  s->txn[std::string(reinterpret_cast<const char*>(k), kl)] =
      std::string(reinterpret_cast<const char*>(v), vl);
  return PCORE_OK;
}
pcore_status MRemove(void* p, const uint8_t* k, size_t kl) {
  auto* s = static_cast<MapStore*>(p);
  return s->txn.erase(std::string(reinterpret_cast<const char*>(k), kl)) ? PCORE_OK
                                                          : PCORE_NOT_FOUND;
}
pcore_status MTraverse(void* p, pcore_traverse_fn fn, void* td) {
  auto* s = static_cast<MapStore*>(p);
  Probe(s);
  if (s->unreadable) {
    return PCORE_STORE_IO_ERROR;
  }
  auto m = s->in_txn ? s->txn : s->data;
  for (const auto& kv : m) {
    if (fn(reinterpret_cast<const uint8_t*>(kv.first.data()), kv.first.size(),
           reinterpret_cast<const uint8_t*>(kv.second.data()),
           kv.second.size(), td) != 0) {
      break;
    }
  }
  return PCORE_OK;
}
pcore_status MStart(void* p) {
  auto* s = static_cast<MapStore*>(p);
  Probe(s);
  if (s->in_txn || s->unreadable) {
    return PCORE_STORE_IO_ERROR;
  }
  s->txn = s->data;
  s->in_txn = true;
  return PCORE_OK;
}
pcore_status MCommit(void* p, int) {
  auto* s = static_cast<MapStore*>(p);
  s->in_txn = false;
  if (s->fail_commit) {
    return PCORE_STORE_FULL;
  }
  s->data = s->txn;
  return PCORE_OK;
}
pcore_status MCancel(void* p) {
  static_cast<MapStore*>(p)->in_txn = false;
  return PCORE_OK;
}
pcore_status MWipe(void* p) {
  auto* s = static_cast<MapStore*>(p);
  Probe(s);
  s->data.clear();
  s->unreadable = false;
  s->wipes++;
  return PCORE_OK;
}

pcore_store_ops Ops(MapStore* s) {
  pcore_store_ops ops = {};
  ops.private_data = s;
  ops.fetch = MFetch;
  ops.store = MStore;
  ops.remove = MRemove;
  ops.traverse = MTraverse;
  ops.transaction_start = MStart;
  ops.transaction_commit = MCommit;
  ops.transaction_cancel = MCancel;
  ops.wipe = MWipe;
  return ops;
}

// The glue's store: the callbacks, with the journal wrapped around them.
struct CallbackHolder {
  explicit CallbackHolder(const pcore_store_ops& ops) : callbacks(ops) {}
  CallbackStore callbacks;
};

class GlueStore : private CallbackHolder, public JournaledStore {
 public:
  explicit GlueStore(const pcore_store_ops& ops)
      : CallbackHolder(ops), JournaledStore(&callbacks) {}
};

Status Attach(GlueStore* store, const std::string& path,
              const uint8_t boot[16], pcore_journal_report* r) {
  *r = pcore_journal_report();
  return store->Open(path, boot, r);
}

void test_attach_created_trusted_rebuilt(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("store.journal");
  MapStore ms;
  ms.data["PH/open/old"] = "from a store without journal";
  pcore_journal_report r;
  {
    GlueStore store(Ops(&ms));
    assert_true(Attach(&store, path, kBootA, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_CREATED);
    assert_int_equal(r.keys, 1);
    assert_true(store.Put("PH/open/new", "granted", true).ok());
  }
  // An smbd restart in the same boot: the store is used as it is.
  ms.data["PH/unjournaled"] = "x";  // shows the store was not rebuilt
  {
    GlueStore store(Ops(&ms));
    assert_true(Attach(&store, path, kBootA, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_TRUSTED);
    assert_int_equal(ms.data.count("PH/unjournaled"), 1);
    ms.data.erase("PH/unjournaled");
    assert_true(store.Delete("PH/open/old", false).ok());
  }
  // After a reboot the store's unsynced writes are gone or torn.
  ms.data.clear();
  ms.data["PH/open/torn"] = "garbage";
  {
    GlueStore store(Ops(&ms));
    assert_true(Attach(&store, path, kBootB, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
    assert_int_equal(ms.wipes, 0);  // readable: emptied in place
    assert_int_equal(r.keys, 1);
    assert_int_equal(r.skipped_bytes, 0);
    // the record, the boot key and the generation
    assert_int_equal(ms.data.size(), 3);
    assert_true(ms.data["PH/open/new"] == "granted");
    assert_int_equal(ms.data.count(JournaledStore::kIndexBootKey), 1);
  }
  // The rebuild compacted the journal: one entry for the one key.
  JournalFoldStats stats;
  KeyValueMap m = FoldFile(path, &stats);
  assert_int_equal(stats.entries, 1);
  assert_int_equal(m.size(), 1);
}

// The glue opens its store file in the first callback of the attach: every
// callback the attach makes, whatever it decides, must come with the
// journal locked, so that no smbd decides on, or opens, a file that
// another one is replacing.
void test_attach_reads_store_under_lock(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("store.journal");
  MapStore ms;
  ms.data["PH/open/old"] = "v";
  ms.lock_probe = path;
  pcore_journal_report r;
  const struct {
    const uint8_t* boot;
    uint32_t action;
  } attaches[] = {
      {kBootA, PCORE_JOURNAL_CREATED},
      {kBootA, PCORE_JOURNAL_TRUSTED},
      {kBootB, PCORE_JOURNAL_REBUILT},
  };
  for (const auto& a : attaches) {
    ms.probes = 0;
    ms.unlocked = 0;
    GlueStore store(Ops(&ms));
    assert_true(Attach(&store, path, a.boot, &r).ok());
    assert_int_equal(r.action, a.action);
    assert_true(ms.probes > 0);
    assert_int_equal(ms.unlocked, 0);
    // Attached, the journal is unlocked again (and the probe sees it).
    assert_true(store.Put("PH/open/new", "v", true).ok());
    assert_true(ms.unlocked > 0);
  }
  assert_int_equal(ms.wipes, 0);  // readable: emptied in place
}

// After a reboot every smbd attaches; the first rebuilds, the others find
// the store it rebuilt matched with this boot and use it as it is.
void test_rebuild_once_per_boot(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("store.journal");
  MapStore ms;
  pcore_journal_report r;
  {
    GlueStore store(Ops(&ms));
    assert_true(Attach(&store, path, kBootA, &r).ok());
    assert_true(store.Put("PH/open/1", "before", true).ok());
  }
  ms.data["PH/open/torn"] = "garbage";  // the reboot
  GlueStore first(Ops(&ms));
  assert_true(Attach(&first, path, kBootB, &r).ok());
  assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
  assert_true(first.Put("PH/open/2", "after", true).ok());
  for (int i = 0; i < 3; i++) {
    GlueStore other(Ops(&ms));
    assert_true(Attach(&other, path, kBootB, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_TRUSTED);
  }
  assert_int_equal(ms.wipes, 0);  // readable: emptied in place
  assert_true(ms.data["PH/open/2"] == "after");  // nothing thrown away
  assert_int_equal(ms.data.count("PH/open/torn"), 0);
  JournalFoldStats stats;
  KeyValueMap m = FoldFile(path, &stats);
  assert_int_equal(m.size(), 2);
}

// A store file that cannot be read at all (the glue cannot open a TDB a
// power loss tore) is rebuilt from the journal by the attach, under its
// lock, whichever boot it is; with nothing journaled it is an error and
// nothing is wiped.
void test_attach_rebuilds_unreadable_store(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("store.journal");
  MapStore ms;
  pcore_journal_report r;
  {
    GlueStore store(Ops(&ms));
    assert_true(Attach(&store, path, kBootA, &r).ok());
    assert_true(store.Put("PH/open/1", "v", true).ok());
  }
  const uint8_t* boots[] = {kBootB, kBootB};  // a reboot, then a restart
  for (const uint8_t* boot : boots) {
    ms.unreadable = true;
    GlueStore store(Ops(&ms));
    assert_true(Attach(&store, path, boot, &r).ok());
    assert_int_equal(r.action, PCORE_JOURNAL_REBUILT);
    assert_false(ms.unreadable);
    assert_true(ms.data["PH/open/1"] == "v");
  }
  assert_int_equal(ms.wipes, 2);

  MapStore fresh;
  fresh.unreadable = true;
  GlueStore store(Ops(&fresh));
  Status s = Attach(&store, dir.File("new.journal"), kBootA, &r);
  assert_false(s.ok());
  assert_false(store.is_open());
  assert_int_equal(fresh.wipes, 0);
}

void test_attach_refuses_bad_journal(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("store.journal");
  MapStore ms;
  pcore_journal_report r;
  {
    GlueStore store(Ops(&ms));
    assert_true(Attach(&store, path, kBootA, &r).ok());
    assert_true(store.Put("PH/open/1", "v", true).ok());
  }
  std::string data = ReadFile(path);
  data[3] = '?';
  WriteFile(path, data);
  auto before = ms.data;
  GlueStore store(Ops(&ms));
  Status s = Attach(&store, path, kBootB, &r);
  assert_int_equal(s.code(), PCORE_CORRUPT_RECORD);
  assert_false(store.is_open());
  assert_true(ms.data == before);  // nothing wiped
  assert_int_equal(ms.wipes, 0);
  assert_true(ReadFile(path) == data);  // nor the journal touched
}

void test_failed_append_is_not_visible(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("store.journal");
  MapStore ms;
  pcore_journal_report r;
  GlueStore store(Ops(&ms));
  assert_true(Attach(&store, path, kBootA, &r).ok());
  assert_true(store.Put("PH/open/1", "v", true).ok());
  uint64_t size = FileSize(path);

  // A full disk, as far as this process can tell.
  struct rlimit old_limit, limit;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  signal(SIGXFSZ, SIG_IGN);
  limit = old_limit;
  limit.rlim_cur = size + 8;
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &limit), 0);
  Status s = store.Put("PH/open/2", std::string(100, 'v'), true);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  assert_int_equal(s.code(), PCORE_STORE_FULL);
  assert_int_equal(ms.data.count("PH/open/2"), 0);
  assert_int_equal(FileSize(path), size);  // cut back: no torn entry
  assert_true(store.Put("PH/open/3", "v", true).ok());

  JournalFoldStats stats;
  KeyValueMap m = FoldFile(path, &stats);
  assert_int_equal(stats.skipped_bytes, 0);
  assert_int_equal(m.count("PH/open/2"), 0);
  assert_int_equal(m.count("PH/open/3"), 1);
}

void test_failed_commit_is_undone_in_journal(void** state) {
  (void)state;
  TempDir dir;
  std::string path = dir.File("store.journal");
  MapStore ms;
  pcore_journal_report r;
  GlueStore store(Ops(&ms));
  assert_true(Attach(&store, path, kBootA, &r).ok());
  assert_true(store.Put("PH/open/1", "old", true).ok());
  ms.fail_commit = true;
  WriteBatch b;
  b.Put("PH/open/1", "new");
  b.Put("PH/open/2", "new");
  assert_int_equal(store.Apply(b, true).code(), PCORE_STORE_FULL);
  ms.fail_commit = false;
  // A rebuild from the journal agrees with the store.
  JournalFoldStats stats;
  KeyValueMap m = FoldFile(path, &stats);
  assert_true(m["PH/open/1"] == "old");
  assert_int_equal(m.count("PH/open/2"), 0);
}

void test_c_api_attach(void** state) {
  (void)state;
  assert_int_equal(pcore_status_from_errno(ENOSPC), PCORE_STORE_FULL);
  assert_int_equal(pcore_status_from_errno(EROFS), PCORE_STORE_READ_ONLY);
  assert_int_equal(pcore_status_from_errno(EIO), PCORE_STORE_IO_ERROR);
  TempDir dir;
  std::string boot = dir.File("boot_id");
  WriteFile(boot, "0a010203-0405-0607-0809-0a0b0c0d0e0f\n");
  MapStore ms;
  pcore_store_ops ops = Ops(&ms);
  pcore_store* store = nullptr;
  assert_int_equal(pcore_store_new(&ops, &store), PCORE_OK);
  pcore_journal_report r;
  assert_int_equal(pcore_store_attach_journal(store,
                                              dir.File("j").c_str(),
                                              boot.c_str(), &r),
                   PCORE_OK);
  assert_int_equal(r.action, PCORE_JOURNAL_CREATED);
  std::string meta = ms.data[JournaledStore::kIndexBootKey];
  assert_int_equal(meta.size(), 16);
  assert_memory_equal(meta.data(), kBootA, 16);
  // Twice is a caller's mistake.
  assert_int_equal(pcore_store_attach_journal(store, dir.File("j").c_str(),
                                              boot.c_str(), &r),
                   PCORE_INVALID_PARAMETER);
  pcore_store_free(store);

  WriteFile(boot, "not a uuid\n");
  assert_int_equal(pcore_store_new(&ops, &store), PCORE_OK);
  assert_int_equal(pcore_store_attach_journal(store, dir.File("j").c_str(),
                                              boot.c_str(), &r),
                   PCORE_INVALID_PARAMETER);
  assert_true(strstr(r.problem, "holds no UUID") != nullptr);
  pcore_store_free(store);
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_fold),
      cmocka_unit_test(test_torn_tail),
      cmocka_unit_test(test_corrupt_middle_entry),
      cmocka_unit_test(test_bad_headers),
      cmocka_unit_test(test_compaction),
      cmocka_unit_test(test_append_follows_rewrite),
      cmocka_unit_test(test_attach_created_trusted_rebuilt),
      cmocka_unit_test(test_attach_reads_store_under_lock),
      cmocka_unit_test(test_rebuild_once_per_boot),
      cmocka_unit_test(test_attach_rebuilds_unreadable_store),
      cmocka_unit_test(test_attach_refuses_bad_journal),
      cmocka_unit_test(test_failed_append_is_not_visible),
      cmocka_unit_test(test_failed_commit_is_undone_in_journal),
      cmocka_unit_test(test_c_api_attach),
  };
  return cmocka_run_group_tests_name("journal", tests, nullptr, nullptr);
}

