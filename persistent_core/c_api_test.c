/*
 * The persistent core driven from plain C through persistent_core.h alone,
 * over a store implemented here in C (an array with a copy-on-start
 * transaction), the way the glue implements its TDB and CTDB stores.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "persistent_core.h"

#define MAX_ENTRIES 64
#define MAX_KEY 64
#define MAX_VALUE 8192

struct entry {
	uint8_t key[MAX_KEY];
	size_t key_len;
	uint8_t value[MAX_VALUE];
	size_t value_len;
};

struct c_store {
	struct entry entries[MAX_ENTRIES];
	size_t count;
	struct entry saved[MAX_ENTRIES];
	size_t saved_count;
	int in_transaction;
	int commits;
	int synced_commits;
	pcore_status fail_store; /* returned by store() when not PCORE_OK */
};

static struct entry *find(struct c_store *s, const uint8_t *key,
			  size_t key_len)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		if (s->entries[i].key_len == key_len &&
		    memcmp(s->entries[i].key, key, key_len) == 0) {
			return &s->entries[i];
		}
	}
	return NULL;
}

static pcore_status c_fetch(void *private_data, const uint8_t *key,
			    size_t key_len, pcore_parser_fn parser,
			    void *parser_data)
{
	struct entry *e = find(private_data, key, key_len);

	if (e == NULL) {
		return PCORE_NOT_FOUND;
	}
	parser(e->value, e->value_len, parser_data);
	return PCORE_OK;
}

static pcore_status c_store(void *private_data, const uint8_t *key,
			    size_t key_len, const uint8_t *value,
			    size_t value_len)
{
	struct c_store *s = private_data;
	struct entry *e = NULL;

	if (s->fail_store != PCORE_OK) {
		return s->fail_store;
	}
	if (!s->in_transaction || key_len > MAX_KEY || value_len > MAX_VALUE) {
		return PCORE_STORE_IO_ERROR;
	}
	e = find(s, key, key_len);
	if (e == NULL) {
		if (s->count == MAX_ENTRIES) {
			return PCORE_STORE_FULL;
		}
		e = &s->entries[s->count++];
		memcpy(e->key, key, key_len);
		e->key_len = key_len;
	}
	memcpy(e->value, value, value_len);
	e->value_len = value_len;
	return PCORE_OK;
}

static pcore_status c_remove(void *private_data, const uint8_t *key,
			     size_t key_len)
{
	struct c_store *s = private_data;
	struct entry *e = find(s, key, key_len);

	if (!s->in_transaction) {
		return PCORE_STORE_IO_ERROR;
	}
	if (e == NULL) {
		return PCORE_NOT_FOUND;
	}
	*e = s->entries[--s->count];
	return PCORE_OK;
}

static pcore_status c_traverse(void *private_data, pcore_traverse_fn fn,
			       void *traverse_data)
{
	struct c_store *s = private_data;
	size_t i;

	for (i = 0; i < s->count; i++) {
		struct entry *e = &s->entries[i];
		if (fn(e->key, e->key_len, e->value, e->value_len,
		       traverse_data) != 0) {
			break;
		}
	}
	return PCORE_OK;
}

static pcore_status c_transaction_start(void *private_data)
{
	struct c_store *s = private_data;

	if (s->in_transaction) {
		return PCORE_STORE_IO_ERROR;
	}
	memcpy(s->saved, s->entries, sizeof(s->entries));
	s->saved_count = s->count;
	s->in_transaction = 1;
	return PCORE_OK;
}

static pcore_status c_transaction_commit(void *private_data, int sync)
{
	struct c_store *s = private_data;

	if (!s->in_transaction) {
		return PCORE_STORE_IO_ERROR;
	}
	s->in_transaction = 0;
	s->commits++;
	if (sync) {
		s->synced_commits++;
	}
	return PCORE_OK;
}

