/*
 * ctdb_handles: the admin view of the persistent-handle store
 * (ctdb_handles(8)).  Thin glue: it opens the store as smbd does (with
 * clustering = yes, this node's copy of the CTDB persistent database),
 * hands it to the core (handles_view.cc) and prints what the core says.
 * "expire" is one cluster transaction through the persistent core, as
 * smbd's own expiry.
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
#include "lib/cmdline/cmdline.h"
#include "lib/param/param.h"
#include "cmdline_contexts.h"
#include "dbwrap/dbwrap.h"
#include "dbwrap/dbwrap_open.h"
#include "util_tdb.h"
#include "messages.h"
#include "lib/cluster_support.h"
#include "ctdb/include/ctdb_protocol.h"
#include "ctdbd_conn.h"
#include "messages_ctdb.h"
#include "handles_view_c.h"

struct handles_store {
	struct db_context *db;
};

struct handles_fetch_state {
	pcore_parser_fn parser;
	void *parser_data;
};

static void handles_fetch_parser(TDB_DATA key, TDB_DATA data, void *p)
{
	struct handles_fetch_state *state = p;

	state->parser(data.dptr, data.dsize, state->parser_data);
}

static pcore_status handles_status(NTSTATUS status)
{
	if (NT_STATUS_IS_OK(status)) {
		return PCORE_OK;
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		return PCORE_NOT_FOUND;
	}
	return PCORE_STORE_IO_ERROR;
}

static pcore_status handles_fetch(void *private_data, const uint8_t *key,
				  size_t key_len, pcore_parser_fn parser,
				  void *parser_data)
{
	struct handles_store *hs = private_data;
	struct handles_fetch_state state = {
		.parser = parser,
		.parser_data = parser_data,
	};

	return handles_status(dbwrap_parse_record(hs->db,
						  make_tdb_data(key, key_len),
						  handles_fetch_parser,
						  &state));
}

static pcore_status handles_store_fn(void *private_data, const uint8_t *key,
				     size_t key_len, const uint8_t *value,
				     size_t value_len)
{
	struct handles_store *hs = private_data;

	return handles_status(dbwrap_store(hs->db,
					   make_tdb_data(key, key_len),
					   make_tdb_data(value, value_len),
					   TDB_REPLACE));
}

static pcore_status handles_remove(void *private_data, const uint8_t *key,
				   size_t key_len)
{
	struct handles_store *hs = private_data;

	return handles_status(dbwrap_delete(hs->db,
					    make_tdb_data(key, key_len)));
}

struct handles_traverse_state {
	pcore_traverse_fn fn;
	void *data;
};

static int handles_traverse_fn(struct db_record *rec, void *p)
{
	struct handles_traverse_state *state = p;
	TDB_DATA key = dbwrap_record_get_key(rec);
	TDB_DATA value = dbwrap_record_get_value(rec);

	return state->fn(key.dptr, key.dsize, value.dptr, value.dsize,
			 state->data);
}

static pcore_status handles_traverse(void *private_data, pcore_traverse_fn fn,
				     void *traverse_data)
{
	struct handles_store *hs = private_data;
	struct handles_traverse_state state = {
		.fn = fn,
		.data = traverse_data,
	};

	return handles_status(dbwrap_traverse_read(hs->db,
						   handles_traverse_fn,
						   &state,
						   NULL));
}

static pcore_status handles_start(void *private_data)
{
	struct handles_store *hs = private_data;

	return dbwrap_transaction_start(hs->db) == 0 ? PCORE_OK
						     : PCORE_STORE_IO_ERROR;
}

static pcore_status handles_commit(void *private_data, int sync)
{
	struct handles_store *hs = private_data;

	return dbwrap_transaction_commit(hs->db) == 0 ? PCORE_OK
						      : PCORE_STORE_IO_ERROR;
}

static pcore_status handles_cancel(void *private_data)
{
	struct handles_store *hs = private_data;

	return dbwrap_transaction_cancel(hs->db) == 0 ? PCORE_OK
						      : PCORE_STORE_IO_ERROR;
}

static pcore_status handles_no_wipe(void *private_data)
{
	return PCORE_INTERNAL_ERROR;
}

static void handles_no_privilege(void *private_data, int enter)
{
}

/* The cluster's nodes (not deleted ones), as ctdbd knows them. */
static bool handles_nodes(TALLOC_CTX *mem_ctx, uint32_t **nodes,
			  size_t *num)
{
	struct ctdb_node_map_old *m = NULL;
	TDB_DATA out = tdb_null;
	int32_t cstatus = -1;
	uint32_t i;
	int ret;

	*nodes = NULL;
	*num = 0;
	if (!lp_clustering()) {
		return true;
	}
	ret = ctdbd_control_local(messaging_ctdb_connection(),
				  CTDB_CONTROL_GET_NODEMAP, 0, 0, tdb_null,
				  mem_ctx, &out, &cstatus);
	if (ret != 0 || cstatus != 0 ||
	    out.dsize < offsetof(struct ctdb_node_map_old, nodes))
	{
		return false;
	}
	m = (struct ctdb_node_map_old *)out.dptr;
	if (out.dsize < offsetof(struct ctdb_node_map_old, nodes) +
				m->num * sizeof(m->nodes[0]))
	{
		return false;
	}
	*nodes = talloc_array(mem_ctx, uint32_t, m->num);
	if (*nodes == NULL) {
		return false;
	}
	for (i = 0; i < m->num; i++) {
		if ((m->nodes[i].flags & NODE_FLAGS_DELETED) == 0) {
			(*nodes)[(*num)++] = m->nodes[i].pnn;
		}
	}
	return true;
}

