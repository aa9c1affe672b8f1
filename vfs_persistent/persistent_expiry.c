/*
 * vfs_persistent: the expiry of persistent opens.
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

/*
 * A handle's life, step 5: reclaimed.  Opens whose smbd died are
 * marked disconnected, and opens past their timeout are expired and
 * released, by a scan of the store at tree connect, from the expiry
 * timer, and from smbd's scavenger when no share is connected.
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "dbwrap/dbwrap.h"
#include "serverid.h"
#include "smbd/smbXsrv_open.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

/* Store keys of the core's records (persistent_core/handle_table.h). */
#define PERSISTENT_RECORD_PREFIX "PH/open/"

/* ---- Expiry ---- */

static void persistent_sweep_fn(uint64_t persistent_id,
				pcore_status status,
				const char *message,
				void *sweep_data)
{
	struct persistent_db *pdb = sweep_data;

	if (status == PCORE_EXPIRED) {
		/* persistent_scan() expires it, naming the file */
		return;
	}
	DBG_ERR("store %s: %s (%s): left in place, never trusted\n",
		pdb->path,
		message,
		pcore_status_string(status));
}

/*
 * Report the records that fail their checks (expired ones are left to
 * persistent_scan(), which runs next).
 */
void persistent_sweep(struct persistent_db *pdb)
{
	pcore_status st;

	st = pcore_sweep(pdb->table, persistent_now_us(), persistent_sweep_fn,
			 pdb);
	if (st != PCORE_OK) {
		DBG_WARNING("sweep of %s failed: %s\n",
			    pdb->path,
			    pcore_table_last_error(pdb->table));
	}
}

/* ---- Opens whose smbd is gone: crash, kill -9, restart ---- */

/*
 * In a cluster an smbd can exist and still be gone for its clients: on a
 * node that is stopped or banned (CTDB's INACTIVE flags), its process
 * lives, answers serverid_exists() through its ctdbd, and serves nobody:
 * the node's public addresses are taken by others, its records in the
 * volatile databases (locking.tdb, brlock.tdb, smbXsrv_open_global.tdb)
 * are dropped by the recovery that leaves it out, and its own database
 * writes wait until it is active again.  The opens of such an smbd are
 * disconnected opens for the survivors: they restore and enforce them
 * from the store (which every active node holds in full), and their
 * owner can reclaim them on a survivor by DH2C.  A disconnected node
 * (dead ctdbd, a cut link) already fails serverid_exists().
 *
 * The node map is asked of the local ctdbd at most every
 * PERSISTENT_NODEMAP_CACHE_US: a failover is seconds, a scan can look at
 * many records.  If it cannot be read the owner is taken as alive (the
 * answer of serverid_exists() stands): never two owners of one open.
 */
#define PERSISTENT_NODEMAP_CACHE_US 500000

#ifdef CLUSTER_SUPPORT
#include "ctdbd_conn.h"
#include "lib/messages_ctdb.h"
#include "ctdb/include/ctdb_protocol.h"

