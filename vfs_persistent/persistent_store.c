/*
 * vfs_persistent: the local store, a TDB opened through dbwrap, offered to
 * the persistent core as its struct pcore_store_ops.
 *
 * Copyright (C) samba-ca contributors 2026
 *
 * This program is free software; you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation; either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program.  If not, see <http://www.gnu.org/licenses/>.
 */

#include "includes.h"
#include "system/filesys.h"
#include "dbwrap/dbwrap.h"
#include "dbwrap/dbwrap_open.h"
#include "util_tdb.h"
#include "lib/util/dlinklist.h"
#include "persistent_glue.h"
#include "persistent_store_ctdb.h"

/* Every store this process opened, one per path. */
static struct persistent_db *persistent_dbs;

pcore_status persistent_db_ntstatus_status(NTSTATUS status)
{
	if (NT_STATUS_IS_OK(status)) {
		return PCORE_OK;
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		return PCORE_NOT_FOUND;
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_DISK_FULL)) {
		return PCORE_STORE_FULL;
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_MEDIA_WRITE_PROTECTED) ||
	    NT_STATUS_EQUAL(status, NT_STATUS_ACCESS_DENIED))
	{
		return PCORE_STORE_READ_ONLY;
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_NO_MEMORY)) {
		return PCORE_NO_MEMORY;
	}
	return PCORE_STORE_IO_ERROR;
}

static struct db_context *persistent_db_open_tdb(struct persistent_db *pdb)
{
	/*
	 * Not TDB_CLEAR_IF_FIRST: the records must survive the last smbd
	 * closing the file, a crash and a restart.  Only transactions,
	 * parse and traverse are used, no record lock is ever held, so
	 * there is no lock order to take part in.
	 *
	 * With the journal, the journal's synced append makes an update
	 * durable and the TDB is a lookup copy: TDB_NOSYNC, and neither
	 * transactions nor TDB locks (TDB_NOLOCK).  The core calls every
	 * callback with the lock of the journal's stamp held (shared for
	 * reads, alone for writes, across processes), and rebuilds the TDB
	 * from the journal when an update was cut short by a crash or after
	 * a reboot (journaled_store.h).
	 */
	return db_open(pdb,
		       pdb->path,
		       0,
		       pdb->journal_path != NULL ? TDB_NOSYNC | TDB_NOLOCK
						 : TDB_DEFAULT,
		       O_RDWR | O_CREAT,
		       0600,
		       DBWRAP_LOCK_ORDER_NONE,
		       DBWRAP_FLAG_NONE);
}

/*
 * With the journal the TDB is opened by the first store callback, which
 * the core makes in pcore_store_attach_journal() with the journal's lock
 * held (see persistent_db_get()); afterwards only a wipe under that lock
 * replaces the file.  The store is root's; the callbacks may run as the
 * connected user.
 */
static bool persistent_db_ensure_open(struct persistent_db *pdb)
{
	int err;

	if (pdb->db != NULL) {
		return true;
	}
	become_root();
	pdb->db = persistent_db_open_tdb(pdb);
	err = errno;
	unbecome_root();
	if (pdb->db == NULL) {
		DBG_WARNING("cannot open the persistent handle store %s: %s\n",
			    pdb->path,
			    strerror(err));
		return false;
	}
	return true;
}

struct persistent_dbwrap_fetch_state {
	pcore_parser_fn parser;
	void *parser_data;
};

static void persistent_dbwrap_fetch_parser(TDB_DATA key,
					   TDB_DATA data,
					   void *private_data)
{
	struct persistent_dbwrap_fetch_state *state = private_data;

	state->parser(data.dptr, data.dsize, state->parser_data);
}

NTSTATUS persistent_dbwrap_fetch(struct db_context *db,
				 const uint8_t *key,
				 size_t key_len,
				 pcore_parser_fn parser,
				 void *parser_data)
{
	struct persistent_dbwrap_fetch_state state = {
		.parser = parser,
		.parser_data = parser_data,
	};

	return dbwrap_parse_record(db,
				   make_tdb_data(key, key_len),
				   persistent_dbwrap_fetch_parser,
				   &state);
}

static pcore_status persistent_db_fetch(void *private_data,
					const uint8_t *key,
					size_t key_len,
					pcore_parser_fn parser,
					void *parser_data)
{
	struct persistent_db *pdb = private_data;
	NTSTATUS status;

	if (!persistent_db_ensure_open(pdb)) {
		return PCORE_STORE_IO_ERROR;
	}
	status = persistent_dbwrap_fetch(pdb->db,
					 key,
					 key_len,
					 parser,
					 parser_data);
	return persistent_db_ntstatus_status(status);
}