static bool handles_parse_id(const char *s, uint64_t *id)
{
	char *end = NULL;

	errno = 0;
	*id = strtoull(s, &end, 16);
	return errno == 0 && end != s && *end == '\0';
}

/* Remove one key that holds no usable open, in a transaction. */
static int handles_remove_bad(struct handles_store *hs, uint64_t id)
{
	char key[32];
	NTSTATUS status;

	snprintf(key, sizeof(key), "PH/open/%016" PRIx64, id);
	if (dbwrap_transaction_start(hs->db) != 0) {
		fprintf(stderr, "ctdb_handles: transaction start failed\n");
		return 1;
	}
	status = dbwrap_delete(hs->db, string_tdb_data(key));
	if (!NT_STATUS_IS_OK(status)) {
		dbwrap_transaction_cancel(hs->db);
		fprintf(stderr, "ctdb_handles: %s: %s\n", key,
			nt_errstr(status));
		return 1;
	}
	if (dbwrap_transaction_commit(hs->db) != 0) {
		fprintf(stderr, "ctdb_handles: commit failed\n");
		return 1;
	}
	printf("removed the bad record %s\n", key);
	return 0;
}

/*
 * smbd's own record of a disconnected open (smbXsrv_open_global.tdb, a
 * volatile CTDB database with clustering): while it says "persistent,
 * disconnected, within its timeout", smbd keeps the open's share mode
 * entry and locks (patch 0016), whatever the store says.  smbd removes it
 * only once the timeout has passed (smbXsrv_open_cleanup()), so an
 * expire before that removes it here; the share mode entry and locks of
 * the dead process are then stale and dropped by smbd at the next look.
 */
static void handles_drop_global(uint64_t id)
{
	TALLOC_CTX *frame = talloc_stackframe();
	struct db_context *db = NULL;
	char *path = NULL;
	uint8_t key[4];
	NTSTATUS status;

	path = lock_path(frame, "smbXsrv_open_global.tdb");
	if (path != NULL) {
		db = db_open(frame, path, SMBD_VOLATILE_TDB_HASH_SIZE,
			     SMBD_VOLATILE_TDB_FLAGS, O_RDWR, 0600,
			     DBWRAP_LOCK_ORDER_1, DBWRAP_FLAG_NONE);
	}
	if (db == NULL) {
		printf("smbd's global record of the open not removed: cannot "
		       "open %s\n", path != NULL ? path : "it");
		TALLOC_FREE(frame);
		return;
	}
	RSIVAL(key, 0, (uint32_t)(id & UINT32_MAX));
	status = dbwrap_delete(db, make_tdb_data(key, sizeof(key)));
	if (NT_STATUS_IS_OK(status)) {
		printf("smbd's global record of the open removed\n");
	} else if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		printf("smbd had no global record of the open\n");
	} else {
		printf("smbd's global record of the open not removed: %s\n",
		       nt_errstr(status));
	}
	TALLOC_FREE(frame);
}

