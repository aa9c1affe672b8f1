// Tests of ctdb_handles' view over the in-memory store.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// cmocka 1.1 declares its functions without extern "C".
extern "C" {
#include <cmocka.h>
}

#include <string>
#include <vector>

#include "handle_table.h"
#include "handles_view.h"
#include "persistent_record.h"
#include "store.h"

using namespace samba_ca::persistent;
using samba_ca::handles::HandlesView;

namespace {

constexpr uint64_t kT0 = 1700000000000000ull;

Guid MakeGuid(uint8_t seed) {
  Guid g;
  for (size_t i = 0; i < g.size(); i++) {
    g[i] = static_cast<uint8_t>(seed + i);
  }
  return g;
}

OpenRecord MakeOpen(uint64_t id, uint32_t node) {
  OpenRecord r;
  r.persistent_id = id;
  r.volatile_id = id + 1000;
  r.create_guid = MakeGuid(static_cast<uint8_t>(id));
  r.client_guid = MakeGuid(0x80);
  r.oplock_level = PCORE_OPLOCK_BATCH;
  r.owner.vnn = node;
  r.owner.pid = 100 + id;
  r.owner.unique_id = 1;
  r.access_mask = 0x0012019F;
  r.share_access = 1;
  r.create_disposition = 3;
  r.timeout_ms = 60000;
  r.owner_sid = "S-1-5-21-1-2-3-1000";
  r.share_name = "ca";
  r.path = "file" + std::to_string(id);
  r.reply.create_action = 2;
  return r;
}

void ExpectOk(const Status& s) {
  if (!s.ok()) {
    fail_msg("unexpected failure: %s", s.ToString().c_str());
  }
}

void ExpectContains(const std::string& text, const std::string& part) {
  if (text.find(part) == std::string::npos) {
    fail_msg("\"%s\" not in:\n%s", part.c_str(), text.c_str());
  }
}

void ExpectLacks(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) {
    fail_msg("\"%s\" unexpectedly in:\n%s", part.c_str(), text.c_str());
  }
}

// Three opens on two nodes, one disconnected, granted through the table
// as smbd does, then listed and counted.
void test_list_and_counts(void**) {
  InMemoryStore store;
  HandleTable table(&store);
  ExpectOk(table.Grant(MakeOpen(1, 0)));
  ExpectOk(table.Grant(MakeOpen(2, 1)));
  ExpectOk(table.Grant(MakeOpen(3, 1)));
  ExpectOk(table.Disconnect(3, kT0));

  HandlesView view;
  ExpectOk(view.Load(&store, {0, 1, 2}));
  assert_int_equal(view.opens(), 3);
  std::string list = view.List();
  ExpectContains(list, "0000000000000001 connected       0 101");
  ExpectContains(list, "0000000000000003 disconnected    1 103");
  ExpectContains(list, "ca file2");
  ExpectLacks(list, "bad:");
  ExpectLacks(list, "problem:");
  std::string counts = view.Counts();
  ExpectContains(counts, "node 0: 1 connected, 0 disconnected\n");
  ExpectContains(counts, "node 1: 1 connected, 1 disconnected\n");
  ExpectContains(counts, "total: 3 opens (2 connected, 1 disconnected), "
                         "0 bad records, 0 problems\n");

  std::string shown;
  ExpectOk(view.Show(3, &shown));
  ExpectContains(shown, "state: disconnected\n");
  ExpectContains(shown, "owner: node 1 pid 103");
  ExpectContains(shown, "disconnected at us: 1700000000000000\n");
  assert_int_equal(view.Show(9, &shown).code(), PCORE_NOT_FOUND);

  // The same store gives the same bytes (what every node must print).
  HandlesView again;
  ExpectOk(again.Load(&store, {0, 1, 2}));
  assert_true(again.List() == list);
  assert_true(again.Counts() == counts);
}