static bool persistent_node_inactive(uint32_t vnn)
{
	static uint64_t read_us;
	static uint32_t num;
	static uint32_t pnn[64];
	static uint32_t flags[64];
	uint64_t now_us = persistent_now_us();
	uint32_t i;

	if (read_us == 0 || now_us < read_us ||
	    now_us - read_us > PERSISTENT_NODEMAP_CACHE_US)
	{
		struct ctdbd_connection *conn = messaging_ctdb_connection();
		struct ctdb_node_map_old *m = NULL;
		TDB_DATA out = {0};
		int32_t cstatus = -1;
		int ret;

		if (conn == NULL) {
			return false;
		}
		ret = ctdbd_control_local(conn, CTDB_CONTROL_GET_NODEMAP, 0, 0,
					  tdb_null, talloc_tos(), &out,
					  &cstatus);
		if (ret != 0 || cstatus != 0 || out.dptr == NULL ||
		    out.dsize < offsetof(struct ctdb_node_map_old, nodes))
		{
			DBG_WARNING("node map not read from ctdbd (%s): "
				    "owners on other nodes taken as alive\n",
				    strerror(ret));
			TALLOC_FREE(out.dptr);
			return false;
		}
		m = (struct ctdb_node_map_old *)out.dptr;
		if (out.dsize < offsetof(struct ctdb_node_map_old, nodes) +
				(size_t)m->num * sizeof(m->nodes[0]))
		{
			DBG_WARNING("short node map from ctdbd (%zu bytes)\n",
				    out.dsize);
			TALLOC_FREE(out.dptr);
			return false;
		}
		num = MIN(m->num, ARRAY_SIZE(pnn));
		for (i = 0; i < num; i++) {
			pnn[i] = m->nodes[i].pnn;
			flags[i] = m->nodes[i].flags;
		}
		TALLOC_FREE(out.dptr);
		read_us = now_us;
	}
	for (i = 0; i < num; i++) {
		if (pnn[i] == vnn) {
			return (flags[i] & NODE_FLAGS_INACTIVE) != 0;
		}
	}
	return false;
}
#else
static bool persistent_node_inactive(uint32_t vnn)
{
	return false;
}
#endif

bool persistent_owner_alive(const struct pcore_server_id *owner)
{
	struct server_id id = {
		.pid = owner->pid,
		.vnn = owner->vnn,
		.unique_id = owner->unique_id,
	};

	if (lp_clustering() && owner->vnn != get_my_vnn() &&
	    persistent_node_inactive(owner->vnn))
	{
		DBG_NOTICE("smbd %" PRIu64 " on node %" PRIu32 ": its node is "
			   "stopped, banned or gone: its opens are "
			   "disconnected\n",
			   owner->pid,
			   owner->vnn);
		return false;
	}
	return serverid_exists(&id);
}

/*
 * Whether the stored open `id` is still this process's, or a survivor
 * took it over: an smbd of a stopped node waits on its frozen databases
 * while its node is out; when the node continues, it finishes the
 * disconnect or close of the client it lost, long after the survivors
 * marked the open disconnected and its owner reclaimed it elsewhere.
 * That late close must not remove the record, nor that late disconnect
 * mark it again.  A record that is gone or unreadable: not ours either.
 */
bool persistent_still_ours(struct persistent_db *pdb, uint64_t id,
			   struct messaging_context *msg_ctx)
{
	struct pcore_record *rec = NULL;
	struct pcore_open view;
	struct pcore_server_id self;
	bool ours;

	if (pcore_fetch(pdb->table, id, &rec) != PCORE_OK) {
		return false;
	}
	pcore_record_view(rec, &view);
	persistent_server_id(msg_ctx, &self);
	ours = view.state == PCORE_STATE_CONNECTED &&
	       view.owner.vnn == self.vnn && view.owner.pid == self.pid &&
	       view.owner.unique_id == self.unique_id;
	if (!ours) {
		DBG_WARNING("persistent open %" PRIu64 ": its record is no "
			    "longer this smbd's (state %" PRIu32 ", owner "
			    "%" PRIu64 " on node %" PRIu32 "): left as it "
			    "is\n",
			    id,
			    view.state,
			    view.owner.pid,
			    view.owner.vnn);
	}
	pcore_record_free(rec);
	return ours;
}

struct persistent_collect_state {
	TALLOC_CTX *mem_ctx;
	uint64_t *ids;
	size_t num_ids;
};