static int handles_expire(const struct pcore_store_ops *ops,
			  const struct sca_handles *view, uint64_t id,
			  bool force)
{
	struct pcore_store *store = NULL;
	struct pcore_table *table = NULL;
	struct pcore_record *rec = NULL;
	struct pcore_open open;
	pcore_status st;
	int ret = 1;

	if (sca_handles_is_bad(view, id)) {
		return handles_remove_bad(ops->private_data, id);
	}
	st = pcore_store_new(ops, &store);
	if (st == PCORE_OK) {
		st = pcore_table_new(store, &table);
	}
	if (st != PCORE_OK) {
		fprintf(stderr, "ctdb_handles: %s\n", pcore_status_string(st));
		goto done;
	}
	st = pcore_fetch(table, id, &rec);
	if (st != PCORE_OK) {
		fprintf(stderr, "ctdb_handles: open %016" PRIx64 ": %s\n", id,
			pcore_status_string(st));
		goto done;
	}
	pcore_record_view(rec, &open);
	if (open.state == PCORE_STATE_CONNECTED && !force) {
		fprintf(stderr, "ctdb_handles: open %016" PRIx64 " is "
			"connected (node %" PRIu32 " pid %" PRIu64 "): not "
			"expired; --force removes it anyway\n",
			id, open.owner.vnn, open.owner.pid);
		goto done;
	}
	st = pcore_release(table, id);
	if (st != PCORE_OK) {
		fprintf(stderr, "ctdb_handles: open %016" PRIx64 ": %s (%s)\n",
			id, pcore_status_string(st),
			pcore_table_last_error(table));
		goto done;
	}
	printf("expired open %016" PRIx64 " (%s %s)\n", id, open.share_name,
	       open.path);
	if (open.state == PCORE_STATE_DISCONNECTED) {
		handles_drop_global(id);
	}
	ret = 0;
done:
	if (rec != NULL) {
		pcore_record_free(rec);
	}
	if (table != NULL) {
		pcore_table_free(table);
	}
	if (store != NULL) {
		pcore_store_free(store);
	}
	return ret;
}

static void handles_usage(void)
{
	fprintf(stderr,
		"usage: ctdb_handles [-s smb.conf] [--store PATH] "
		"list | counts | show ID | expire [--force] ID\n");
}

