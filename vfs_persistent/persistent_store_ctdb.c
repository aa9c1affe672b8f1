/*
 * vfs_persistent: the cluster store.  With "clustering = yes" the store is
 * a CTDB PERSISTENT database opened through dbwrap_ctdb, offered to the
 * persistent core as its struct pcore_store_ops, with no journal: the CTDB
 * commit is the durable point (docs/cluster-store.md).
 *
 * A commit of dbwrap_ctdb returns once every active node has applied and
 * synced it, with two exceptions this file closes:
 * - a node that does not answer within CTDB's ControlTimeout (60 s) is
 *   skipped and dbwrap still reports success: every commit is bounded by
 *   "persistent:cluster commit timeout" (far below ControlTimeout); a
 *   slower one is undone and reported as failed, so the core refuses the
 *   update (a grant becomes visibly non-persistent);
 * - after a whole-cluster start a stale node that comes up first would
 *   take commits alone that a later, newer node's copy overwrites in the
 *   next recovery: no write is accepted until this node has seen every
 *   configured node active once since its ctdbd started.
 * Before each transaction ctdbd is probed on a connection of its own, so
 * that a dead ctdbd or an inactive (banned, stopped) node refuses the
 * update with a log line instead of waiting in dbwrap.
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
#include "ctdb/include/ctdb_protocol.h"
#include "ctdbd_conn.h"
#include "messages.h"
#include "messages_ctdb.h"
#include "lib/cluster_support.h"
#include "lib/util/time.h"
#include "lib/util/util_file.h"
#include "persistent_glue.h"
#include "persistent_store_ctdb.h"

/*
 * The value a key had before this transaction first changed it, and what
 * the transaction left there (written: its last store; else deleted).
 */
struct persistent_ctdb_undo {
	struct persistent_ctdb_undo *next;
	TDB_DATA key;
	bool had_value;
	TDB_DATA value;
	bool written;
	TDB_DATA new_value;
};

struct persistent_ctdb {
	struct persistent_db *pdb;
	uint32_t commit_timeout_ms;
	bool probe;
	bool start_check;
	bool known_current; /* this process has checked the start rule */
	TALLOC_CTX *txn_mem; /* the undo list of the running transaction */
	struct persistent_ctdb_undo *undo;
	struct timeval txn_started;
};

/* A local read: every node holds the whole database. */
static pcore_status persistent_ctdb_fetch(void *private_data,
					  const uint8_t *key,
					  size_t key_len,
					  pcore_parser_fn parser,
					  void *parser_data)
{
	struct persistent_ctdb *pc = private_data;
	NTSTATUS status;

	status = persistent_dbwrap_fetch(pc->pdb->db,
					 key,
					 key_len,
					 parser,
					 parser_data);
	return persistent_db_ntstatus_status(status);
}

static void persistent_ctdb_copy_parser(TDB_DATA key,
					TDB_DATA data,
					void *private_data)
{
	struct persistent_ctdb *pc = private_data;
	struct persistent_ctdb_undo *u = pc->undo;

	u->value = (TDB_DATA){
		.dptr = talloc_memdup(pc->txn_mem, data.dptr, data.dsize),
		.dsize = data.dsize,
	};
	u->had_value = (u->value.dptr != NULL || data.dsize == 0);
}

/*
 * Remember what key held before the transaction first touched it, so that
 * a commit found too slow can be undone.
 */
static struct persistent_ctdb_undo *persistent_ctdb_remember(
	struct persistent_ctdb *pc,
	TDB_DATA key)
{
	struct persistent_ctdb_undo *u = NULL;
	NTSTATUS status;

	for (u = pc->undo; u != NULL; u = u->next) {
		if (tdb_data_equal(u->key, key)) {
			return u;
		}
	}
	u = talloc_zero(pc->txn_mem, struct persistent_ctdb_undo);
	if (u == NULL) {
		return NULL;
	}
	u->key = (TDB_DATA){
		.dptr = talloc_memdup(u, key.dptr, key.dsize),
		.dsize = key.dsize,
	};
	if (u->key.dptr == NULL) {
		return NULL;
	}
	u->next = pc->undo;
	pc->undo = u;
	status = dbwrap_parse_record(pc->pdb->db,
				     key,
				     persistent_ctdb_copy_parser,
				     pc);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		u->had_value = false;
		return u;
	}
	if (!NT_STATUS_IS_OK(status) || !u->had_value) {
		return NULL;
	}
	return u;
}