// A corrupt record and one of an unknown format version are listed as bad
// with the reason; the good opens beside them are all still there.
void test_bad_records(void**) {
  InMemoryStore store;
  HandleTable table(&store);
  ExpectOk(table.Grant(MakeOpen(1, 0)));
  std::string good;
  ExpectOk(EncodeRecord(MakeOpen(2, 0), &good));

  std::string flipped = good;
  flipped[40] ^= 0x01;  // the checksum no longer matches
  store.PutRaw(HandleTable::RecordKey(2), flipped);
  std::string old_version = good;
  old_version[4] = 0;  // version 0: a format we never wrote
  old_version[5] = 0;
  ResealRecordForTesting(&old_version);
  store.PutRaw(HandleTable::RecordKey(3), old_version);
  store.PutRaw(HandleTable::RecordKey(4), "short");

  HandlesView view;
  ExpectOk(view.Load(&store, {}));
  assert_int_equal(view.opens(), 1);
  assert_int_equal(view.bad().size(), 3);
  assert_true(view.IsBad(2));
  assert_true(view.IsBad(3));
  assert_false(view.IsBad(1));
  std::string list = view.List();
  ExpectContains(list, "0000000000000001 connected");
  ExpectContains(list, "bad: PH/open/0000000000000002: ");
  ExpectContains(list, "bad: PH/open/0000000000000003: ");
  ExpectContains(list, "version 0");
  std::string shown;
  assert_int_equal(view.Show(2, &shown).code(), PCORE_CORRUPT_RECORD);
  ExpectContains(view.Counts(), "1 opens (1 connected, 0 disconnected), "
                                "3 bad records");
}

// A record under another id's key is bad, not a second copy of that open.
void test_record_under_wrong_key(void**) {
  InMemoryStore store;
  std::string enc;
  ExpectOk(EncodeRecord(MakeOpen(5, 0), &enc));
  store.PutRaw(HandleTable::RecordKey(6), enc);
  HandlesView view;
  ExpectOk(view.Load(&store, {}));
  assert_int_equal(view.opens(), 0);
  ExpectContains(view.List(), "the record names open 0000000000000005");
}

// An owner that is not a node of the cluster, and two opens claiming one
// create GUID, are problems that name the opens.
void test_problems(void**) {
  InMemoryStore store;
  HandleTable table(&store);
  ExpectOk(table.Grant(MakeOpen(1, 0)));
  OpenRecord stranger = MakeOpen(2, 7);
  ExpectOk(table.Grant(stranger));
  OpenRecord twin = MakeOpen(3, 1);
  twin.create_guid = MakeOpen(1, 0).create_guid;
  std::string enc;
  ExpectOk(EncodeRecord(twin, &enc));
  store.PutRaw(HandleTable::RecordKey(3), enc);

  HandlesView view;
  ExpectOk(view.Load(&store, {0, 1, 2}));
  std::string list = view.List();
  ExpectContains(list, "problem: open 0000000000000002 names node 7, which "
                       "is not in the cluster\n");
  ExpectContains(list, "claimed by opens 0000000000000001 0000000000000003 "
                       "(the index names 0000000000000001)");
  // Without a node list nobody is a stranger.
  HandlesView unchecked;
  ExpectOk(unchecked.Load(&store, {}));
  ExpectLacks(unchecked.List(), "names node 7");
}

// Names are printed escaped: a newline in a path cannot forge a line.
void test_printable(void**) {
  InMemoryStore store;
  HandleTable table(&store);
  OpenRecord r = MakeOpen(1, 0);
  r.path = "a\nproblem: fake";
  ExpectOk(table.Grant(r));
  HandlesView view;
  ExpectOk(view.Load(&store, {0}));
  ExpectContains(view.List(), "a\\x0aproblem: fake");
  ExpectLacks(view.List(), "\nproblem:");
}

// A store that fails to traverse fails the load.
class FailingStore : public InMemoryStore {
 public:
  Status Traverse(const Visitor&) override {
    return Status(PCORE_STORE_IO_ERROR, "no ctdbd");
  }
};

void test_store_error(void**) {
  FailingStore store;
  HandlesView view;
  assert_int_equal(view.Load(&store, {}).code(), PCORE_STORE_IO_ERROR);
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_list_and_counts),
      cmocka_unit_test(test_bad_records),
      cmocka_unit_test(test_record_under_wrong_key),
      cmocka_unit_test(test_problems),
      cmocka_unit_test(test_printable),
      cmocka_unit_test(test_store_error),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