static int persistent_collect_fn(const uint8_t *key,
				 size_t key_len,
				 const uint8_t *value,
				 size_t value_len,
				 void *private_data)
{
	struct persistent_collect_state *state = private_data;
	const size_t prefix_len = strlen(PERSISTENT_RECORD_PREFIX);
	char hex[17];
	uint64_t *ids = NULL;
	char *end = NULL;
	uint64_t id;

	if (key_len != prefix_len + 16 ||
	    memcmp(key, PERSISTENT_RECORD_PREFIX, prefix_len) != 0)
	{
		return 0;
	}
	memcpy(hex, key + prefix_len, 16);
	hex[16] = '\0';
	id = strtoull(hex, &end, 16);
	if (end != hex + 16) {
		return 0;
	}
	ids = talloc_realloc(state->mem_ctx, state->ids, uint64_t,
			     state->num_ids + 1);
	if (ids == NULL) {
		return -1;
	}
	ids[state->num_ids++] = id;
	state->ids = ids;
	return 0;
}

/*
 * The open's timeout ran out: remove its record and what smbd may still
 * hold of it.  smbd keeps the share mode entry and byte-range locks of a
 * dead smbd while the global open record holds them (patch 0016): once
 * that record is removed here they are stale and smbd drops them on the
 * next access; those of a clean disconnect are released by smbd's
 * scavenger at the same timeout.  The global open record (left by a dead
 * smbd, or put back after a restart) is removed here.  One line in the
 * log names the file.
 */
static void persistent_expire(struct persistent_db *pdb,
			      const struct pcore_open *view,
			      uint64_t now_us)
{
	pcore_status st;
	NTSTATUS status;

	st = pcore_release(pdb->table, view->persistent_id);
	if (st == PCORE_NOT_FOUND) {
		/* another smbd expired it first */
		return;
	}
	if (st != PCORE_OK) {
		DBG_WARNING("persistent open %" PRIu64 " of [%s] %s expired, "
			    "but its record was not removed: %s\n",
			    view->persistent_id,
			    view->share_name,
			    view->path,
			    pcore_table_last_error(pdb->table));
		return;
	}
	if (view->num_locks > 0) {
		struct file_id fid;

		if (persistent_stored_file_id(view, &fid)) {
			persistent_brl_set(view, &fid, false);
		}
	}
	persistent_delete_expired(view);
	status = smbXsrv_open_cleanup(view->persistent_id);
	DBG_WARNING("persistent open %" PRIu64 " of [%s] %s expired "
		    "(disconnected %" PRIu64 " ms, timeout %" PRIu32 " ms): "
		    "released%s%s\n",
		    view->persistent_id,
		    view->share_name,
		    view->path,
		    (now_us - view->disconnect_time_us) / 1000,
		    view->timeout_ms,
		    NT_STATUS_IS_OK(status) ? "" : "; global record: ",
		    NT_STATUS_IS_OK(status) ? "" : nt_errstr(status));
}

/*
 * One stored open: an open whose smbd died (kill -9, crash, restart:
 * nobody marked it disconnected) is marked disconnected now, which starts
 * its timeout; an open past its timeout is expired ([MS-SMB2] 3.3.2.x
 * durable open scavenger timer).  Then fn sees it if it is disconnected
 * and not expired.  smbd keeps its own state of such an open (share mode
 * entry, byte-range locks of a dead process) for shares without the
 * module (patch 0016); the module enforces the open from its store on its
 * own shares until it is reconnected or expires.  Returns true when fn
 * asks to stop.
 */