static pcore_status c_transaction_cancel(void *private_data)
{
	struct c_store *s = private_data;

	memcpy(s->entries, s->saved, sizeof(s->entries));
	s->count = s->saved_count;
	s->in_transaction = 0;
	return PCORE_OK;
}

struct fixture {
	struct c_store *backing;
	struct pcore_store *store;
	struct pcore_table *table;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pcore_store_ops ops;

	assert_non_null(f);
	f->backing = calloc(1, sizeof(*f->backing));
	assert_non_null(f->backing);
	memset(&ops, 0, sizeof(ops));
	ops.private_data = f->backing;
	ops.fetch = c_fetch;
	ops.store = c_store;
	ops.remove = c_remove;
	ops.traverse = c_traverse;
	ops.transaction_start = c_transaction_start;
	ops.transaction_commit = c_transaction_commit;
	ops.transaction_cancel = c_transaction_cancel;
	assert_int_equal(pcore_store_new(&ops, &f->store), PCORE_OK);
	assert_int_equal(pcore_table_new(f->store, &f->table), PCORE_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pcore_table_free(f->table);
	pcore_store_free(f->store);
	free(f->backing);
	free(f);
	return 0;
}

static const char user[] = "S-1-5-21-1-2-3-1000";
static const uint64_t t0 = 1700000000000000ull;

static void fill_open(struct pcore_open *o, uint64_t id)
{
	memset(o, 0, sizeof(*o));
	o->persistent_id = id;
	o->volatile_id = 1;
	memset(o->create_guid, (int)id, sizeof(o->create_guid));
	memset(o->client_guid, 0xCC, sizeof(o->client_guid));
	o->oplock_level = PCORE_OPLOCK_LEASE;
	o->lease_version = 2;
	memset(o->lease_key, 0x11, sizeof(o->lease_key));
	o->lease_state = PCORE_LEASE_READ | PCORE_LEASE_HANDLE;
	o->owner_sid = user;
	o->share_name = "ca";
	o->path = "dir/file.bin";
	o->owner.pid = 100;
	o->access_mask = 0x12019F;
	o->share_access = 1;
	o->create_disposition = 1;
	o->timeout_ms = 60000;
	memset(o->lock_sequence, PCORE_LOCK_SEQUENCE_INVALID,
	       sizeof(o->lock_sequence));
	o->reply.create_action = 1;
	o->reply.end_of_file = 42;
}

static void fill_reconnect(struct pcore_reconnect_request *r,
			   const struct pcore_open *o)
{
	memset(r, 0, sizeof(*r));
	r->persistent_id = o->persistent_id;
	memcpy(r->create_guid, o->create_guid, PCORE_GUID_SIZE);
	memcpy(r->client_guid, o->client_guid, PCORE_GUID_SIZE);
	r->persistent_flag = 1;
	r->has_lease = 1;
	memcpy(r->lease_key, o->lease_key, PCORE_GUID_SIZE);
	r->lease_version = o->lease_version;
	r->owner_sid = user;
	r->share_name = "ca";
	r->new_owner.pid = 200;
	r->new_volatile_id = 2;
}

static void test_version_and_strings(void **state)
{
	int i;

	(void)state;
	assert_non_null(strstr(pcore_version(), "samba-ca"));
	for (i = 0; i < PCORE_STATUS_COUNT; i++) {
		const char *s = pcore_status_string((pcore_status)i);
		assert_non_null(s);
		assert_true(strlen(s) > 0);
	}
	assert_string_equal(pcore_status_string(PCORE_STATUS_COUNT),
			    "unknown status");
}

static void test_incomplete_ops_refused(void **state)
{
	struct pcore_store_ops ops;
	struct pcore_store *store = NULL;

	(void)state;
	memset(&ops, 0, sizeof(ops));
	ops.fetch = c_fetch;
	assert_int_equal(pcore_store_new(&ops, &store), PCORE_INVALID_PARAMETER);
	assert_null(store);
	assert_int_equal(pcore_store_new(NULL, &store), PCORE_INVALID_PARAMETER);
}

static void test_grant_disconnect_reconnect(void **state)
{
	struct fixture *f = *state;
	struct pcore_open o;
	struct pcore_open view;
	struct pcore_reconnect_request r;
	struct pcore_record *rec = NULL;
	struct pcore_lock lock;

	fill_open(&o, 7);
	assert_int_equal(pcore_grant(f->table, &o), PCORE_OK);
	assert_int_equal(f->backing->count, 3); /* record, GUID, path index */
	assert_int_equal(f->backing->synced_commits, 1);
	assert_string_equal(pcore_table_last_error(f->table), "");

	memset(&lock, 0, sizeof(lock));
	lock.offset = 4096;
	lock.length = 512;
	lock.type = PCORE_LOCK_EXCLUSIVE;
	assert_int_equal(pcore_lock_add(f->table, 7, &lock, (3u << 4) | 1),
			 PCORE_OK);
	assert_int_equal(pcore_disconnect(f->table, 7, t0), PCORE_OK);
	assert_int_equal(pcore_check_open_conflict(f->table, "ca",
						   "dir/file.bin", t0 + 1),
			 PCORE_FILE_NOT_AVAILABLE);

	fill_reconnect(&r, &o);
	assert_int_equal(pcore_reconnect(f->table, &r, t0 + 1000, &rec),
			 PCORE_OK);
	pcore_record_view(rec, &view);
	assert_int_equal(view.persistent_id, 7);
	assert_int_equal(view.volatile_id, 2);
	assert_int_equal(view.state, PCORE_STATE_CONNECTED);
	assert_int_equal(view.owner.pid, 200);
	assert_string_equal(view.path, "dir/file.bin");
	assert_string_equal(view.owner_sid, user);
	assert_int_equal(view.num_locks, 1);
	assert_int_equal(view.locks[0].offset, 4096);
	assert_int_equal(view.locks[0].type, PCORE_LOCK_EXCLUSIVE);
	assert_int_equal(view.lock_sequence[2], 1);
	assert_int_equal(view.reply.end_of_file, 42);
	assert_int_equal(view.sequence, 4);
	pcore_record_free(rec);
}

static void test_reconnect_wrong_user(void **state)
{
	struct fixture *f = *state;
	struct pcore_open o;
	struct pcore_reconnect_request r;
	struct pcore_record *rec = NULL;
	struct entry before[MAX_ENTRIES];
	size_t count;

	fill_open(&o, 8);
	assert_int_equal(pcore_grant(f->table, &o), PCORE_OK);
	assert_int_equal(pcore_disconnect(f->table, 8, t0), PCORE_OK);
	memcpy(before, f->backing->entries, sizeof(before));
	count = f->backing->count;

	fill_reconnect(&r, &o);
	r.owner_sid = "S-1-5-21-1-2-3-1001";
	assert_int_equal(pcore_reconnect(f->table, &r, t0 + 1, &rec),
			 PCORE_USER_MISMATCH);
	assert_null(rec);
	assert_non_null(strstr(pcore_table_last_error(f->table), "S-1-5-21"));
	fill_reconnect(&r, &o);
	assert_int_equal(pcore_reconnect(f->table, &r, t0 + 60000000ull, &rec),
			 PCORE_EXPIRED);
	assert_int_equal(f->backing->count, count);
	assert_memory_equal(f->backing->entries, before, sizeof(before));
}

static void test_store_full_on_grant(void **state)
{
	struct fixture *f = *state;
	struct pcore_open o;
	struct pcore_record *rec = NULL;

	fill_open(&o, 9);
	f->backing->fail_store = PCORE_STORE_FULL;
	assert_int_equal(pcore_grant(f->table, &o), PCORE_STORE_FULL);
	assert_int_equal(f->backing->count, 0);
	assert_int_equal(f->backing->synced_commits, 0);
	f->backing->fail_store = PCORE_OK;
	assert_int_equal(pcore_fetch(f->table, 9, &rec), PCORE_NOT_FOUND);
}

static void test_grant_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct pcore_open o;
	struct pcore_lock locks[1];