static pcore_status persistent_db_store(void *private_data,
					const uint8_t *key,
					size_t key_len,
					const uint8_t *value,
					size_t value_len)
{
	struct persistent_db *pdb = private_data;
	NTSTATUS status;

	status = dbwrap_store(pdb->db,
			      make_tdb_data(key, key_len),
			      make_tdb_data(value, value_len),
			      TDB_REPLACE);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("store in %s failed: %s\n",
			pdb->path,
			nt_errstr(status));
	}
	return persistent_db_ntstatus_status(status);
}

static pcore_status persistent_db_remove(void *private_data,
					 const uint8_t *key,
					 size_t key_len)
{
	struct persistent_db *pdb = private_data;
	NTSTATUS status;

	status = dbwrap_delete(pdb->db, make_tdb_data(key, key_len));
	return persistent_db_ntstatus_status(status);
}

struct persistent_dbwrap_traverse_state {
	pcore_traverse_fn fn;
	void *traverse_data;
};

static int persistent_dbwrap_traverse_fn(struct db_record *rec,
					 void *private_data)
{
	struct persistent_dbwrap_traverse_state *state = private_data;
	TDB_DATA key = dbwrap_record_get_key(rec);
	TDB_DATA value = dbwrap_record_get_value(rec);

	return state->fn(key.dptr,
			 key.dsize,
			 value.dptr,
			 value.dsize,
			 state->traverse_data);
}

NTSTATUS persistent_dbwrap_traverse(struct db_context *db,
				    pcore_traverse_fn fn,
				    void *traverse_data)
{
	struct persistent_dbwrap_traverse_state state = {
		.fn = fn,
		.traverse_data = traverse_data,
	};

	return dbwrap_traverse_read(db,
				    persistent_dbwrap_traverse_fn,
				    &state,
				    NULL);
}

static pcore_status persistent_db_traverse(void *private_data,
					   pcore_traverse_fn fn,
					   void *traverse_data)
{
	struct persistent_db *pdb = private_data;
	NTSTATUS status;

	if (!persistent_db_ensure_open(pdb)) {
		return PCORE_STORE_IO_ERROR;
	}
	status = persistent_dbwrap_traverse(pdb->db, fn, traverse_data);
	return persistent_db_ntstatus_status(status);
}

/*
 * With the journal an update is the core's: its stamp lock is the
 * exclusion and its journal the atomicity (an update cut short is
 * replayed from the journal), so the TDB is written without a
 * transaction, which would remap the file and take several fcntl locks
 * per update.
 */
static pcore_status persistent_db_transaction_start(void *private_data)
{
	struct persistent_db *pdb = private_data;
	int ret;

	if (!persistent_db_ensure_open(pdb)) {
		return PCORE_STORE_IO_ERROR;
	}
	if (pdb->journal_path != NULL) {
		return PCORE_OK;
	}
	ret = dbwrap_transaction_start(pdb->db);
	if (ret != 0) {
		int err = errno;

		DBG_ERR("transaction start on %s failed: %s\n",
			pdb->path,
			strerror(err));
		return pcore_status_from_errno(err);
	}
	return PCORE_OK;
}

/*
 * Without the journal a TDB transaction commit fsyncs the file (the store
 * is opened without TDB_NOSYNC), so a committed record is on stable
 * storage whether or not the core asks for sync.  With the journal the
 * core has synced the journal entry before calling this.
 */
static pcore_status persistent_db_transaction_commit(void *private_data,
						     int sync)
{
	struct persistent_db *pdb = private_data;
	int ret;

	if (pdb->journal_path != NULL) {
		return PCORE_OK;
	}
	ret = dbwrap_transaction_commit(pdb->db);
	if (ret != 0) {
		int err = errno;

		DBG_ERR("transaction commit on %s failed: %s\n",
			pdb->path,
			strerror(err));
		return pcore_status_from_errno(err);
	}
	return PCORE_OK;
}

static pcore_status persistent_db_transaction_cancel(void *private_data)
{
	struct persistent_db *pdb = private_data;
	int ret;

	if (pdb->journal_path != NULL) {
		return PCORE_OK;
	}
	ret = dbwrap_transaction_cancel(pdb->db);
	if (ret != 0) {
		return PCORE_STORE_IO_ERROR;
	}
	return PCORE_OK;
}

/*
 * Called by the core to rebuild the TDB from the journal: after a reboot
 * its unsynced contents are not to be trusted, not even its structure.
 */