int main(int argc, const char **argv)
{
	TALLOC_CTX *frame = talloc_stackframe();
	struct loadparm_context *lp_ctx = NULL;
	struct tevent_context *ev = NULL;
	struct messaging_context *msg = NULL;
	const char *store_path = NULL;
	int force = 0;
	struct poptOption options[] = {
		POPT_AUTOHELP
		{ "store", 0, POPT_ARG_STRING, &store_path, 0,
		  "the store (default: persistent:store, else "
		  "persistent.tdb in the state directory)", "PATH" },
		{ "force", 0, POPT_ARG_NONE, &force, 0,
		  "expire: also a connected open", NULL },
		POPT_COMMON_SAMBA
		POPT_COMMON_VERSION
		POPT_TABLEEND
	};
	struct handles_store hs = { .db = NULL };
	struct pcore_store_ops ops;
	struct sca_handles *view = NULL;
	const char **args = NULL;
	const char *cmd = NULL;
	uint32_t *nodes = NULL;
	size_t num_nodes = 0;
	char *error = NULL;
	char *text = NULL;
	poptContext pc;
	pcore_status st;
	uint64_t id = 0;
	int nargs = 0;
	int ret = 2;
	int opt;

	smb_init_locale();
	setup_logging(argv[0], DEBUG_DEFAULT_STDERR);
	if (!samba_cmdline_init(frame, SAMBA_CMDLINE_CONFIG_CLIENT, false)) {
		fprintf(stderr, "ctdb_handles: cannot initialise\n");
		goto done;
	}
	lp_ctx = samba_cmdline_get_lp_ctx();
	lpcfg_set_cmdline(lp_ctx, "log level", "0");
	pc = samba_popt_get_context(getprogname(), argc, argv, options, 0);
	if (pc == NULL) {
		goto done;
	}
	while ((opt = poptGetNextOpt(pc)) != -1) {
		fprintf(stderr, "ctdb_handles: %s: %s\n",
			poptBadOption(pc, 0), poptStrerror(opt));
		handles_usage();
		goto done;
	}
	args = poptGetArgs(pc);
	while (args != NULL && args[nargs] != NULL) {
		nargs++;
	}
	if (nargs < 1) {
		handles_usage();
		goto done;
	}
	cmd = args[0];
	if ((strcmp(cmd, "list") == 0 || strcmp(cmd, "counts") == 0) &&
	    nargs == 1)
	{
		/* fine */
	} else if ((strcmp(cmd, "show") == 0 || strcmp(cmd, "expire") == 0) &&
		   nargs == 2)
	{
		if (!handles_parse_id(args[1], &id)) {
			fprintf(stderr, "ctdb_handles: %s is not an open id "
				"(hex, as \"list\" prints it)\n", args[1]);
			goto done;
		}
	} else {
		handles_usage();
		goto done;
	}
	if (strcmp(cmd, "expire") == 0 && !lp_clustering()) {
		fprintf(stderr, "ctdb_handles: expire is for the cluster "
			"store (clustering = yes); a local store has a "
			"journal that only smbd writes\n");
		ret = 1;
		goto done;
	}

	ret = 1;
	if (store_path == NULL) {
		store_path = lp_parm_const_string(GLOBAL_SECTION_SNUM,
						  "persistent", "store", NULL);
	}
	if (store_path == NULL) {
		store_path = state_path(frame, "persistent.tdb");
	}
	ev = samba_tevent_context_init(frame);
	msg = ev != NULL ? messaging_init(frame, ev) : NULL;
	if (msg == NULL) {
		fprintf(stderr, "ctdb_handles: cannot set up messaging%s\n",
			lp_clustering() ? " (is ctdbd running?)" : "");
		goto done;
	}
	hs.db = db_open(frame, store_path, 0, TDB_DEFAULT, O_RDWR, 0600,
			DBWRAP_LOCK_ORDER_NONE, DBWRAP_FLAG_NONE);
	if (hs.db == NULL) {
		fprintf(stderr, "ctdb_handles: cannot open the store %s: %s\n",
			store_path, strerror(errno));
		goto done;
	}
	if (!handles_nodes(frame, &nodes, &num_nodes)) {
		fprintf(stderr, "ctdb_handles: no node map from ctdbd\n");
		goto done;
	}
	ops = (struct pcore_store_ops){
		.private_data = &hs,
		.fetch = handles_fetch,
		.store = handles_store_fn,
		.remove = handles_remove,
		.traverse = handles_traverse,
		.transaction_start = handles_start,
		.transaction_commit = handles_commit,
		.transaction_cancel = handles_cancel,
		.wipe = handles_no_wipe,
		.privileged = handles_no_privilege,
	};
	st = sca_handles_load(&ops, nodes, num_nodes, &view, &error);
	if (st != PCORE_OK) {
		fprintf(stderr, "ctdb_handles: cannot read %s: %s\n",
			store_path, error != NULL ? error
						  : pcore_status_string(st));
		free(error);
		goto done;
	}

	if (strcmp(cmd, "list") == 0) {
		text = sca_handles_list(view);
		ret = 0;
	} else if (strcmp(cmd, "counts") == 0) {
		text = sca_handles_counts(view);
		ret = 0;
	} else if (strcmp(cmd, "show") == 0) {
		st = sca_handles_show(view, id, &text);
		ret = st == PCORE_OK ? 0 : 1;
	} else {
		ret = handles_expire(&ops, view, id, force != 0);
	}
	if (text != NULL) {
		fputs(text, ret == 0 ? stdout : stderr);
		free(text);
	}
	poptFreeContext(pc);
done:
	if (view != NULL) {
		sca_handles_free(view);
	}
	TALLOC_FREE(frame);
	return ret;
}