	fill_open(&o, 10);
	o.path = NULL;
	assert_int_equal(pcore_grant(f->table, &o), PCORE_INVALID_PARAMETER);
	fill_open(&o, 10);
	o.num_locks = 1;
	o.locks = NULL;
	assert_int_equal(pcore_grant(f->table, &o), PCORE_INVALID_PARAMETER);
	memset(locks, 0, sizeof(locks));
	locks[0].type = 7;
	o.locks = locks;
	assert_int_equal(pcore_grant(f->table, &o), PCORE_INVALID_PARAMETER);
	assert_int_equal(pcore_grant(f->table, NULL), PCORE_INVALID_PARAMETER);
	assert_int_equal(f->backing->count, 0);
}

static void test_lock_sequence_replay(void **state)
{
	struct fixture *f = *state;
	struct pcore_open o;
	struct pcore_lock lock;
	int replay = -1;

	fill_open(&o, 11);
	assert_int_equal(pcore_grant(f->table, &o), PCORE_OK);
	memset(&lock, 0, sizeof(lock));
	lock.length = 1;
	assert_int_equal(pcore_lock_sequence_check(f->table, 11, (1u << 4) | 2,
						   &replay),
			 PCORE_OK);
	assert_int_equal(replay, 0);
	assert_int_equal(pcore_lock_add(f->table, 11, &lock, (1u << 4) | 2),
			 PCORE_OK);
	assert_int_equal(pcore_lock_sequence_check(f->table, 11, (1u << 4) | 2,
						   &replay),
			 PCORE_OK);
	assert_int_equal(replay, 1);
	assert_int_equal(pcore_lock_remove(f->table, 11, 5, 1, 0),
			 PCORE_LOCK_NOT_FOUND);
	assert_int_equal(pcore_lock_remove(f->table, 11, 0, 1, 0), PCORE_OK);
}