bool persistent_scan_one(struct persistent_db *pdb,
			 uint64_t id,
			 uint64_t now_us,
			 persistent_visit_fn fn,
			 void *private_data)
{
	struct pcore_record *rec = NULL;
	struct pcore_open view;
	pcore_status st;
	uint64_t expiry_us;
	bool stop = false;

	st = pcore_fetch(pdb->table, id, &rec);
	if (st != PCORE_OK) {
		return false;
	}
	pcore_record_view(rec, &view);

	if (view.state == PCORE_STATE_CONNECTED) {
		if (persistent_owner_alive(&view.owner)) {
			pcore_record_free(rec);
			return false;
		}
		st = pcore_disconnect(pdb->table, id, now_us);
		if (st == PCORE_OK) {
			DBG_NOTICE("smbd %" PRIu64 " serving persistent open "
				   "%" PRIu64 " died: disconnected, timeout "
				   "%" PRIu32 " ms\n",
				   view.owner.pid,
				   id,
				   view.timeout_ms);
			view.state = PCORE_STATE_DISCONNECTED;
			view.disconnect_time_us = now_us;
		} else {
			/* another smbd marked it first: read it again */
			pcore_record_free(rec);
			rec = NULL;
			st = pcore_fetch(pdb->table, id, &rec);
			if (st != PCORE_OK) {
				return false;
			}
			pcore_record_view(rec, &view);
			if (view.state == PCORE_STATE_CONNECTED &&
			    !persistent_owner_alive(&view.owner))
			{
				/*
				 * The store refused the update (a cluster
				 * store that cannot commit now): the open
				 * is still enforced as a disconnected one
				 * (its locks and global record put back by
				 * fn), but its timeout starts only once the
				 * store takes the change.
				 */
				DBG_WARNING("persistent open %" PRIu64 ": its "
					    "smbd is gone, but the store did "
					    "not take the disconnect (%s): "
					    "held, timeout not started\n",
					    id,
					    pcore_table_last_error(pdb->table));
				if (fn != NULL) {
					view.state = PCORE_STATE_DISCONNECTED;
					view.disconnect_time_us = now_us;
					stop = fn(&view, private_data);
				}
				pcore_record_free(rec);
				return stop;
			}
			if (view.state != PCORE_STATE_DISCONNECTED) {
				pcore_record_free(rec);
				return false;
			}
		}
	}

	expiry_us = view.disconnect_time_us + (uint64_t)view.timeout_ms * 1000;
	if (now_us >= expiry_us) {
		persistent_expire(pdb, &view, now_us);
		pcore_record_free(rec);
		return false;
	}
	pdb->next_expiry_us = MIN(pdb->next_expiry_us, expiry_us);

	if (fn != NULL) {
		stop = fn(&view, private_data);
	}
	pcore_record_free(rec);
	return stop;
}

/*
 * Every stored open (a traverse of the store): at tree connect and from
 * the expiry timer, never per request.
 */
void persistent_scan(struct persistent_db *pdb,
		     persistent_visit_fn fn,
		     void *private_data)
{
	struct persistent_collect_state state = {
		.mem_ctx = talloc_tos(),
	};
	uint64_t now_us = persistent_now_us();
	pcore_status st;
	size_t i;

	/* Through the core: a journaled store is read under its lock. */
	st = pcore_store_traverse(pdb->store, persistent_collect_fn, &state);
	if (st != PCORE_OK) {
		DBG_WARNING("traverse of %s failed: %s\n",
			    pdb->path,
			    pcore_status_string(st));
		TALLOC_FREE(state.ids);
		return;
	}

	pdb->next_expiry_us = UINT64_MAX;
	for (i = 0; i < state.num_ids; i++) {
		if (persistent_scan_one(pdb, state.ids[i], now_us, fn,
					private_data))
		{
			break;
		}
	}
	TALLOC_FREE(state.ids);
}

/* ---- The expiry timer ---- */

static void persistent_timer_fn(struct tevent_context *ev,
				struct tevent_timer *te,
				struct timeval current_time,
				void *private_data)
{
	struct persistent_db *pdb = private_data;
	TALLOC_CTX *frame = talloc_stackframe();

	pdb->timer = NULL;
	persistent_scan(pdb, NULL, NULL);
	TALLOC_FREE(frame);
	persistent_timer_arm(pdb);
}

/*
 * Sleep until the earliest expiry the last scan saw (just past it), or
 * the scan interval, whichever comes first: a disconnected open expires
 * on time, and the open of an smbd that died is noticed within the
 * interval, without any client activity on the share.
 */