static pcore_status persistent_db_wipe(void *private_data)
{
	struct persistent_db *pdb = private_data;
	int ret;

	TALLOC_FREE(pdb->db);
	ret = unlink(pdb->path);
	if (ret != 0 && errno != ENOENT) {
		int err = errno;

		DBG_ERR("cannot remove %s to rebuild it: %s\n",
			pdb->path,
			strerror(err));
		return pcore_status_from_errno(err);
	}
	pdb->db = persistent_db_open_tdb(pdb);
	if (pdb->db == NULL) {
		int err = errno;

		DBG_ERR("cannot create %s: %s\n", pdb->path, strerror(err));
		return pcore_status_from_errno(err);
	}
	return PCORE_OK;
}

/*
 * Empties the TDB in place, for a rebuild while other smbds have it open
 * (with the stamp's lock held alone): they keep using the same file.
 */
static pcore_status persistent_db_clear(void *private_data)
{
	struct persistent_db *pdb = private_data;
	int ret;

	if (!persistent_db_ensure_open(pdb)) {
		return PCORE_STORE_IO_ERROR;
	}
	ret = dbwrap_wipe(pdb->db);
	if (ret != 0) {
		DBG_ERR("cannot empty %s to rebuild it\n", pdb->path);
		return PCORE_STORE_IO_ERROR;
	}
	return PCORE_OK;
}

static void persistent_db_log(void *private_data, const char *message)
{
	struct persistent_db *pdb = private_data;

	DBG_ERR("%s: %s\n", pdb->path, message);
}

static void persistent_db_privileged(void *private_data, int enter)
{
	if (enter) {
		become_root();
	} else {
		unbecome_root();
	}
}

static bool persistent_db_attach_journal(struct persistent_db *pdb,
					 bool *rebuilt)
{
	const char *boot_id_file = lp_parm_const_string(
		GLOBAL_SECTION_SNUM,
		"persistent",
		"boot id file",
		"/proc/sys/kernel/random/boot_id");
	struct pcore_journal_report report;
	pcore_status st;

	/* It may create, rename and remove files in the state directory. */
	become_root();
	st = pcore_store_attach_journal(pdb->store,
					pdb->journal_path,
					boot_id_file,
					&report);
	unbecome_root();
	if (st != PCORE_OK) {
		DBG_ERR("cannot use the journal %s of %s: %s; no persistent "
			"handles until it is repaired or moved away (moving "
			"it away loses the open handles it holds)\n",
			pdb->journal_path,
			pdb->path,
			report.problem);
		return false;
	}
	*rebuilt = report.action == PCORE_JOURNAL_REBUILT;
	switch (report.action) {
	case PCORE_JOURNAL_CREATED:
		DBG_NOTICE("journal %s created from the %" PRIu64 " keys "
			   "of %s\n",
			   pdb->journal_path,
			   report.keys,
			   pdb->path);
		break;
	case PCORE_JOURNAL_REBUILT:
		DBG_WARNING("%s rebuilt from its journal %s (%s): %" PRIu64
			    " entries replayed, %" PRIu64 " keys\n",
			    pdb->path,
			    pdb->journal_path,
			    report.reason,
			    report.entries,
			    report.keys);
		break;
	default:
		DBG_INFO("%s matches its journal %s\n",
			 pdb->path,
			 pdb->journal_path);
		break;
	}
	if (report.skipped_bytes > 0) {
		DBG_ERR("journal %s: %" PRIu64 " bytes of damaged or torn "
			"entries skipped, first: %s\n",
			pdb->journal_path,
			report.skipped_bytes,
			report.problem);
	}
	return true;
}

static int persistent_db_destructor(struct persistent_db *pdb)
{
	DLIST_REMOVE(persistent_dbs, pdb);
	if (pdb->table != NULL) {
		pcore_table_free(pdb->table);
		pdb->table = NULL;
	}
	if (pdb->store != NULL) {
		pcore_store_free(pdb->store);
		pdb->store = NULL;
	}
	return 0;
}

struct persistent_db *persistent_db_get(const char *path)
{
	struct persistent_db *pdb = NULL;
	struct pcore_store_ops ops;
	bool rebuilt = false;
	pcore_status st;

	for (pdb = persistent_dbs; pdb != NULL; pdb = pdb->next) {
		if (strcmp(pdb->path, path) == 0) {
			return pdb;
		}
	}

	pdb = talloc_zero(NULL, struct persistent_db);
	if (pdb == NULL) {
		DBG_ERR("talloc failed\n");
		return NULL;
	}
	talloc_set_destructor(pdb, persistent_db_destructor);
	DLIST_ADD(persistent_dbs, pdb);
	pdb->next_expiry_us = UINT64_MAX;

	pdb->path = talloc_strdup(pdb, path);
	if (pdb->path == NULL) {
		DBG_ERR("talloc failed\n");
		TALLOC_FREE(pdb);
		return NULL;
	}