static void on_sweep(uint64_t persistent_id, pcore_status status,
		     const char *message, void *sweep_data)
{
	uint64_t *found = sweep_data;

	assert_non_null(message);
	if (status == PCORE_EXPIRED) {
		found[0] = persistent_id;
	} else if (status == PCORE_CORRUPT_RECORD) {
		found[1] = persistent_id;
	}
}

static void test_sweep_and_corruption(void **state)
{
	struct fixture *f = *state;
	struct pcore_open o;
	struct pcore_record *rec = NULL;
	struct pcore_open view;
	uint64_t found[2] = {0, 0};
	size_t i;

	fill_open(&o, 12);
	assert_int_equal(pcore_grant(f->table, &o), PCORE_OK);
	fill_open(&o, 13);
	assert_int_equal(pcore_grant(f->table, &o), PCORE_OK);
	assert_int_equal(pcore_disconnect(f->table, 12, t0), PCORE_OK);

	/* Damage record 13 in the backing store. */
	for (i = 0; i < f->backing->count; i++) {
		struct entry *e = &f->backing->entries[i];
		if (e->key_len > 8 && memcmp(e->key, "PH/open/", 8) == 0 &&
		    e->key[e->key_len - 1] == 'd') {
			e->value[40] ^= 0x04;
		}
	}
	assert_int_equal(pcore_fetch(f->table, 13, &rec),
			 PCORE_CORRUPT_RECORD);
	assert_non_null(strstr(pcore_table_last_error(f->table),
			       "PH/open/000000000000000d"));
	assert_int_equal(pcore_fetch(f->table, 12, &rec), PCORE_OK);
	pcore_record_view(rec, &view);
	assert_int_equal(view.state, PCORE_STATE_DISCONNECTED);
	pcore_record_free(rec);

	assert_int_equal(pcore_sweep(f->table, t0 + 60000000ull, on_sweep,
				     found),
			 PCORE_OK);
	assert_int_equal(found[0], 12);
	assert_int_equal(found[1], 13);
	assert_int_equal(pcore_release(f->table, 12), PCORE_OK);
	assert_int_equal(pcore_release(f->table, 13), PCORE_OK);
	/* 13's orphan GUID and path index entries */
	assert_int_equal(f->backing->count, 2);
}