static pcore_status persistent_ctdb_store(void *private_data,
					  const uint8_t *key,
					  size_t key_len,
					  const uint8_t *value,
					  size_t value_len)
{
	struct persistent_ctdb *pc = private_data;
	TDB_DATA k = make_tdb_data(key, key_len);
	struct persistent_ctdb_undo *u = NULL;
	NTSTATUS status;

	u = persistent_ctdb_remember(pc, k);
	if (u == NULL) {
		return PCORE_NO_MEMORY;
	}
	u->written = true;
	u->new_value = (TDB_DATA){
		.dptr = talloc_memdup(u, value, value_len),
		.dsize = value_len,
	};
	if (u->new_value.dptr == NULL && value_len != 0) {
		return PCORE_NO_MEMORY;
	}
	status = dbwrap_store(pc->pdb->db,
			      k,
			      make_tdb_data(value, value_len),
			      TDB_REPLACE);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("store in the cluster store %s failed: %s\n",
			pc->pdb->path,
			nt_errstr(status));
	}
	return persistent_db_ntstatus_status(status);
}

static pcore_status persistent_ctdb_remove(void *private_data,
					   const uint8_t *key,
					   size_t key_len)
{
	struct persistent_ctdb *pc = private_data;
	TDB_DATA k = make_tdb_data(key, key_len);
	struct persistent_ctdb_undo *u = NULL;
	NTSTATUS status;

	u = persistent_ctdb_remember(pc, k);
	if (u == NULL) {
		return PCORE_NO_MEMORY;
	}
	u->written = false;
	status = dbwrap_delete(pc->pdb->db, k);
	return persistent_db_ntstatus_status(status);
}

/* dbwrap_ctdb's traverse skips its __db_sequence_number__ key */
static pcore_status persistent_ctdb_traverse(void *private_data,
					     pcore_traverse_fn fn,
					     void *traverse_data)
{
	struct persistent_ctdb *pc = private_data;
	NTSTATUS status;

	status = persistent_dbwrap_traverse(pc->pdb->db, fn, traverse_data);
	return persistent_db_ntstatus_status(status);
}

/*
 * The start rule: this node's copy is known current once every configured
 * node has been active at one time since this node's ctdbd started (the
 * recovery that followed took the newest copy of all of them).  Remembered
 * per ctdbd (boot id and pid) in a file of the node's state directory, so
 * that each new smbd does not ask again.
 */
static char *persistent_ctdb_ctdbd_identity(TALLOC_CTX *mem_ctx)
{
	struct ctdbd_connection *conn = messaging_ctdb_connection();
	char *boot_id = NULL;
	size_t len = 0;
	int32_t cstatus = -1;
	char *result = NULL;
	int ret;

	ret = ctdbd_control_local(conn, CTDB_CONTROL_GET_PID, 0, 0,
				  tdb_null, NULL, NULL, &cstatus);
	if (ret != 0 || cstatus <= 0) {
		return NULL;
	}
	boot_id = file_load("/proc/sys/kernel/random/boot_id", &len, 0,
			    mem_ctx);
	if (boot_id == NULL) {
		return NULL;
	}
	boot_id[strcspn(boot_id, "\n")] = '\0';
	result = talloc_asprintf(mem_ctx, "%s %" PRIi32 "\n", boot_id,
				 cstatus);
	TALLOC_FREE(boot_id);
	return result;
}

static bool persistent_ctdb_all_nodes_active(struct persistent_ctdb *pc)
{
	struct ctdbd_connection *conn = messaging_ctdb_connection();
	struct ctdb_node_map_old *m = NULL;
	TDB_DATA out = tdb_null;
	int32_t cstatus = -1;
	uint32_t i, inactive = 0, configured = 0;
	int ret;

	ret = ctdbd_control_local(conn, CTDB_CONTROL_GET_RECMODE, 0, 0,
				  tdb_null, NULL, NULL, &cstatus);
	if (ret != 0 || cstatus != CTDB_RECOVERY_NORMAL) {
		DBG_NOTICE("%s: a recovery is running\n", pc->pdb->path);
		return false;
	}
	ret = ctdbd_control_local(conn, CTDB_CONTROL_GET_NODEMAP, 0, 0,
				  tdb_null, talloc_tos(), &out, &cstatus);
	if (ret != 0 || cstatus != 0 ||
	    out.dsize < offsetof(struct ctdb_node_map_old, nodes))
	{
		DBG_ERR("%s: no node map from ctdbd\n", pc->pdb->path);
		TALLOC_FREE(out.dptr);
		return false;
	}
	m = (struct ctdb_node_map_old *)out.dptr;
	if (out.dsize < offsetof(struct ctdb_node_map_old, nodes) +
				m->num * sizeof(m->nodes[0]))
	{
		DBG_ERR("%s: short node map from ctdbd\n", pc->pdb->path);
		TALLOC_FREE(out.dptr);
		return false;
	}
	for (i = 0; i < m->num; i++) {
		if (m->nodes[i].flags & NODE_FLAGS_DELETED) {
			continue;
		}
		configured++;
		if (m->nodes[i].flags & NODE_FLAGS_INACTIVE) {
			inactive++;
		}
	}
	TALLOC_FREE(out.dptr);
	if (inactive != 0) {
		DBG_ERR("%s: after this node's ctdbd started, %" PRIu32
			" of the %" PRIu32 " nodes have not yet been active: "
			"this node's copy may be older than theirs, so no "
			"update is stored (persistent handles are refused) "
			"until they are; see \"persistent:cluster start "
			"check\" in vfs_persistent(8)\n",
			pc->pdb->path,
			inactive,
			configured);
		return false;
	}
	return true;
}