void persistent_timer_arm(struct persistent_db *pdb)
{
	uint64_t now_us = persistent_now_us();
	uint64_t when_us = UINT64_MAX;
	struct timeval tv;

	TALLOC_FREE(pdb->timer);
	if (pdb->users == 0 || pdb->ev == NULL) {
		return;
	}
	if (pdb->scan_interval_ms > 0) {
		when_us = now_us + (uint64_t)pdb->scan_interval_ms * 1000;
	}
	if (pdb->next_expiry_us != UINT64_MAX) {
		when_us = MIN(when_us, MAX(pdb->next_expiry_us, now_us) + 1000);
	}
	if (when_us == UINT64_MAX) {
		return;
	}
	tv = (struct timeval){
		.tv_sec = when_us / 1000000,
		.tv_usec = when_us % 1000000,
	};
	pdb->timer = tevent_add_timer(pdb->ev, pdb, tv, persistent_timer_fn,
				      pdb);
	if (pdb->timer == NULL) {
		DBG_ERR("no expiry timer for %s: disconnected opens expire "
			"at the next tree connect, open or lock\n",
			pdb->path);
	}
}

/* The tree connect that kept the timer going is gone. */
int persistent_config_destructor(struct persistent_config *config)
{
	struct persistent_db *pdb = config->pdb;

	if (pdb != NULL && config->timer_user && pdb->users > 0) {
		pdb->users--;
		if (pdb->users == 0) {
			TALLOC_FREE(pdb->timer);
			pdb->ev = NULL;
		}
	}
	return 0;
}

/*
 * ---- Expiry without a tree connect: in smbd's scavenger (patch 0012) ----
 *
 * The expiry timer runs in smbd processes that have a share of the store
 * connected; when the last client of the share is gone (cut, killed), no
 * such process is left.  smbd's scavenger, which releases the share modes
 * and locks of a disconnected durable open at its timeout, loads this
 * module when an smbd that disconnected an open names it (it registered
 * this scavenger_expired hook) and calls this after each of its cleanups:
 * the open's record is expired here, and from then on the scavenger also
 * runs the module's expiry timer on the store, so that later disconnects
 * and opens of an smbd that died expire on time with no share connected.
 */
void persistent_scavenger_expired(struct tevent_context *ev,
				  uint64_t persistent_id)
{
	TALLOC_CTX *frame = talloc_stackframe();
	int num = lp_numservices();
	int snum;

	for (snum = 0; snum < num; snum++) {
		const char **objects = NULL;
		const char *store_path = NULL;
		struct persistent_db *pdb = NULL;
		bool ours = false;
		int interval_s;
		size_t i;

		if (!lp_snum_ok(snum)) {
			continue;
		}
		objects = lp_vfs_objects(snum);
		for (i = 0; objects != NULL && objects[i] != NULL; i++) {
			if (strcmp(objects[i], PERSISTENT_MODULE_NAME) == 0) {
				ours = true;
			}
		}
		if (!ours) {
			continue;
		}
		store_path = lp_parm_const_string(snum,
						  PERSISTENT_MODULE_NAME,
						  "store",
						  NULL);
		if (store_path == NULL) {
			store_path = state_path(frame, "persistent.tdb");
			if (store_path == NULL) {
				continue;
			}
		}
		pdb = persistent_db_get(store_path);
		if (pdb == NULL) {
			continue;
		}
		persistent_scan_one(pdb, persistent_id, persistent_now_us(),
				    NULL, NULL);
		if (pdb->ev == NULL) {
			interval_s = lp_parm_int(
				snum, PERSISTENT_MODULE_NAME, "scan interval",
				PERSISTENT_DEFAULT_SCAN_INTERVAL_S);
			pdb->scan_interval_ms =
				(interval_s > 0 && interval_s <= 3600) ?
					(uint32_t)interval_s * 1000 : 0;
			pdb->ev = ev;
			pdb->users = 1;
			DBG_NOTICE("scavenger: expiry timer on %s\n",
				   pdb->path);
			persistent_scan(pdb, NULL, NULL);
		}
		persistent_timer_arm(pdb);
	}
	TALLOC_FREE(frame);
}