static void test_replay_and_disconnect_server(void **state)
{
	struct fixture *f = *state;
	struct pcore_open o;
	struct pcore_record *rec = NULL;
	struct pcore_open view;
	struct pcore_server_id dead;
	uint8_t other[PCORE_GUID_SIZE];
	uint32_t count = 0;

	fill_open(&o, 14);
	o.reply.channel_sequence = 3;
	assert_int_equal(pcore_grant(f->table, &o), PCORE_OK);
	assert_int_equal(pcore_lookup_replay(f->table, o.create_guid,
					     o.client_guid, &rec),
			 PCORE_OK);
	pcore_record_view(rec, &view);
	assert_int_equal(view.reply.channel_sequence, 3);
	pcore_record_free(rec);
	memset(other, 0x77, sizeof(other));
	assert_int_equal(pcore_lookup_replay(f->table, o.create_guid, other,
					     &rec),
			 PCORE_NOT_FOUND);

	memset(&dead, 0, sizeof(dead));
	dead.pid = 100;
	assert_int_equal(pcore_disconnect_server(f->table, &dead, 0, t0, &count),
			 PCORE_OK);
	assert_int_equal(count, 1);
	assert_int_equal(pcore_update_lease(f->table, 14, PCORE_OPLOCK_LEASE,
					    PCORE_LEASE_READ, 1),
			 PCORE_OK);
}

/*
 * Delete on close through the C API: granted with it (a create that set
 * it, say), set and cleared by SET_INFO, read back after a disconnect.
 */
static void test_delete_on_close(void **state)
{
	struct fixture *f = *state;
	struct pcore_open o;
	struct pcore_record *rec = NULL;
	struct pcore_open view;

	fill_open(&o, 15);
	o.delete_on_close = 1;
	assert_int_equal(pcore_grant(f->table, &o), PCORE_OK);
	assert_int_equal(pcore_fetch(f->table, 15, &rec), PCORE_OK);
	pcore_record_view(rec, &view);
	assert_int_equal(view.delete_on_close, 1);
	pcore_record_free(rec);

	assert_int_equal(pcore_set_delete_on_close(f->table, 15, 0), PCORE_OK);
	assert_int_equal(pcore_disconnect(f->table, 15, t0), PCORE_OK);
	assert_int_equal(pcore_fetch(f->table, 15, &rec), PCORE_OK);
	pcore_record_view(rec, &view);
	assert_int_equal(view.delete_on_close, 0);
	pcore_record_free(rec);

	assert_int_equal(pcore_set_delete_on_close(f->table, 15, 7), PCORE_OK);
	assert_int_equal(pcore_fetch(f->table, 15, &rec), PCORE_OK);
	pcore_record_view(rec, &view);
	assert_int_equal(view.delete_on_close, 1);
	assert_int_equal(view.state, PCORE_STATE_DISCONNECTED);
	pcore_record_free(rec);

	assert_int_equal(pcore_set_delete_on_close(f->table, 16, 1),
			 PCORE_NOT_FOUND);
	assert_int_equal(pcore_set_delete_on_close(NULL, 15, 1),
			 PCORE_INVALID_PARAMETER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_and_strings),
		cmocka_unit_test(test_incomplete_ops_refused),
		cmocka_unit_test_setup_teardown(test_grant_disconnect_reconnect,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_wrong_user,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_full_on_grant, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_grant_bad_arguments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_sequence_replay,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_and_corruption,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_replay_and_disconnect_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_on_close, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("persistent_core_c_api", tests, NULL,
					   NULL);
}