static bool persistent_ctdb_known_current(struct persistent_ctdb *pc)
{
	TALLOC_CTX *frame = NULL;
	char *marker = NULL;
	char *identity = NULL;
	char *seen = NULL;
	char *tmp = NULL;
	size_t len = 0;
	bool ok = false;
	int err = 0;

	if (pc->known_current || !pc->start_check) {
		return true;
	}
	frame = talloc_stackframe();
	marker = talloc_asprintf(frame, "%s.current", pc->pdb->path);
	identity = persistent_ctdb_ctdbd_identity(frame);
	if (marker == NULL || identity == NULL) {
		DBG_ERR("%s: cannot identify this node's ctdbd\n",
			pc->pdb->path);
		goto done;
	}
	tmp = talloc_asprintf(frame, "%s.%d", marker, (int)getpid());
	if (tmp == NULL) {
		goto done;
	}
	/* The marker is root's; the callbacks may run as the user. */
	become_root();
	seen = file_load(marker, &len, 0, frame);
	unbecome_root();
	if (seen != NULL && strcmp(seen, identity) == 0) {
		ok = true;
		goto done;
	}
	if (!persistent_ctdb_all_nodes_active(pc)) {
		goto done;
	}
	/* Written aside and renamed: another smbd may do the same. */
	become_root();
	unlink(tmp);
	ok = file_save_mode(tmp, identity, strlen(identity), 0600);
	if (ok && rename(tmp, marker) != 0) {
		ok = false;
		unlink(tmp);
	}
	err = errno;
	unbecome_root();
	if (!ok) {
		DBG_ERR("%s: cannot write %s: %s\n",
			pc->pdb->path,
			marker,
			strerror(err));
		goto done;
	}
	DBG_NOTICE("%s: every node active since this node's ctdbd "
		   "started: updates accepted\n",
		   pc->pdb->path);
done:
	pc->known_current = ok;
	TALLOC_FREE(frame);
	return ok;
}

static pcore_status persistent_ctdb_transaction_start(void *private_data)
{
	struct persistent_ctdb *pc = private_data;
	int ret;

	/*
	 * A connection of its own: a dead ctdbd fails the connect, an
	 * inactive node the node map check, both without touching the
	 * process's messaging connection.  A ctdbd that does not answer
	 * within the bound ends this smbd (ctdbd_conn.c's cluster_fatal),
	 * as any other unanswered ctdb request does with "ctdb timeout".
	 */
	if (pc->probe) {
		become_root();
		ret = ctdbd_probe(lp_ctdbd_socket(),
				  (int)pc->commit_timeout_ms);
		unbecome_root();
	} else {
		ret = 0;
	}
	if (ret != 0) {
		DBG_ERR("%s: ctdbd (%s) is not reachable or this node is not "
			"active (banned or stopped): %s; nothing stored, "
			"persistent handles are refused\n",
			pc->pdb->path,
			lp_ctdbd_socket(),
			strerror(ret));
		return PCORE_STORE_IO_ERROR;
	}
	if (!persistent_ctdb_known_current(pc)) {
		return PCORE_STORE_READ_ONLY;
	}

	ret = dbwrap_transaction_start(pc->pdb->db);
	if (ret != 0) {
		int err = errno;

		DBG_ERR("transaction start on the cluster store %s failed: "
			"%s\n",
			pc->pdb->path,
			strerror(err));
		return PCORE_STORE_IO_ERROR;
	}
	TALLOC_FREE(pc->txn_mem);
	pc->undo = NULL;
	pc->txn_mem = talloc_new(pc);
	if (pc->txn_mem == NULL) {
		dbwrap_transaction_cancel(pc->pdb->db);
		return PCORE_NO_MEMORY;
	}
	pc->txn_started = timeval_current();
	return PCORE_OK;
}