	/*
	 * The journal (vfs_persistent.8): on by default for a local store;
	 * a clustered store is a CTDB database with its own durability.
	 */
	if (lp_clustering()) {
		/* A node's journal is invisible to the other nodes. */
		if (lp_parm_bool(GLOBAL_SECTION_SNUM,
				 "persistent",
				 "journal",
				 false))
		{
			DBG_WARNING("\"persistent:journal\" is ignored with "
				    "clustering = yes\n");
		}
	} else if (lp_parm_bool(GLOBAL_SECTION_SNUM,
				"persistent",
				"journal",
				true))
	{
		pdb->journal_path = talloc_asprintf(pdb, "%s.journal", path);
		if (pdb->journal_path == NULL) {
			DBG_ERR("talloc failed\n");
			TALLOC_FREE(pdb);
			return NULL;
		}
	}

	/*
	 * With the journal the TDB is opened under the journal's lock, by
	 * the core's first read in persistent_db_attach_journal(), where a
	 * rebuild is decided and done.  Opened before, it could be the file
	 * that another smbd, the first to attach after a reboot, removes to
	 * rebuild it: this smbd would find the old file unmatched, rebuild
	 * again and remove the other's new one.  A TDB that cannot be opened
	 * (torn by a power loss) is rebuilt there too, under the same lock.
	 */
	if (pdb->journal_path == NULL && !lp_clustering()) {
		pdb->db = persistent_db_open_tdb(pdb);
		if (pdb->db == NULL) {
			DBG_ERR("cannot open the persistent handle store %s: "
				"%s\n",
				path,
				strerror(errno));
			TALLOC_FREE(pdb);
			return NULL;
		}
	}

	ops = (struct pcore_store_ops){
		.private_data = pdb,
		.fetch = persistent_db_fetch,
		.store = persistent_db_store,
		.remove = persistent_db_remove,
		.traverse = persistent_db_traverse,
		.transaction_start = persistent_db_transaction_start,
		.transaction_commit = persistent_db_transaction_commit,
		.transaction_cancel = persistent_db_transaction_cancel,
		.wipe = persistent_db_wipe,
		.privileged = persistent_db_privileged,
	};
	if (pdb->journal_path != NULL) {
		ops.clear = persistent_db_clear;
		ops.log = persistent_db_log;
	}
	/* With clustering = yes, the cluster store instead. */
	if (lp_clustering() && !persistent_ctdb_store_open(pdb, &ops)) {
		TALLOC_FREE(pdb);
		return NULL;
	}

	st = pcore_store_new(&ops, &pdb->store);
	if (st != PCORE_OK) {
		DBG_ERR("pcore_store_new: %s\n", pcore_status_string(st));
		TALLOC_FREE(pdb);
		return NULL;
	}
	if (pdb->journal_path != NULL &&
	    !persistent_db_attach_journal(pdb, &rebuilt))
	{
		TALLOC_FREE(pdb);
		return NULL;
	}
	st = pcore_table_new(pdb->store, &pdb->table);
	if (st != PCORE_OK) {
		DBG_ERR("pcore_table_new: %s\n", pcore_status_string(st));
		TALLOC_FREE(pdb);
		return NULL;
	}
	/*
	 * A close is durable with the next synced update, not before; see
	 * "persistent:sync close" in vfs_persistent.8.  Without the journal
	 * every TDB commit syncs anyway.
	 */
	pcore_table_set_sync_release(pdb->table,
				     lp_parm_bool(GLOBAL_SECTION_SNUM,
						  "persistent",
						  "sync close",
						  false));

	if (rebuilt) {
		/*
		 * No smbd of the boot that wrote the journal is alive, but
		 * its pids may be in use again: disconnect its opens now
		 * rather than trust a liveness check of old server ids.
		 */
		struct pcore_server_id node = { .vnn = get_my_vnn() };
		struct timeval now = timeval_current();
		uint32_t count = 0;

		st = pcore_disconnect_server(pdb->table,
					     &node,
					     1,
					     (uint64_t)now.tv_sec * 1000000 +
						     (uint64_t)now.tv_usec,
					     &count);
		if (st != PCORE_OK) {
			DBG_ERR("%s: opens of the previous boot not all "
				"disconnected: %s\n",
				path,
				pcore_table_last_error(pdb->table));
		}
		DBG_WARNING("%s: %" PRIu32 " persistent opens of the previous "
			    "boot disconnected, their timeouts start now\n",
			    path,
			    count);
	}

	DBG_NOTICE("persistent handle store %s opened\n", path);
	return pdb;
}