static pcore_status persistent_ctdb_transaction_cancel(void *private_data)
{
	struct persistent_ctdb *pc = private_data;
	int ret;

	ret = dbwrap_transaction_cancel(pc->pdb->db);
	TALLOC_FREE(pc->txn_mem);
	pc->undo = NULL;
	if (ret != 0) {
		return PCORE_STORE_IO_ERROR;
	}
	return PCORE_OK;
}

struct persistent_ctdb_cmp_state {
	const struct persistent_ctdb_undo *u;
	bool same;
};

static void persistent_ctdb_cmp_parser(TDB_DATA key,
				       TDB_DATA data,
				       void *private_data)
{
	struct persistent_ctdb_cmp_state *state = private_data;

	state->same = state->u->written &&
		      tdb_data_equal(data, state->u->new_value);
}

/* Does the key still hold what the slow commit left there? */
static bool persistent_ctdb_unchanged(struct persistent_ctdb *pc,
				      const struct persistent_ctdb_undo *u)
{
	struct persistent_ctdb_cmp_state state = {
		.u = u,
	};
	NTSTATUS status;

	status = dbwrap_parse_record(pc->pdb->db,
				     u->key,
				     persistent_ctdb_cmp_parser,
				     &state);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		return !u->written;
	}
	return NT_STATUS_IS_OK(status) && state.same;
}

/*
 * Put back what the keys of a commit found too slow held before it, in a
 * transaction of its own, so that nothing the client was refused stays in
 * the store (a grant refused as persistent must not keep the file).  Only
 * the keys that still hold what the slow commit left: under the
 * transaction's lock the local copy is current, and a key another smbd
 * has changed since is theirs now.
 */
static void persistent_ctdb_undo(struct persistent_ctdb *pc,
				 struct persistent_ctdb_undo *undo)
{
	struct persistent_ctdb_undo *u = NULL;
	NTSTATUS status = NT_STATUS_OK;
	int ret;

	ret = dbwrap_transaction_start(pc->pdb->db);
	if (ret != 0) {
		DBG_ERR("%s: cannot undo the slow commit: transaction start "
			"failed\n",
			pc->pdb->path);
		return;
	}
	for (u = undo; u != NULL && NT_STATUS_IS_OK(status); u = u->next) {
		if (!persistent_ctdb_unchanged(pc, u)) {
			/* another smbd has built on it since: keep theirs */
			DBG_WARNING("%s: a key of the slow commit changed "
				    "since, not undone\n",
				    pc->pdb->path);
			continue;
		}
		if (u->had_value) {
			status = dbwrap_store(pc->pdb->db, u->key, u->value,
					      TDB_REPLACE);
		} else {
			status = dbwrap_delete(pc->pdb->db, u->key);
			if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
				status = NT_STATUS_OK;
			}
		}
	}
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("%s: cannot undo the slow commit: %s\n",
			pc->pdb->path,
			nt_errstr(status));
		dbwrap_transaction_cancel(pc->pdb->db);
		return;
	}
	ret = dbwrap_transaction_commit(pc->pdb->db);
	if (ret != 0) {
		DBG_ERR("%s: cannot undo the slow commit: commit failed\n",
			pc->pdb->path);
		return;
	}
	DBG_WARNING("%s: slow commit undone\n", pc->pdb->path);
}

static pcore_status persistent_ctdb_transaction_commit(void *private_data,
						       int sync)
{
	struct persistent_ctdb *pc = private_data;
	struct persistent_ctdb_undo *undo = pc->undo;
	TALLOC_CTX *mem = pc->txn_mem;
	struct timeval t0 = timeval_current();
	uint64_t commit_ms, lock_ms;
	int ret;

	/* The undo list stays ours until this function returns. */
	pc->txn_mem = NULL;
	pc->undo = NULL;

	ret = dbwrap_transaction_commit(pc->pdb->db);
	commit_ms = (uint64_t)(timeval_elapsed(&t0) * 1000);
	lock_ms = (uint64_t)(timeval_elapsed2(&pc->txn_started, &t0) * 1000);
	if (ret != 0) {
		int err = errno;

		DBG_ERR("commit to the cluster store %s failed: %s; nothing "
			"acknowledged\n",
			pc->pdb->path,
			strerror(err));
		TALLOC_FREE(mem);
		return PCORE_STORE_IO_ERROR;
	}
	if (commit_ms > pc->commit_timeout_ms) {
		DBG_ERR("commit to the cluster store %s took %" PRIu64 " ms, "
			"more than \"persistent:cluster commit timeout\" "
			"(%" PRIu32 " ms): a node may not hold it, so it is "
			"undone and not acknowledged\n",
			pc->pdb->path,
			commit_ms,
			pc->commit_timeout_ms);
		persistent_ctdb_undo(pc, undo);
		TALLOC_FREE(mem);
		return PCORE_STORE_IO_ERROR;
	}
	if (lock_ms > pc->commit_timeout_ms) {
		DBG_NOTICE("%s: the transaction was open %" PRIu64 " ms "
			   "before its commit\n",
			   pc->pdb->path,
			   lock_ms);
	}
	TALLOC_FREE(mem);
	return PCORE_OK;
}

static void persistent_ctdb_privileged(void *private_data, int enter)
{
	if (enter) {
		become_root();
	} else {
		unbecome_root();
	}
}

/* The cluster store cannot be wiped: the file is the cluster's, not ours. */
static pcore_status persistent_ctdb_wipe(void *private_data)
{
	struct persistent_ctdb *pc = private_data;

	DBG_ERR("%s: the cluster store is never rebuilt from a node's "
		"journal\n",
		pc->pdb->path);
	return PCORE_INTERNAL_ERROR;
}

bool persistent_ctdb_store_open(struct persistent_db *pdb,
				struct pcore_store_ops *ops)
{
	struct persistent_ctdb *pc = NULL;

	pc = talloc_zero(pdb, struct persistent_ctdb);
	if (pc == NULL) {
		DBG_ERR("talloc failed\n");
		return false;
	}
	pc->pdb = pdb;
	pc->commit_timeout_ms = lp_parm_ulong(GLOBAL_SECTION_SNUM,
					      "persistent",
					      "cluster commit timeout",
					      PERSISTENT_CTDB_COMMIT_TIMEOUT_MS);
	if (pc->commit_timeout_ms == 0 ||
	    pc->commit_timeout_ms > PERSISTENT_CTDB_COMMIT_TIMEOUT_MAX_MS)
	{
		DBG_WARNING("\"persistent:cluster commit timeout\" = %" PRIu32
			    " ms is outside 1..%u: using %u\n",
			    pc->commit_timeout_ms,
			    PERSISTENT_CTDB_COMMIT_TIMEOUT_MAX_MS,
			    PERSISTENT_CTDB_COMMIT_TIMEOUT_MS);
		pc->commit_timeout_ms = PERSISTENT_CTDB_COMMIT_TIMEOUT_MS;
	}
	pc->probe = lp_parm_bool(GLOBAL_SECTION_SNUM,
				 "persistent",
				 "cluster probe",
				 true);
	pc->start_check = lp_parm_bool(GLOBAL_SECTION_SNUM,
				       "persistent",
				       "cluster start check",
				       true);

	/*
	 * Not TDB_CLEAR_IF_FIRST: dbwrap attaches it as a PERSISTENT
	 * database (every node holds all of it, each commit synced on every
	 * active node); ctdbd opens its copies TDB_DEFAULT whatever we say.
	 */
	become_root();
	pdb->db = db_open(pdb,
			  pdb->path,
			  0,
			  TDB_DEFAULT,
			  O_RDWR | O_CREAT,
			  0600,
			  DBWRAP_LOCK_ORDER_NONE,
			  DBWRAP_FLAG_NONE);
	unbecome_root();
	if (pdb->db == NULL) {
		DBG_ERR("cannot attach the cluster store %s (is ctdbd "
			"running?)\n",
			pdb->path);
		TALLOC_FREE(pc);
		return false;
	}

	*ops = (struct pcore_store_ops){
		.private_data = pc,
		.fetch = persistent_ctdb_fetch,
		.store = persistent_ctdb_store,
		.remove = persistent_ctdb_remove,
		.traverse = persistent_ctdb_traverse,
		.transaction_start = persistent_ctdb_transaction_start,
		.transaction_commit = persistent_ctdb_transaction_commit,
		.transaction_cancel = persistent_ctdb_transaction_cancel,
		.wipe = persistent_ctdb_wipe,
		.privileged = persistent_ctdb_privileged,
	};
	DBG_NOTICE("cluster store %s attached (CTDB persistent database), "
		   "commit timeout %" PRIu32 " ms, probe %s, start check %s\n",
		   pdb->path,
		   pc->commit_timeout_ms,
		   pc->probe ? "on" : "off",
		   pc->start_check ? "on" : "off");
	return true;
}
