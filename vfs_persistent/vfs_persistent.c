/*
 * vfs_persistent: continuously available shares with SMB3 persistent handles.
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
 * With patches 0003-0005 smbd marks a share continuously available when
 * this module sets conn->persistent_handles in connect_fn, and hands a DH2Q
 * create with SMB2_DHANDLE_FLAG_PERSISTENT to the durable_cookie_fn with
 * op->global->persistent set.  This module then stores the open in its
 * store (a TDB, in a synced transaction) before the create is answered,
 * checks every reconnect against the stored record, removes the record on
 * a real close or once it expired, and writes through on persistent
 * handles.
 *
 * The cookie smbd keeps for a persistent open wraps the default durable
 * cookie (vfs_default_durable_*) behind a small header of our own; cookies
 * of plain durable opens are passed through untouched.
 */

#include "includes.h"
#include "system/filesys.h"
#include "smbd/smbd.h"
#include "smbd/globals.h"
#include "messages.h"
#include "locking/share_mode_lock.h"
#include "librpc/gen_ndr/ndr_open_files.h"
#include "libcli/security/dom_sid.h"
#include "libcli/security/security_token.h"
#include "libcli/smb/smb2_create_blob.h"
#include "libcli/smb/smb2_lease.h"
#include "lib/util/tevent_unix.h"
#include "lib/util/server_id.h"
#include "dbwrap/dbwrap.h"
#include "serverid.h"
#include "smbd/smbXsrv_open.h"
#include "smbd/persistent_hooks.h"
#include "librpc/gen_ndr/smbXsrv.h"
#include "persistent_glue.h"
#include "core/pcore_ntstatus.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

/*
 * The module is written against the VFS of Samba 4.22.  A different
 * interface version means the operations' signatures may have changed: stop
 * the build here rather than load a module that calls them wrongly.
 */
#if SMB_VFS_INTERFACE_VERSION != 50
#error "vfs_persistent is written for SMB_VFS_INTERFACE_VERSION 50 (Samba 4.22): port it to this Samba's VFS before building"
#endif

#define PERSISTENT_MODULE_NAME "persistent"

/* Defaults of the module's options, in milliseconds. */
#define PERSISTENT_DEFAULT_TIMEOUT_MS (60 * 1000)
#define PERSISTENT_DEFAULT_MAX_TIMEOUT_MS (300 * 1000)
/* How often the expiry timer looks for opens whose smbd died, seconds. */
#define PERSISTENT_DEFAULT_SCAN_INTERVAL_S 5

/* Store keys of the core's records (core/handle_table.h). */
#define PERSISTENT_RECORD_PREFIX "PH/open/"

struct persistent_config {
	const char *share_name;
	uint32_t default_timeout_ms;
	uint32_t max_timeout_ms;
	struct persistent_db *pdb; /* NULL: persistence is off here */
	/*
	 * Set while a reconnect re-creates an open whose smbd died: the
	 * module's own conflict checks and lock bookkeeping stand aside.
	 */
	bool reopening;
	/* counted in pdb->users, which keeps the expiry timer going */
	bool timer_user;
};

/*
 * Per fsp: what the create asked for (known only in create_file_fn) and,
 * once granted, the persistent id of its record.
 */
struct persistent_fsp {
	bool have_dh2q;
	uint32_t requested_timeout_ms;
	uint32_t share_access;
	uint32_t create_disposition;
	uint32_t create_options;
	bool persistent;
	/*
	 * Set when an update could not be stored after smbd acted on it
	 * (persistent_drop): no longer persistent; a disconnect closes it
	 * and the close removes its record, if the store lets it by then.
	 */
	bool dropped;
	uint64_t persistent_id;
	uint32_t create_action; /* FILE_WAS_*, answered to a replay */
};

static uint64_t persistent_now_us(void)
{
	struct timeval tv = timeval_current();

	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

static void persistent_guid_bytes(const struct GUID *guid,
				  uint8_t out[PCORE_GUID_SIZE])
{
	struct GUID_ndr_buf buf = {{0}};

	GUID_to_ndr_buf(guid, &buf);
	memcpy(out, buf.buf, PCORE_GUID_SIZE);
}

static void persistent_lease_key_bytes(const struct smb2_lease_key *key,
				       uint8_t out[PCORE_GUID_SIZE])
{
	SBVAL(out, 0, key->data[0]);
	SBVAL(out, 8, key->data[1]);
}

/*
 * fsp->oplock_type is a set of bits, not one value: open.c grants a batch
 * oplock as BATCH_OPLOCK|EXCLUSIVE_OPLOCK (map_lease_type_to_oplock() of
 * RWH).  Test the bits the way smb2_create.c's own mapping to the wire
 * level does, or a batch oplock is stored as none and neither enforced
 * while its client is away nor given back on reconnect.
 */
static uint8_t persistent_oplock_level(const struct files_struct *fsp)
{
	if (fsp->oplock_type == LEASE_OPLOCK) {
		return PCORE_OPLOCK_LEASE;
	}
	if (BATCH_OPLOCK_TYPE(fsp->oplock_type)) {
		return PCORE_OPLOCK_BATCH;
	}
	if (EXCLUSIVE_OPLOCK_TYPE(fsp->oplock_type)) {
		return PCORE_OPLOCK_EXCLUSIVE;
	}
	if (LEVEL_II_OPLOCK_TYPE(fsp->oplock_type)) {
		return PCORE_OPLOCK_II;
	}
	return PCORE_OPLOCK_NONE;
}

static void persistent_server_id(struct messaging_context *msg_ctx,
				 struct pcore_server_id *out)
{
	struct server_id self = messaging_server_id(msg_ctx);

	*out = (struct pcore_server_id){
		.vnn = self.vnn,
		.pid = self.pid,
		.unique_id = self.unique_id,
	};
}

/* ---- The cookie smbd keeps for us. ---- */

/* The codec is the core's (core/cookie.h); here only the blobs. */
static NTSTATUS persistent_cookie_wrap(TALLOC_CTX *mem_ctx,
				       uint64_t persistent_id,
				       const DATA_BLOB inner,
				       DATA_BLOB *cookie)
{
	DATA_BLOB blob;
	pcore_status st;

	blob = data_blob_talloc(mem_ctx,
				NULL,
				PCORE_COOKIE_HEADER_SIZE + inner.length);
	if (blob.data == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	st = pcore_cookie_encode(persistent_id,
				 inner.data,
				 inner.length,
				 blob.data,
				 blob.length);
	if (st != PCORE_OK) {
		data_blob_free(&blob);
		return pcore_status_to_ntstatus(st);
	}
	*cookie = blob;
	return NT_STATUS_OK;
}

static bool persistent_cookie_is_ours(const DATA_BLOB cookie)
{
	return pcore_cookie_is_ours(cookie.data, cookie.length) != 0;
}

/* Every field checked; inner points into cookie. */
static NTSTATUS persistent_cookie_unwrap(const DATA_BLOB cookie,
					 uint64_t *persistent_id,
					 DATA_BLOB *inner)
{
	struct pcore_cookie parsed;
	pcore_status st;

	st = pcore_cookie_decode(cookie.data, cookie.length, &parsed);
	if (st != PCORE_OK) {
		DBG_WARNING("cookie of %zu bytes refused: %s\n",
			    cookie.length,
			    parsed.problem);
		return NT_STATUS_INVALID_PARAMETER;
	}
	*persistent_id = parsed.persistent_id;
	*inner = data_blob_const(cookie.data + parsed.inner_offset,
				 parsed.inner_len);
	return NT_STATUS_OK;
}

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
static void persistent_sweep(struct persistent_db *pdb)
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

static bool persistent_owner_alive(const struct pcore_server_id *owner)
{
	struct server_id id = {
		.pid = owner->pid,
		.vnn = owner->vnn,
		.unique_id = owner->unique_id,
	};

	return serverid_exists(&id);
}

struct persistent_collect_state {
	TALLOC_CTX *mem_ctx;
	uint64_t *ids;
	size_t num_ids;
};

static int persistent_collect_fn(struct db_record *rec, void *private_data)
{
	struct persistent_collect_state *state = private_data;
	TDB_DATA key = dbwrap_record_get_key(rec);
	const size_t prefix_len = strlen(PERSISTENT_RECORD_PREFIX);
	char hex[17];
	uint64_t *ids = NULL;
	char *end = NULL;
	uint64_t id;

	if (key.dsize != prefix_len + 16 ||
	    memcmp(key.dptr, PERSISTENT_RECORD_PREFIX, prefix_len) != 0)
	{
		return 0;
	}
	memcpy(hex, key.dptr + prefix_len, 16);
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
 * Called for each disconnected, unexpired open; return true to stop.
 */
typedef bool (*persistent_visit_fn)(const struct pcore_open *view,
				    void *private_data);

/*
 * brlock.tdb is emptied when smbd starts: after a restart the byte-range
 * locks of a disconnected persistent open live only in the store.  Put
 * them back into brlock.tdb as the locks of a disconnected open (patch
 * 0010), so that smbd's own lock checks and smbstatus -B see them; with
 * num_locks == 0 (expiry, reconnect) the open's disconnected entries are
 * removed.  The file id is the one stored at the grant (fsp->file_id, as
 * the share's VFS made it); a record of an older store has none, and the
 * default VFS's file id of the path's stat (device, inode) stands in.
 */
static bool persistent_stored_file_id(const struct pcore_open *view,
				      struct file_id *fid)
{
	const struct loadparm_substitution *lp_sub =
		loadparm_s3_global_substitution();
	int snum = lp_servicenumber(view->share_name);
	char *share_path = NULL;
	char *path = NULL;
	SMB_STRUCT_STAT sbuf;
	int ret;

	if (view->has_identity) {
		/* as smbd computed it at the grant, vfs_fileid included */
		*fid = (struct file_id){
			.devid = view->file_id.devid,
			.inode = view->file_id.inode,
			.extid = view->file_id.extid,
		};
		return true;
	}
	if (snum < 0) {
		return false;
	}
	share_path = lp_path(talloc_tos(), lp_sub, snum);
	if (share_path == NULL || share_path[0] != '/') {
		TALLOC_FREE(share_path);
		return false;
	}
	path = talloc_asprintf(talloc_tos(), "%s/%s", share_path, view->path);
	TALLOC_FREE(share_path);
	if (path == NULL) {
		return false;
	}
	ret = sys_stat(path, &sbuf, false);
	TALLOC_FREE(path);
	if (ret != 0) {
		return false;
	}
	*fid = (struct file_id){
		.devid = sbuf.st_ex_dev,
		.inode = sbuf.st_ex_ino,
	};
	return true;
}

static void persistent_brl_set(const struct pcore_open *view,
			       const struct file_id *fid,
			       bool restore)
{
	struct lock_struct *locks = NULL;
	uint32_t num = restore ? view->num_locks : 0;
	uint32_t i;
	bool ok;

	if (num > 0) {
		locks = talloc_zero_array(talloc_tos(), struct lock_struct,
					  num);
		if (locks == NULL) {
			return;
		}
		for (i = 0; i < num; i++) {
			locks[i].start = view->locks[i].offset;
			locks[i].size = view->locks[i].length;
			locks[i].lock_type =
				(view->locks[i].type == PCORE_LOCK_EXCLUSIVE) ?
					WRITE_LOCK : READ_LOCK;
		}
	}
	ok = brl_set_disconnected_locks(*fid, view->persistent_id, locks,
					num);
	TALLOC_FREE(locks);
	if (restore) {
		DBG_NOTICE("persistent open %" PRIu64 " of [%s] %s: %" PRIu32
			   " byte-range locks %s brlock.tdb\n",
			   view->persistent_id,
			   view->share_name,
			   view->path,
			   num,
			   ok ? "restored in" : "not restored in (the open "
				"holds them or they conflict)");
	} else if (!ok) {
		DBG_NOTICE("persistent open %" PRIu64 " of [%s] %s: its "
			   "disconnected byte-range locks not removed\n",
			   view->persistent_id,
			   view->share_name,
			   view->path);
	}
}

/*
 * The open's timeout ran out: remove its record and what smbd may still
 * hold of it.  smbd's share mode entry and byte-range locks of a dead
 * smbd are stale and dropped by smbd on the next access; those of a
 * clean disconnect are released by smbd's scavenger at the same timeout.
 * The global open record (left by a dead smbd, or put back after a
 * restart) is removed here.  One line in the log names the file.
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
 * and not expired.  smbd's own state of such an open (share mode entry,
 * byte-range locks of a dead process) is stale and smbd drops it; the
 * module keeps enforcing the open from its store until it is reconnected
 * or expires.  Returns true when fn asks to stop.
 */
static bool persistent_scan_one(struct persistent_db *pdb,
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
static void persistent_scan(struct persistent_db *pdb,
			    persistent_visit_fn fn,
			    void *private_data)
{
	struct persistent_collect_state state = {
		.mem_ctx = talloc_tos(),
	};
	uint64_t now_us = persistent_now_us();
	NTSTATUS status;
	size_t i;

	status = dbwrap_traverse_read(pdb->db, persistent_collect_fn, &state,
				      NULL);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("traverse of %s failed: %s\n",
			    pdb->path,
			    nt_errstr(status));
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

struct persistent_scan_path_state {
	struct persistent_db *pdb;
	uint64_t now_us;
	persistent_visit_fn fn;
	void *private_data;
};

static int persistent_scan_path_fn(uint64_t persistent_id, void *id_data)
{
	struct persistent_scan_path_state *state = id_data;

	return persistent_scan_one(state->pdb, persistent_id, state->now_us,
				   state->fn, state->private_data) ? 1 : 0;
}

/*
 * The stored opens of one file only, found through the store's file index
 * by the file's identity (whichever share granted them), and through its
 * path index for records of an older store that have none (one key read
 * each; nothing more when no persistent open is on the file): what create
 * and lock need, instead of a traverse of the whole store.  fid NULL: the
 * file does not exist yet, only the path can be held.
 */
static void persistent_scan_file(struct persistent_db *pdb,
				 const struct file_id *fid,
				 const char *share_name,
				 const char *path,
				 persistent_visit_fn fn,
				 void *private_data)
{
	struct persistent_scan_path_state state = {
		.pdb = pdb,
		.now_us = persistent_now_us(),
		.fn = fn,
		.private_data = private_data,
	};
	pcore_status st = PCORE_OK;

	if (fid != NULL) {
		struct pcore_file_id pfid = {
			.devid = fid->devid,
			.inode = fid->inode,
			.extid = fid->extid,
		};

		st = pcore_file_ids(pdb->table, &pfid,
				    persistent_scan_path_fn, &state);
	}
	if (st == PCORE_OK) {
		st = pcore_path_ids(pdb->table, share_name, path,
				    persistent_scan_path_fn, &state);
	}
	if (st != PCORE_OK) {
		DBG_WARNING("path index of [%s] %s in %s: %s: scanning the "
			    "store\n",
			    share_name,
			    path,
			    pdb->path,
			    pcore_table_last_error(pdb->table));
		persistent_scan(pdb, fn, private_data);
	}
}

/* ---- The expiry timer ---- */

static void persistent_timer_arm(struct persistent_db *pdb);

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
static void persistent_timer_arm(struct persistent_db *pdb)
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
static int persistent_config_destructor(struct persistent_config *config)
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
 * After a restart smbXsrv_open_global.tdb is empty (and after a kill -9
 * it holds a record of a dead smbd): put a disconnected global record
 * back for each stored open, so that a DH2C finds it by persistent id.
 * The cookie carries no default durable cookie: the reconnect re-creates
 * the open from the store.
 */
static bool persistent_restore_global_fn(const struct pcore_open *view,
					 void *private_data)
{
	struct smbXsrv_open_global0 global = {
		.open_global_id = (uint32_t)view->persistent_id,
		.open_persistent_id = view->persistent_id,
		.open_volatile_id = view->volatile_id,
		.durable_timeout_msec = view->timeout_ms,
		.durable = true,
		.persistent = true,
		.channel_sequence = view->reply.channel_sequence,
	};
	struct timeval tv = {
		.tv_sec = view->disconnect_time_us / 1000000,
		.tv_usec = view->disconnect_time_us % 1000000,
	};
	DATA_BLOB blob;
	NTSTATUS status;

	if ((uint64_t)global.open_global_id != view->persistent_id) {
		return false;
	}
	if (!dom_sid_parse(view->owner_sid, &global.open_owner)) {
		return false;
	}
	blob = data_blob_const(view->create_guid, PCORE_GUID_SIZE);
	status = GUID_from_ndr_blob(&blob, &global.create_guid);
	if (!NT_STATUS_IS_OK(status)) {
		return false;
	}
	blob = data_blob_const(view->client_guid, PCORE_GUID_SIZE);
	status = GUID_from_ndr_blob(&blob, &global.client_guid);
	if (!NT_STATUS_IS_OK(status)) {
		return false;
	}
	global.open_time = timeval_to_nttime(&tv);
	global.disconnect_time = timeval_to_nttime(&tv);
	memcpy(global.lock_sequence_array, view->lock_sequence,
	       sizeof(global.lock_sequence_array));

	status = persistent_cookie_wrap(talloc_tos(), view->persistent_id,
					data_blob_null,
					&global.backend_cookie);
	if (!NT_STATUS_IS_OK(status)) {
		return false;
	}
	status = smbXsrv_open_global_restore(&global);
	data_blob_free(&global.backend_cookie);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("persistent open %" PRIu64 ": global record not "
			    "restored: %s\n",
			    view->persistent_id,
			    nt_errstr(status));
	}
	if (view->num_locks > 0) {
		struct file_id fid;

		if (persistent_stored_file_id(view, &fid)) {
			persistent_brl_set(view, &fid, true);
		}
	}
	return false;
}

/* ---- Conflicts with disconnected persistent opens ---- */

static uint32_t persistent_map_access(uint32_t access_mask)
{
	if (access_mask & SEC_FLAG_MAXIMUM_ALLOWED) {
		access_mask |= SEC_RIGHTS_FILE_ALL;
	}
	if (access_mask & SEC_GENERIC_ALL) {
		access_mask |= SEC_RIGHTS_FILE_ALL;
	}
	if (access_mask & SEC_GENERIC_READ) {
		access_mask |= SEC_RIGHTS_FILE_READ;
	}
	if (access_mask & SEC_GENERIC_WRITE) {
		access_mask |= SEC_RIGHTS_FILE_WRITE;
	}
	if (access_mask & SEC_GENERIC_EXECUTE) {
		access_mask |= SEC_RIGHTS_FILE_EXECUTE;
	}
	return access_mask;
}

/*
 * Whether a stored open is on the file being opened or locked: by the
 * file's identity where the record has one (any share, any path that
 * reaches the file), by share and path for a record of an older store.
 */
static bool persistent_view_is_file(const struct pcore_open *view,
				    const struct file_id *fid,
				    const char *stream_name,
				    const char *share_name,
				    const char *path)
{
	if (view->has_identity) {
		const char *vstream = view->stream_name != NULL ?
			view->stream_name : "";

		return fid != NULL && view->file_id.devid == fid->devid &&
		       view->file_id.inode == fid->inode &&
		       view->file_id.extid == fid->extid &&
		       strcasecmp_m(vstream,
				    stream_name != NULL ? stream_name : "") ==
			       0;
	}
	return strcmp(view->share_name, share_name) == 0 &&
	       strcmp(view->path, path) == 0;
}

struct persistent_open_conflict_state {
	const struct file_id *fid; /* NULL: the file does not exist */
	const char *stream_name;
	const char *share_name;
	const char *path;
	struct pcore_open_request req;
	uint64_t holder;
	NTSTATUS status;
};

/* The decision is the core's (pcore_open_conflict); this gathers and maps. */
static bool persistent_open_conflict_fn(const struct pcore_open *view,
					void *private_data)
{
	struct persistent_open_conflict_state *state = private_data;
	pcore_status st;

	if (!persistent_view_is_file(view, state->fid, state->stream_name,
				     state->share_name, state->path))
	{
		return false;
	}
	st = pcore_open_conflict(view, &state->req);
	if (st == PCORE_OK) {
		return false;
	}
	state->holder = view->persistent_id;
	state->status = pcore_status_to_ntstatus(st);
	return true;
}

struct persistent_lock_conflict_state {
	const struct file_id *fid;
	const char *stream_name;
	const char *share_name;
	const char *path;
	uint64_t own_id;
	uint64_t offset;
	uint64_t length;
	bool exclusive;
	uint64_t holder;
	bool conflict;
};

static bool persistent_lock_conflict_fn(const struct pcore_open *view,
					void *private_data)
{
	struct persistent_lock_conflict_state *state = private_data;

	if (view->persistent_id == state->own_id ||
	    !persistent_view_is_file(view, state->fid, state->stream_name,
				     state->share_name, state->path))
	{
		return false;
	}
	if (!pcore_lock_conflict(view, state->offset, state->length,
				 state->exclusive ? 1 : 0))
	{
		return false;
	}
	state->holder = view->persistent_id;
	state->conflict = true;
	return true;
}

/* ---- connect ---- */

/*
 * Whether persistent handles can be kept on this share; if not, say why
 * in the log and return false.
 */
static bool persistent_share_ok(struct vfs_handle_struct *handle,
				const char *service)
{
	int snum = SNUM(handle->conn);

	if (!lp_durable_handles(snum)) {
		DBG_WARNING("share [%s]: \"durable handles = no\": "
			    "no persistent handles\n",
			    service);
		return false;
	}
	if (lp_kernel_oplocks(snum)) {
		DBG_WARNING("share [%s]: \"kernel oplocks = yes\": "
			    "no persistent handles\n",
			    service);
		return false;
	}
	if (lp_kernel_share_modes(snum)) {
		DBG_WARNING("share [%s]: \"kernel share modes = yes\": "
			    "no persistent handles\n",
			    service);
		return false;
	}
	if (lp_posix_locking(handle->conn->params)) {
		DBG_NOTICE("share [%s]: \"posix locking = yes\": a "
			   "persistent open that holds byte-range locks is "
			   "not granted\n",
			   service);
	}
	return true;
}

static int persistent_connect(struct vfs_handle_struct *handle,
			      const char *service,
			      const char *user)
{
	struct persistent_config *config = NULL;
	const char *store_path = NULL;
	char *default_path = NULL;
	int snum = SNUM(handle->conn);
	bool global_cap;
	int ret;

	ret = SMB_VFS_NEXT_CONNECT(handle, service, user);
	if (ret < 0) {
		return ret;
	}

	DBG_NOTICE("share [%s]: %s\n", service, pcore_version());

	config = talloc_zero(handle->conn, struct persistent_config);
	if (config == NULL) {
		DBG_ERR("talloc failed\n");
		SMB_VFS_NEXT_DISCONNECT(handle);
		errno = ENOMEM;
		return -1;
	}
	config->share_name = talloc_strdup(config, service);
	if (config->share_name == NULL) {
		DBG_ERR("talloc failed\n");
		TALLOC_FREE(config);
		SMB_VFS_NEXT_DISCONNECT(handle);
		errno = ENOMEM;
		return -1;
	}

	config->default_timeout_ms = 1000 * (uint32_t)lp_parm_int(
		snum, PERSISTENT_MODULE_NAME, "timeout",
		PERSISTENT_DEFAULT_TIMEOUT_MS / 1000);
	config->max_timeout_ms = 1000 * (uint32_t)lp_parm_int(
		snum, PERSISTENT_MODULE_NAME, "max timeout",
		PERSISTENT_DEFAULT_MAX_TIMEOUT_MS / 1000);
	if (config->max_timeout_ms < PCORE_MIN_TIMEOUT_MS ||
	    config->max_timeout_ms > PCORE_MAX_TIMEOUT_MS)
	{
		DBG_WARNING("share [%s]: persistent:max timeout out of "
			    "range, using %d s\n",
			    service,
			    PERSISTENT_DEFAULT_MAX_TIMEOUT_MS / 1000);
		config->max_timeout_ms = PERSISTENT_DEFAULT_MAX_TIMEOUT_MS;
	}
	if (config->default_timeout_ms < PCORE_MIN_TIMEOUT_MS ||
	    config->default_timeout_ms > config->max_timeout_ms)
	{
		DBG_WARNING("share [%s]: persistent:timeout out of range, "
			    "using %" PRIu32 " s\n",
			    service,
			    MIN(PERSISTENT_DEFAULT_TIMEOUT_MS,
				config->max_timeout_ms) / 1000);
		config->default_timeout_ms = MIN(PERSISTENT_DEFAULT_TIMEOUT_MS,
						 config->max_timeout_ms);
	}

	SMB_VFS_HANDLE_SET_DATA(handle, config, NULL,
				struct persistent_config, return -1);

	if (!persistent_share_ok(handle, service)) {
		return 0;
	}

	global_cap = lp_parm_bool(GLOBAL_SECTION_SNUM,
				  "smb3 global cap",
				  "PERSISTENT HANDLES",
				  false);
	if (!global_cap) {
		DBG_WARNING("share [%s]: \"smb3 global cap:PERSISTENT "
			    "HANDLES\" is not set in [global]: clients are "
			    "not offered persistent handles\n",
			    service);
		return 0;
	}

	store_path = lp_parm_const_string(snum,
					  PERSISTENT_MODULE_NAME,
					  "store",
					  NULL);
	if (store_path == NULL) {
		default_path = state_path(talloc_tos(), "persistent.tdb");
		if (default_path == NULL) {
			DBG_ERR("talloc failed\n");
			return 0;
		}
		store_path = default_path;
	}

	config->pdb = persistent_db_get(store_path);
	TALLOC_FREE(default_path);
	if (config->pdb == NULL) {
		DBG_WARNING("share [%s]: no store: no persistent handles\n",
			    service);
		return 0;
	}

	{
		uint32_t fixed = 0;
		pcore_status st = pcore_reindex(config->pdb->table, &fixed);

		if (st != PCORE_OK) {
			DBG_WARNING("path index of %s not checked: %s\n",
				    config->pdb->path,
				    pcore_table_last_error(config->pdb->table));
		} else if (fixed > 0) {
			DBG_NOTICE("path index of %s: %" PRIu32 " entries "
				   "rebuilt\n",
				   config->pdb->path,
				   fixed);
		}
	}
	persistent_sweep(config->pdb);
	persistent_scan(config->pdb, persistent_restore_global_fn, NULL);

	/*
	 * The expiry timer of this process, shared by its tree connects to
	 * shares on this store; the shortest scan interval wins.
	 */
	{
		int interval_s = lp_parm_int(snum, PERSISTENT_MODULE_NAME,
					     "scan interval",
					     PERSISTENT_DEFAULT_SCAN_INTERVAL_S);
		uint32_t interval_ms = (interval_s > 0 && interval_s <= 3600) ?
			(uint32_t)interval_s * 1000 : 0;

		if (config->pdb->users == 0 ||
		    (interval_ms > 0 &&
		     (config->pdb->scan_interval_ms == 0 ||
		      interval_ms < config->pdb->scan_interval_ms)))
		{
			config->pdb->scan_interval_ms = interval_ms;
		}
		config->pdb->ev = handle->conn->sconn->ev_ctx;
		config->pdb->users++;
		config->timer_user = true;
		talloc_set_destructor(config, persistent_config_destructor);
		persistent_timer_arm(config->pdb);
	}

	handle->conn->persistent_handles = true;
	DBG_NOTICE("share [%s]: continuously available, persistent handles "
		   "in %s (timeout %" PRIu32 " s, max %" PRIu32 " s)\n",
		   service,
		   config->pdb->path,
		   config->default_timeout_ms / 1000,
		   config->max_timeout_ms / 1000);
	return 0;
}

/* ---- create: remember what the DH2Q asked ---- */

static NTSTATUS persistent_create_file(
	struct vfs_handle_struct *handle,
	struct smb_request *req,
	struct files_struct *dirfsp,
	struct smb_filename *smb_fname,
	uint32_t access_mask,
	uint32_t share_access,
	uint32_t create_disposition,
	uint32_t create_options,
	uint32_t file_attributes,
	uint32_t oplock_request,
	const struct smb2_lease *lease,
	uint64_t allocation_size,
	uint32_t private_flags,
	struct security_descriptor *sd,
	struct ea_list *ea_list,
	files_struct **result,
	int *pinfo,
	const struct smb2_create_blobs *in_context_blobs,
	struct smb2_create_blobs *out_context_blobs)
{
	struct persistent_config *config = NULL;
	struct smb2_create_blob *dh2q = NULL;
	struct persistent_fsp *pfsp = NULL;
	NTSTATUS status;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return NT_STATUS_INTERNAL_ERROR);

	if (config->pdb != NULL && !config->reopening && req != NULL &&
	    req->xconn != NULL)
	{
		uint8_t client_guid[PCORE_GUID_SIZE];
		struct file_id fid = {};
		bool exists = VALID_STAT(smb_fname->st);
		struct persistent_open_conflict_state cstate = {
			.stream_name = smb_fname->stream_name,
			.share_name = config->share_name,
			.path = smb_fname->base_name,
			.req = {
				.access_mask = persistent_map_access(
					access_mask),
				.share_access = share_access,
				.create_disposition = create_disposition,
				.client_guid = client_guid,
				.has_lease = (oplock_request == LEASE_OPLOCK &&
					      lease != NULL),
			},
			.status = NT_STATUS_OK,
		};

		persistent_guid_bytes(&req->xconn->smb2.client.guid,
				      client_guid);
		if (cstate.req.has_lease) {
			persistent_lease_key_bytes(&lease->lease_key,
						   cstate.req.lease_key);
		}
		if (exists) {
			fid = vfs_file_id_from_sbuf(handle->conn,
						    &smb_fname->st);
			cstate.fid = &fid;
		}
		persistent_scan_file(config->pdb, cstate.fid,
				     config->share_name, smb_fname->base_name,
				     persistent_open_conflict_fn, &cstate);
		if (!NT_STATUS_IS_OK(cstate.status)) {
			DBG_NOTICE("open of %s refused: disconnected "
				   "persistent open %" PRIu64 " holds it: "
				   "%s\n",
				   smb_fname_str_dbg(smb_fname),
				   cstate.holder,
				   nt_errstr(cstate.status));
			return cstate.status;
		}
	}

	status = SMB_VFS_NEXT_CREATE_FILE(handle,
					  req,
					  dirfsp,
					  smb_fname,
					  access_mask,
					  share_access,
					  create_disposition,
					  create_options,
					  file_attributes,
					  oplock_request,
					  lease,
					  allocation_size,
					  private_flags,
					  sd,
					  ea_list,
					  result,
					  pinfo,
					  in_context_blobs,
					  out_context_blobs);
	if (!NT_STATUS_IS_OK(status) || !handle->conn->persistent_handles ||
	    in_context_blobs == NULL || *result == NULL)
	{
		return status;
	}

	dh2q = smb2_create_blob_find(in_context_blobs, SMB2_CREATE_TAG_DH2Q);
	if (dh2q == NULL || dh2q->data.length != 32) {
		/* smbd rejects a DH2Q of another length itself */
		return status;
	}

	pfsp = VFS_ADD_FSP_EXTENSION(handle, *result, struct persistent_fsp,
				     NULL);
	if (pfsp == NULL) {
		DBG_ERR("no memory for the fsp extension\n");
		return status;
	}
	*pfsp = (struct persistent_fsp){
		.have_dh2q = true,
		.requested_timeout_ms = IVAL(dh2q->data.data, 0),
		.share_access = share_access,
		.create_disposition = create_disposition,
		.create_options = create_options,
		.create_action = (pinfo != NULL) ? (uint32_t)*pinfo : 0,
	};
	return status;
}

/* ---- durable_cookie: grant ---- */

static uint32_t persistent_timeout(const struct persistent_config *config,
				   const struct persistent_fsp *pfsp,
				   uint32_t smbd_timeout_ms)
{
	uint32_t requested = smbd_timeout_ms;

	if (pfsp != NULL && pfsp->have_dh2q) {
		requested = pfsp->requested_timeout_ms;
	}
	if (requested == 0) {
		/* [MS-SMB2] 2.2.13.2.11: 0 asks for the server's default */
		return config->default_timeout_ms;
	}
	return MIN(requested, config->max_timeout_ms);
}

/*
 * The file's birth time as NTTIME, or 0 where smbd only made one up from
 * the other times (ST_EX_IFLAG_CALCULATED_BTIME): that one can change
 * while the file stays the same.
 */
static uint64_t persistent_birth_time(const SMB_STRUCT_STAT *st)
{
	if (st->st_ex_iflags & ST_EX_IFLAG_CALCULATED_BTIME) {
		return 0;
	}
	return full_timespec_to_nt_time(&st->st_ex_btime);
}

static NTSTATUS persistent_grant(struct vfs_handle_struct *handle,
				 struct persistent_config *config,
				 struct files_struct *fsp,
				 struct persistent_fsp *pfsp,
				 uint32_t timeout_ms)
{
	struct smbXsrv_open_global0 *global = fsp->op->global;
	struct dom_sid_buf sid_buf;
	struct pcore_open open;
	pcore_status st;
	size_t i;

	open = (struct pcore_open){
		.persistent_id = global->open_persistent_id,
		.volatile_id = global->open_volatile_id,
		.oplock_level = persistent_oplock_level(fsp),
		.owner_sid = dom_sid_str_buf(&global->open_owner, &sid_buf),
		.share_name = config->share_name,
		.path = fsp->fsp_name->base_name,
		.access_mask = fsp->access_mask,
		.share_access = pfsp->share_access,
		.create_disposition = pfsp->create_disposition,
		.create_options = pfsp->create_options,
		.timeout_ms = timeout_ms,
		.reply = {
			.channel_sequence = global->channel_sequence,
			.create_action = pfsp->create_action,
			.end_of_file = fsp->fsp_name->st.st_ex_size,
			.allocation_size = fsp->initial_allocation_size,
		},
	};
	persistent_guid_bytes(&global->create_guid, open.create_guid);
	persistent_guid_bytes(&global->client_guid, open.client_guid);
	persistent_server_id(fsp->conn->sconn->msg_ctx, &open.owner);
	for (i = 0; i < PCORE_LOCK_SEQUENCE_ENTRIES; i++) {
		open.lock_sequence[i] = global->lock_sequence_array[i];
	}

	/* The file, as smbd identifies it (a vfs_fileid setup included). */
	open.has_identity = 1;
	open.file_id = (struct pcore_file_id){
		.devid = fsp->file_id.devid,
		.inode = fsp->file_id.inode,
		.extid = fsp->file_id.extid,
	};
	open.birth_time = persistent_birth_time(&fsp->fsp_name->st);
	open.stream_name = fsp->fsp_name->stream_name;

	if (fsp->oplock_type == LEASE_OPLOCK && fsp->lease != NULL) {
		const struct smb2_lease *lease = &fsp->lease->lease;

		open.lease_version = lease->lease_version;
		open.lease_state = lease->lease_state;
		open.lease_epoch = lease->lease_epoch;
		persistent_lease_key_bytes(&lease->lease_key, open.lease_key);
	}

	st = pcore_grant(config->pdb->table, &open);
	if (st != PCORE_OK) {
		DBG_ERR("%s: open %" PRIu64 " not stored, so not "
			"persistent: %s (%s)\n",
			fsp_str_dbg(fsp),
			open.persistent_id,
			pcore_table_last_error(config->pdb->table),
			pcore_status_string(st));
		return pcore_status_to_ntstatus(st);
	}
	return NT_STATUS_OK;
}

static NTSTATUS persistent_durable_cookie(struct vfs_handle_struct *handle,
					  struct files_struct *fsp,
					  TALLOC_CTX *mem_ctx,
					  DATA_BLOB *cookie)
{
	struct persistent_config *config = NULL;
	struct persistent_fsp *pfsp = NULL;
	DATA_BLOB inner = data_blob_null;
	uint32_t timeout_ms;
	NTSTATUS status;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return NT_STATUS_INTERNAL_ERROR);

	if (fsp->op == NULL || !fsp->op->global->persistent) {
		return SMB_VFS_NEXT_DURABLE_COOKIE(handle, fsp, mem_ctx,
						   cookie);
	}

	if (config->pdb == NULL) {
		/* smbd only asks on a share we marked; be safe anyway */
		fsp->op->global->persistent = false;
		return SMB_VFS_NEXT_DURABLE_COOKIE(handle, fsp, mem_ctx,
						   cookie);
	}

	status = SMB_VFS_NEXT_DURABLE_COOKIE(handle, fsp, mem_ctx, &inner);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("%s: no durable cookie (%s): not persistent\n",
			   fsp_str_dbg(fsp),
			   nt_errstr(status));
		fsp->op->global->persistent = false;
		return status;
	}

	pfsp = VFS_FETCH_FSP_EXTENSION(handle, fsp);
	if (pfsp == NULL) {
		pfsp = VFS_ADD_FSP_EXTENSION(handle, fsp,
					     struct persistent_fsp, NULL);
		if (pfsp == NULL) {
			fsp->op->global->persistent = false;
			*cookie = inner;
			return NT_STATUS_OK;
		}
		*pfsp = (struct persistent_fsp){
			.create_disposition = FILE_OPEN,
		};
	}

	timeout_ms = persistent_timeout(config, pfsp,
					fsp->op->global->durable_timeout_msec);

	status = persistent_grant(handle, config, fsp, pfsp, timeout_ms);
	if (!NT_STATUS_IS_OK(status)) {
		/* durable at most (smbd decides by the lease), never persistent */
		fsp->op->global->persistent = false;
		*cookie = inner;
		return NT_STATUS_OK;
	}

	status = persistent_cookie_wrap(mem_ctx,
					fsp->op->global->open_persistent_id,
					inner,
					cookie);
	data_blob_free(&inner);
	if (!NT_STATUS_IS_OK(status)) {
		pcore_release(config->pdb->table,
			      fsp->op->global->open_persistent_id);
		fsp->op->global->persistent = false;
		return status;
	}

	pfsp->persistent = true;
	pfsp->persistent_id = fsp->op->global->open_persistent_id;
	fsp->op->global->durable_timeout_msec = timeout_ms;
	DBG_INFO("%s: persistent open %" PRIu64 " stored, timeout %" PRIu32
		 " ms\n",
		 fsp_str_dbg(fsp),
		 pfsp->persistent_id,
		 timeout_ms);
	return NT_STATUS_OK;
}

static void persistent_update_lease(struct persistent_config *config,
				    struct files_struct *fsp,
				    uint64_t persistent_id);

/* ---- durable_disconnect ---- */

struct persistent_disconnect_state {
	struct files_struct *fsp;
	bool ok;
};

static void persistent_disconnect_locked(struct share_mode_lock *lck,
					 struct byte_range_lock *br_lck,
					 void *private_data)
{
	struct persistent_disconnect_state *state = private_data;
	struct files_struct *fsp = state->fsp;
	struct smb_file_time ft;

	/* Pending write time updates go to disk before the fd closes. */
	if (fsp->update_write_time_event != NULL) {
		fsp_flush_write_time_update(fsp);
	}
	init_smb_file_time(&ft);
	if (fsp->fsp_flags.write_time_forced) {
		ft.mtime = nt_time_to_full_timespec(
			share_mode_changed_write_time(lck));
	} else if (fsp->fsp_flags.update_write_time_on_close) {
		ft.mtime = is_omit_timespec(&fsp->close_write_time) ?
			timespec_current() : fsp->close_write_time;
	}
	if (!is_omit_timespec(&ft.mtime)) {
		round_timespec(fsp->conn->ts_res, &ft.mtime);
		file_ntimes(fsp->conn, fsp, &ft);
	}

	if (!mark_share_mode_disconnected(lck, fsp)) {
		DBG_WARNING("%s: share mode not marked disconnected\n",
			    fsp_str_dbg(fsp));
		return;
	}
	if (br_lck != NULL && !brl_mark_disconnected(fsp, br_lck)) {
		DBG_WARNING("%s: byte-range locks not marked disconnected "
			    "(another handle holds locks on the file)\n",
			    fsp_str_dbg(fsp));
		return;
	}
	state->ok = true;
}

/*
 * The default durable disconnect refuses an open without a handle lease
 * (or with locks and no write lease); a persistent open keeps its state
 * whatever its lease.  The rest is what a durable disconnect does: mark the
 * share mode entry and the byte-range locks disconnected, then hand smbd a
 * default cookie that allows the reconnect, and close the fd.
 */
static NTSTATUS persistent_disconnect_open(struct files_struct *fsp,
					   const DATA_BLOB old_inner,
					   TALLOC_CTX *mem_ctx,
					   DATA_BLOB *new_inner)
{
	struct vfs_default_durable_cookie cookie;
	struct persistent_disconnect_state state = {
		.fsp = fsp,
	};
	enum ndr_err_code ndr_err;
	NTSTATUS status;

	ZERO_STRUCT(cookie);
	ndr_err = ndr_pull_struct_blob(
		&old_inner, talloc_tos(), &cookie,
		(ndr_pull_flags_fn_t)ndr_pull_vfs_default_durable_cookie);
	if (!NDR_ERR_CODE_IS_SUCCESS(ndr_err)) {
		return ndr_map_error2ntstatus(ndr_err);
	}
	if (strcmp(cookie.magic, VFS_DEFAULT_DURABLE_COOKIE_MAGIC) != 0 ||
	    cookie.version != VFS_DEFAULT_DURABLE_COOKIE_VERSION ||
	    !file_id_equal(&fsp->file_id, &cookie.id))
	{
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (fsp->fsp_flags.initial_delete_on_close ||
	    fsp->fsp_flags.delete_on_close)
	{
		/* a file to be deleted is closed, not kept */
		return NT_STATUS_NOT_SUPPORTED;
	}
	if (!VALID_STAT(fsp->fsp_name->st) ||
	    !S_ISREG(fsp->fsp_name->st.st_ex_mode))
	{
		return NT_STATUS_NOT_SUPPORTED;
	}

	status = share_mode_do_locked_brl(fsp,
					  persistent_disconnect_locked,
					  &state);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (!state.ok) {
		return NT_STATUS_UNSUCCESSFUL;
	}

	status = vfs_stat_fsp(fsp);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}

	cookie.allow_reconnect = true;
	cookie.id = fsp->file_id;
	cookie.servicepath = fsp->conn->connectpath;
	cookie.base_name = fsp_str_dbg(fsp);
	cookie.initial_allocation_size = fsp->initial_allocation_size;
	cookie.position_information = fh_get_position_information(fsp->fh);
	cookie.update_write_time_triggered =
		fsp->fsp_flags.update_write_time_triggered;
	cookie.update_write_time_on_close =
		fsp->fsp_flags.update_write_time_on_close;
	cookie.write_time_forced = fsp->fsp_flags.write_time_forced;
	cookie.close_write_time =
		full_timespec_to_nt_time(&fsp->close_write_time);
	cookie.stat_info = (struct vfs_default_durable_stat){
		.st_ex_dev = fsp->fsp_name->st.st_ex_dev,
		.st_ex_ino = fsp->fsp_name->st.st_ex_ino,
		.st_ex_mode = fsp->fsp_name->st.st_ex_mode,
		.st_ex_nlink = fsp->fsp_name->st.st_ex_nlink,
		.st_ex_uid = fsp->fsp_name->st.st_ex_uid,
		.st_ex_gid = fsp->fsp_name->st.st_ex_gid,
		.st_ex_rdev = fsp->fsp_name->st.st_ex_rdev,
		.st_ex_size = fsp->fsp_name->st.st_ex_size,
		.st_ex_atime = fsp->fsp_name->st.st_ex_atime,
		.st_ex_mtime = fsp->fsp_name->st.st_ex_mtime,
		.st_ex_ctime = fsp->fsp_name->st.st_ex_ctime,
		.st_ex_btime = fsp->fsp_name->st.st_ex_btime,
		.st_ex_iflags = fsp->fsp_name->st.st_ex_iflags,
		.st_ex_blksize = fsp->fsp_name->st.st_ex_blksize,
		.st_ex_blocks = fsp->fsp_name->st.st_ex_blocks,
		.st_ex_flags = fsp->fsp_name->st.st_ex_flags,
	};

	ndr_err = ndr_push_struct_blob(
		new_inner, mem_ctx, &cookie,
		(ndr_push_flags_fn_t)ndr_push_vfs_default_durable_cookie);
	if (!NDR_ERR_CODE_IS_SUCCESS(ndr_err)) {
		return ndr_map_error2ntstatus(ndr_err);
	}

	status = fd_close(fsp);
	if (!NT_STATUS_IS_OK(status)) {
		data_blob_free(new_inner);
		return status;
	}
	return NT_STATUS_OK;
}

static NTSTATUS persistent_durable_disconnect(struct vfs_handle_struct *handle,
					      struct files_struct *fsp,
					      const DATA_BLOB old_cookie,
					      TALLOC_CTX *mem_ctx,
					      DATA_BLOB *new_cookie)
{
	struct persistent_config *config = NULL;
	struct persistent_fsp *pfsp = NULL;
	DATA_BLOB inner = data_blob_null;
	DATA_BLOB new_inner = data_blob_null;
	uint64_t persistent_id;
	pcore_status st;
	NTSTATUS status;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return NT_STATUS_INTERNAL_ERROR);

	if (!persistent_cookie_is_ours(old_cookie)) {
		return SMB_VFS_NEXT_DURABLE_DISCONNECT(handle, fsp, old_cookie,
						       mem_ctx, new_cookie);
	}
	status = persistent_cookie_unwrap(old_cookie, &persistent_id, &inner);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (config->pdb == NULL) {
		return NT_STATUS_NOT_SUPPORTED;
	}
	pfsp = VFS_FETCH_FSP_EXTENSION(handle, fsp);
	if (pfsp != NULL && pfsp->dropped) {
		/* persistent_drop(): closed for real, record removed */
		return NT_STATUS_NOT_SUPPORTED;
	}

	/*
	 * The record first: if smbd's side fails below, smbd closes the
	 * handle for real and close_fn removes the record.
	 */
	persistent_update_lease(config, fsp, persistent_id);
	st = pcore_disconnect(config->pdb->table, persistent_id,
			      persistent_now_us());
	if (st != PCORE_OK) {
		DBG_ERR("%s: record of %" PRIu64 " not marked disconnected: "
			"%s: the handle is closed\n",
			fsp_str_dbg(fsp),
			persistent_id,
			pcore_table_last_error(config->pdb->table));
		return pcore_status_to_ntstatus(st);
	}

	status = persistent_disconnect_open(fsp, inner, talloc_tos(),
					    &new_inner);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("%s: disconnect of persistent open %" PRIu64
			    " failed: %s: the handle is closed\n",
			    fsp_str_dbg(fsp),
			    persistent_id,
			    nt_errstr(status));
		return status;
	}

	status = persistent_cookie_wrap(mem_ctx, persistent_id, new_inner,
					new_cookie);
	data_blob_free(&new_inner);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	DBG_INFO("%s: persistent open %" PRIu64 " disconnected\n",
		 fsp_str_dbg(fsp),
		 persistent_id);
	return NT_STATUS_OK;
}

/* ---- reconnect of an open whose smbd died ---- */

static int persistent_oplock_type(uint8_t level)
{
	switch (level) {
	case PCORE_OPLOCK_LEASE:
		return LEASE_OPLOCK;
	case PCORE_OPLOCK_BATCH:
		return BATCH_OPLOCK;
	case PCORE_OPLOCK_EXCLUSIVE:
		return EXCLUSIVE_OPLOCK;
	case PCORE_OPLOCK_II:
		return LEVEL_II_OPLOCK;
	default:
		break;
	}
	return NO_OPLOCK;
}

/*
 * The smbd that served the open is gone, and with it (or with the restart)
 * smbd's share mode entry, byte-range locks and lease of the open are
 * stale or gone too, so the default durable reconnect has nothing to take
 * over.  Re-create the open from the store instead: open the file again
 * with the stored access, share mode and oplock or lease (smbd drops the
 * stale entries of the dead process on the way), bind the new fsp to the
 * reconnected smbXsrv_open, so that the client gets back its persistent
 * file id, and take the stored byte-range locks again in its name.
 */
/*
 * A reconnect after the open's smbd died re-creates the open by path: only
 * if the path still names the file the open was on.  A file replaced or
 * moved behind smbd's back while the owner was away is refused, never
 * reattached.  Records of an older store carry no identity: path only.
 */
static NTSTATUS persistent_check_identity(struct connection_struct *conn,
					  const struct pcore_open *view,
					  const struct smb_filename *smb_fname)
{
	struct file_id fid;
	uint64_t birth_time;

	if (!view->has_identity) {
		return NT_STATUS_OK;
	}
	if (!VALID_STAT(smb_fname->st)) {
		DBG_ERR("persistent open %" PRIu64 ": [%s] %s is gone: "
			"reconnect refused\n",
			view->persistent_id,
			view->share_name,
			smb_fname_str_dbg(smb_fname));
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	fid = vfs_file_id_from_sbuf(conn, &smb_fname->st);
	birth_time = persistent_birth_time(&smb_fname->st);
	if (fid.devid != view->file_id.devid ||
	    fid.inode != view->file_id.inode ||
	    fid.extid != view->file_id.extid ||
	    (view->birth_time != 0 && birth_time != 0 &&
	     birth_time != view->birth_time))
	{
		DBG_ERR("persistent open %" PRIu64 ": [%s] %s is not the file "
			"it was opened on (file id %" PRIx64 ":%" PRIx64
			":%" PRIx64 ", birth time %" PRIu64 "; stored "
			"%" PRIx64 ":%" PRIx64 ":%" PRIx64 ", %" PRIu64
			"): replaced or moved while its client was away, "
			"reconnect refused\n",
			view->persistent_id,
			view->share_name,
			smb_fname_str_dbg(smb_fname),
			fid.devid,
			fid.inode,
			fid.extid,
			birth_time,
			view->file_id.devid,
			view->file_id.inode,
			view->file_id.extid,
			view->birth_time);
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	return NT_STATUS_OK;
}

static NTSTATUS persistent_reopen(struct vfs_handle_struct *handle,
				  struct persistent_config *config,
				  struct smb_request *smb1req,
				  struct smbXsrv_open *op,
				  const struct pcore_open *view,
				  TALLOC_CTX *mem_ctx,
				  struct files_struct **result,
				  DATA_BLOB *new_inner)
{
	struct connection_struct *conn = handle->conn;
	struct files_struct *dirfsp = NULL;
	struct files_struct *fsp = NULL;
	struct smb_filename *smb_fname = NULL;
	char *name = NULL;
	struct smbXsrv_open *tmp_op = NULL;
	struct byte_range_lock *br_lck = NULL;
	struct smb2_lease lease = {
		.lease_state = view->lease_state,
		.lease_version = view->lease_version,
		.lease_epoch = view->lease_epoch,
	};
	int oplock_type = persistent_oplock_type(view->oplock_level);
	int info = 0;
	uint32_t i;
	NTSTATUS status;

	if (oplock_type == LEASE_OPLOCK) {
		lease.lease_key.data[0] = BVAL(view->lease_key, 0);
		lease.lease_key.data[1] = BVAL(view->lease_key, 8);
	}

	/* a handle on file:stream comes back on that stream */
	name = (view->stream_name != NULL && view->stream_name[0] != '\0') ?
		talloc_asprintf(talloc_tos(), "%s%s", view->path,
				view->stream_name) :
		talloc_strdup(talloc_tos(), view->path);
	if (name == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = filename_convert_dirfsp(talloc_tos(),
					 conn,
					 name,
					 0,
					 0,
					 &dirfsp,
					 &smb_fname);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = persistent_check_identity(conn, view, smb_fname);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}

	if (view->num_locks > 0 && VALID_STAT(smb_fname->st)) {
		/*
		 * After a restart the stored locks were put back as a
		 * disconnected open's (persistent_brl_set): remove them
		 * before the open, which would otherwise see byte-range
		 * locks on the file and grant no read caching; they are
		 * taken again below in the name of this open.
		 */
		struct file_id fid = vfs_file_id_from_sbuf(conn,
							   &smb_fname->st);

		persistent_brl_set(view, &fid, false);
	}

	config->reopening = true;
	status = SMB_VFS_NEXT_CREATE_FILE(
		handle,
		smb1req,
		dirfsp,
		smb_fname,
		view->access_mask,
		view->share_access,
		FILE_OPEN,
		view->create_options & ~(FILE_DELETE_ON_CLOSE |
					 FILE_DIRECTORY_FILE),
		0,
		oplock_type,
		(oplock_type == LEASE_OPLOCK) ? &lease : NULL,
		0,
		0,
		NULL,
		NULL,
		&fsp,
		&info,
		NULL,
		NULL);
	config->reopening = false;
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("persistent open %" PRIu64 ": reopen of %s "
			   "failed: %s\n",
			   view->persistent_id,
			   view->path,
			   nt_errstr(status));
		return status;
	}

	/* The client gets back its own open, not the one just made. */
	tmp_op = fsp->op;
	fsp->op = op;
	op->compat = fsp;
	fsp->fnum = op->local_id;
	if (tmp_op != NULL) {
		tmp_op->compat = NULL;
		TALLOC_FREE(tmp_op);
	}
	smb1req->chain_fsp = fsp;
	if (smb1req->smb2req != NULL) {
		smb1req->smb2req->compat_chain_fsp = fsp;
	}

	status = SMB_VFS_NEXT_DURABLE_COOKIE(handle, fsp, mem_ctx, new_inner);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("persistent open %" PRIu64 ": no durable cookie "
			   "for the reopened %s: %s\n",
			   view->persistent_id,
			   fsp_str_dbg(fsp),
			   nt_errstr(status));
		goto fail;
	}

	if (view->num_locks > 0) {
		/*
		 * Again (a tree connect elsewhere may have put them back
		 * meanwhile), then take the stored locks in the name of this
		 * open, once.
		 */
		persistent_brl_set(view, &fsp->file_id, false);
		br_lck = brl_get_locks(talloc_tos(), fsp);
		if (br_lck == NULL) {
			status = NT_STATUS_NO_MEMORY;
			goto fail;
		}
		config->reopening = true;
		for (i = 0; i < view->num_locks; i++) {
			const struct pcore_lock *l = &view->locks[i];
			struct server_id blocker = {0};
			uint64_t blocker_smblctx = 0;
			struct GUID req_guid = GUID_zero();

			status = do_lock(br_lck,
					 talloc_tos(),
					 &req_guid,
					 op->global->open_persistent_id,
					 l->length,
					 l->offset,
					 (l->type == PCORE_LOCK_EXCLUSIVE) ?
						 WRITE_LOCK : READ_LOCK,
					 WINDOWS_LOCK,
					 &blocker,
					 &blocker_smblctx);
			if (!NT_STATUS_IS_OK(status)) {
				DBG_WARNING("persistent open %" PRIu64 ": "
					    "lock [%" PRIu64 ", +%" PRIu64
					    ") not taken back: %s\n",
					    view->persistent_id,
					    l->offset,
					    l->length,
					    nt_errstr(status));
				break;
			}
		}
		config->reopening = false;
		TALLOC_FREE(br_lck);
		if (!NT_STATUS_IS_OK(status)) {
			data_blob_free(new_inner);
			goto fail;
		}
	}

	DBG_NOTICE("persistent open %" PRIu64 ": %s re-created from the store "
		   "(%" PRIu32 " byte-range locks, lease state 0x%" PRIx32
		   ")\n",
		   view->persistent_id,
		   fsp_str_dbg(fsp),
		   view->num_locks,
		   (fsp->oplock_type == LEASE_OPLOCK && fsp->lease != NULL) ?
			   fsp->lease->lease.lease_state : 0);
	*result = fsp;
	return NT_STATUS_OK;

fail:
	op->compat = NULL;
	fsp->op = NULL;
	close_file_free(smb1req, &fsp, ERROR_CLOSE);
	return status;
}

/* ---- durable_reconnect ---- */

/*
 * The lease context of the create being served ([MS-SMB2] 2.2.13.2.8,
 * 2.2.13.2.10), read from the request as smb2_create.c reads it: the
 * reconnect op is not handed it, yet a DH2C must be checked against the
 * stored lease before the record is marked connected again.  smbd checks
 * the key once more after the op (smbd_smb2_create_durable_lease_check);
 * by then a refusal would close the re-created open and restart its
 * timeout.
 */
static NTSTATUS persistent_request_lease(struct smb_request *smb1req,
					 bool *has_lease,
					 struct smb2_lease *lease)
{
	struct smbd_smb2_request *smb2req = smb1req->smb2req;
	struct smb2_create_blobs blobs = {0};
	struct smb2_create_blob *rqls = NULL;
	const uint8_t *inbody = NULL;
	const struct iovec *dyn = NULL;
	uint32_t ctx_offset;
	uint32_t ctx_length;
	uint32_t dyn_offset;
	DATA_BLOB buf;
	NTSTATUS status;

	*has_lease = false;
	if (smb2req == NULL || smb2req->xconn == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!(smb2req->xconn->smb2.server.capabilities & SMB2_CAP_LEASING)) {
		return NT_STATUS_OK;
	}
	inbody = SMBD_SMB2_IN_BODY_PTR(smb2req);
	ctx_offset = IVAL(inbody, 0x30);
	ctx_length = IVAL(inbody, 0x34);
	if (ctx_offset == 0 && ctx_length == 0) {
		return NT_STATUS_OK;
	}
	dyn_offset = SMB2_HDR_BODY + SMBD_SMB2_IN_BODY_LEN(smb2req);
	dyn = SMBD_SMB2_IN_DYN_IOV(smb2req);
	if (ctx_offset < dyn_offset ||
	    ctx_offset - dyn_offset > dyn->iov_len ||
	    ctx_length > dyn->iov_len - (ctx_offset - dyn_offset))
	{
		return NT_STATUS_INVALID_PARAMETER;
	}
	buf = data_blob_const((const uint8_t *)dyn->iov_base +
				      (ctx_offset - dyn_offset),
			      ctx_length);
	status = smb2_create_blob_parse(talloc_tos(), buf, &blobs);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	rqls = smb2_create_blob_find(&blobs, SMB2_CREATE_TAG_RQLS);
	if (rqls == NULL) {
		status = NT_STATUS_OK;
		goto done;
	}
	if (smb2_lease_pull(rqls->data.data, rqls->data.length, lease) == -1) {
		status = NT_STATUS_INVALID_PARAMETER;
		goto done;
	}
	/* as smbd: an all-zero key, or a V2 lease below SMB 3, is none */
	if ((lease->lease_key.data[0] == 0 && lease->lease_key.data[1] == 0) ||
	    (smb2req->xconn->protocol < PROTOCOL_SMB3_00 &&
	     lease->lease_version != 1))
	{
		status = NT_STATUS_OK;
		goto done;
	}
	*has_lease = true;
	status = NT_STATUS_OK;
done:
	TALLOC_FREE(blobs.blobs);
	return status;
}

static NTSTATUS persistent_durable_reconnect(struct vfs_handle_struct *handle,
					     struct smb_request *smb1req,
					     struct smbXsrv_open *op,
					     const DATA_BLOB old_cookie,
					     TALLOC_CTX *mem_ctx,
					     struct files_struct **fsp,
					     DATA_BLOB *new_cookie)
{
	struct persistent_config *config = NULL;
	struct persistent_fsp *pfsp = NULL;
	struct pcore_record *stored = NULL;
	struct pcore_record *reconnected = NULL;
	struct pcore_open view;
	struct pcore_reconnect_request rreq;
	const struct security_token *token = NULL;
	struct dom_sid_buf sid_buf;
	DATA_BLOB inner = data_blob_null;
	DATA_BLOB new_inner = data_blob_null;
	uint64_t persistent_id;
	uint64_t disconnect_time_us;
	struct smb2_lease req_lease = {};
	bool req_has_lease = false;
	size_t i;
	pcore_status st;
	NTSTATUS status;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return NT_STATUS_INTERNAL_ERROR);

	if (!persistent_cookie_is_ours(old_cookie)) {
		return SMB_VFS_NEXT_DURABLE_RECONNECT(handle, smb1req, op,
						      old_cookie, mem_ctx,
						      fsp, new_cookie);
	}
	status = persistent_cookie_unwrap(old_cookie, &persistent_id, &inner);
	if (!NT_STATUS_IS_OK(status)) {
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (config->pdb == NULL) {
		DBG_NOTICE("persistent open %" PRIu64 ": reconnect to share "
			   "[%s] without persistent handles refused\n",
			   persistent_id,
			   config->share_name);
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}

	st = pcore_fetch(config->pdb->table, persistent_id, &stored);
	if (st != PCORE_OK) {
		DBG_ERR("reconnect of persistent open %" PRIu64 " refused: "
			"%s (%s)\n",
			persistent_id,
			pcore_table_last_error(config->pdb->table),
			pcore_status_string(st));
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	status = persistent_request_lease(smb1req, &req_has_lease, &req_lease);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("reconnect of persistent open %" PRIu64 " refused: "
			   "unreadable lease context (%s)\n",
			   persistent_id,
			   nt_errstr(status));
		pcore_record_free(stored);
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}

	pcore_record_view(stored, &view);
	if (view.state == PCORE_STATE_CONNECTED &&
	    !persistent_owner_alive(&view.owner))
	{
		/* its smbd died and nobody noticed yet */
		st = pcore_disconnect(config->pdb->table, persistent_id,
				      persistent_now_us());
		if (st == PCORE_OK) {
			view.disconnect_time_us = persistent_now_us();
		}
	}
	disconnect_time_us = view.disconnect_time_us;

	token = smb1req->conn->session_info->security_token;
	rreq = (struct pcore_reconnect_request){
		.persistent_id = persistent_id,
		.persistent_flag = op->global->persistent,
		.has_lease = req_has_lease,
		.lease_version = req_has_lease ? req_lease.lease_version : 0,
		.owner_sid = dom_sid_str_buf(&token->sids[PRIMARY_USER_SID_INDEX],
					     &sid_buf),
		.share_name = config->share_name,
		.new_volatile_id = op->global->open_volatile_id,
	};
	if (req_has_lease) {
		persistent_lease_key_bytes(&req_lease.lease_key, rreq.lease_key);
	}
	persistent_guid_bytes(&op->global->create_guid, rreq.create_guid);
	persistent_guid_bytes(&smb1req->xconn->smb2.client.guid,
			      rreq.client_guid);
	persistent_server_id(handle->conn->sconn->msg_ctx, &rreq.new_owner);
	pcore_record_free(stored);
	stored = NULL;

	st = pcore_reconnect(config->pdb->table, &rreq, persistent_now_us(),
			     &reconnected);
	if (st != PCORE_OK) {
		DBG_NOTICE("reconnect of persistent open %" PRIu64 " on [%s] "
			   "refused: %s (%s)\n",
			   persistent_id,
			   config->share_name,
			   pcore_table_last_error(config->pdb->table),
			   pcore_status_string(st));
		if (st == PCORE_EXPIRED) {
			pcore_release(config->pdb->table, persistent_id);
		}
		return pcore_status_to_ntstatus(st);
	}
	pcore_record_view(reconnected, &view);
	/*
	 * [MS-SMB2] 3.3.5.14: the lock sequences are state of the open; smbd
	 * checks a replayed lock against op->global, which a dead smbd took
	 * with it.  The stored entries are put back; an entry the store does
	 * not hold keeps what smbd's global record has (a clean disconnect
	 * keeps it there).
	 */
	for (i = 0; i < ARRAY_SIZE(op->global->lock_sequence_array) &&
		    i < ARRAY_SIZE(view.lock_sequence);
	     i++)
	{
		if (view.lock_sequence[i] != PCORE_LOCK_SEQUENCE_INVALID) {
			op->global->lock_sequence_array[i] =
				view.lock_sequence[i];
		}
	}

	/*
	 * A clean disconnect left smbd's state disconnected: the default
	 * durable reconnect takes it over.  After a kill -9 of the smbd or
	 * a restart (the cookie then allows no reconnect, or is empty) the
	 * open is re-created from the store.
	 */
	status = NT_STATUS_OBJECT_NAME_NOT_FOUND;
	if (inner.length > 0) {
		status = SMB_VFS_NEXT_DURABLE_RECONNECT(handle, smb1req, op,
							inner, talloc_tos(),
							fsp, &new_inner);
	}
	if (!NT_STATUS_IS_OK(status)) {
		status = persistent_reopen(handle, config, smb1req, op, &view,
					   talloc_tos(), fsp, &new_inner);
	}
	pcore_record_free(reconnected);
	reconnected = NULL;
	if (!NT_STATUS_IS_OK(status)) {
		DBG_NOTICE("reconnect of persistent open %" PRIu64 ": smbd "
			   "refused: %s\n",
			   persistent_id,
			   nt_errstr(status));
		/* back to disconnected, the timeout running as before */
		st = pcore_disconnect(config->pdb->table, persistent_id,
				      disconnect_time_us);
		if (st != PCORE_OK) {
			DBG_ERR("record of %" PRIu64 " stays connected: %s\n",
				persistent_id,
				pcore_table_last_error(config->pdb->table));
		}
		return status;
	}

	status = persistent_cookie_wrap(mem_ctx, persistent_id, new_inner,
					new_cookie);
	data_blob_free(&new_inner);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}

	pfsp = VFS_ADD_FSP_EXTENSION(handle, *fsp, struct persistent_fsp,
				     NULL);
	if (pfsp != NULL) {
		*pfsp = (struct persistent_fsp){
			.persistent = true,
			.persistent_id = persistent_id,
		};
	} else {
		DBG_ERR("%s: no fsp extension: no write-through and the "
			"record stays after close\n",
			fsp_str_dbg(*fsp));
	}

	DBG_INFO("%s: persistent open %" PRIu64 " reconnected\n",
		 fsp_str_dbg(*fsp),
		 persistent_id);
	return NT_STATUS_OK;
}

/* ---- close: a real close removes the record ---- */

static int persistent_close(struct vfs_handle_struct *handle,
			    struct files_struct *fsp)
{
	struct persistent_config *config = NULL;
	struct persistent_fsp *pfsp = NULL;
	pcore_status st;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return -1);

	pfsp = VFS_FETCH_FSP_EXTENSION(handle, fsp);
	/*
	 * smbd clears op->global->durable before a real close; a durable
	 * disconnect closes the fd with it still set.
	 */
	if (pfsp != NULL && (pfsp->persistent || pfsp->dropped) &&
	    config->pdb != NULL &&
	    (fsp->op == NULL || !fsp->op->global->durable || pfsp->dropped))
	{
		st = pcore_release(config->pdb->table, pfsp->persistent_id);
		if (st != PCORE_OK && st != PCORE_NOT_FOUND) {
			DBG_ERR("%s: record of %" PRIu64 " not removed: %s\n",
				fsp_str_dbg(fsp),
				pfsp->persistent_id,
				pcore_table_last_error(config->pdb->table));
		} else {
			DBG_INFO("%s: persistent open %" PRIu64 " closed\n",
				 fsp_str_dbg(fsp),
				 pfsp->persistent_id);
		}
		pfsp->persistent = false;
		pfsp->dropped = false;
	}

	return SMB_VFS_NEXT_CLOSE(handle, fsp);
}

/* ---- write-through on persistent handles ---- */

static bool persistent_fsp_is_persistent(struct vfs_handle_struct *handle,
					 struct files_struct *fsp)
{
	struct persistent_fsp *pfsp = VFS_FETCH_FSP_EXTENSION(handle, fsp);

	return pfsp != NULL && pfsp->persistent;
}

static ssize_t persistent_pwrite(struct vfs_handle_struct *handle,
				 struct files_struct *fsp,
				 const void *data,
				 size_t n,
				 off_t offset)
{
	ssize_t ret;

	ret = SMB_VFS_NEXT_PWRITE(handle, fsp, data, n, offset);
	if (ret <= 0 || !persistent_fsp_is_persistent(handle, fsp)) {
		return ret;
	}
	if (fdatasync(fsp_get_io_fd(fsp)) != 0) {
		DBG_ERR("%s: fdatasync failed: %s\n",
			fsp_str_dbg(fsp),
			strerror(errno));
		return -1;
	}
	return ret;
}

struct persistent_pwrite_state {
	struct vfs_handle_struct *handle;
	struct tevent_context *ev;
	struct files_struct *fsp;
	ssize_t ret;
	struct vfs_aio_state vfs_aio_state;
};

static void persistent_pwrite_written(struct tevent_req *subreq);
static void persistent_pwrite_synced(struct tevent_req *subreq);

static struct tevent_req *persistent_pwrite_send(
	struct vfs_handle_struct *handle,
	TALLOC_CTX *mem_ctx,
	struct tevent_context *ev,
	struct files_struct *fsp,
	const void *data,
	size_t n,
	off_t offset)
{
	struct tevent_req *req = NULL;
	struct tevent_req *subreq = NULL;
	struct persistent_pwrite_state *state = NULL;

	req = tevent_req_create(mem_ctx, &state,
				struct persistent_pwrite_state);
	if (req == NULL) {
		return NULL;
	}
	state->handle = handle;
	state->ev = ev;
	state->fsp = fsp;

	subreq = SMB_VFS_NEXT_PWRITE_SEND(state, ev, handle, fsp, data, n,
					  offset);
	if (tevent_req_nomem(subreq, req)) {
		return tevent_req_post(req, ev);
	}
	tevent_req_set_callback(subreq, persistent_pwrite_written, req);
	return req;
}

static void persistent_pwrite_written(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct persistent_pwrite_state *state = tevent_req_data(
		req, struct persistent_pwrite_state);

	state->ret = SMB_VFS_PWRITE_RECV(subreq, &state->vfs_aio_state);
	TALLOC_FREE(subreq);

	if (state->ret <= 0 ||
	    !persistent_fsp_is_persistent(state->handle, state->fsp))
	{
		tevent_req_done(req);
		return;
	}

	/* acknowledged only once it is on stable storage */
	subreq = SMB_VFS_NEXT_FSYNC_SEND(state, state->ev, state->handle,
					 state->fsp);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, persistent_pwrite_synced, req);
}

static void persistent_pwrite_synced(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct persistent_pwrite_state *state = tevent_req_data(
		req, struct persistent_pwrite_state);
	struct vfs_aio_state sync_state = {0};
	int ret;

	ret = SMB_VFS_FSYNC_RECV(subreq, &sync_state);
	TALLOC_FREE(subreq);
	if (ret != 0) {
		DBG_ERR("%s: fsync after write failed: %s\n",
			fsp_str_dbg(state->fsp),
			strerror(sync_state.error));
		state->ret = -1;
		state->vfs_aio_state.error = sync_state.error;
	}
	tevent_req_done(req);
}

static ssize_t persistent_pwrite_recv(struct tevent_req *req,
				      struct vfs_aio_state *vfs_aio_state)
{
	struct persistent_pwrite_state *state = tevent_req_data(
		req, struct persistent_pwrite_state);

	if (tevent_req_is_unix_error(req, &vfs_aio_state->error)) {
		return -1;
	}
	*vfs_aio_state = state->vfs_aio_state;
	return state->ret;
}

/* ---- byte-range locks: conflicts and the record's lock list ---- */

static uint64_t persistent_fsp_id(struct vfs_handle_struct *handle,
				  struct files_struct *fsp)
{
	struct persistent_fsp *pfsp = VFS_FETCH_FSP_EXTENSION(handle, fsp);

	if (pfsp == NULL || !pfsp->persistent) {
		return 0;
	}
	return pfsp->persistent_id;
}

/* The lease may have been broken since the grant: keep the record current. */
static void persistent_update_lease(struct persistent_config *config,
				    struct files_struct *fsp,
				    uint64_t persistent_id)
{
	struct pcore_record *rec = NULL;
	struct pcore_open view;
	uint32_t state = 0;
	uint16_t epoch = 0;
	pcore_status st;

	if (fsp->oplock_type == LEASE_OPLOCK && fsp->lease != NULL) {
		state = fsp->lease->lease.lease_state;
		epoch = fsp->lease->lease.lease_epoch;
	}
	st = pcore_fetch(config->pdb->table, persistent_id, &rec);
	if (st != PCORE_OK) {
		return;
	}
	pcore_record_view(rec, &view);
	if (view.oplock_level != persistent_oplock_level(fsp) ||
	    view.lease_state != state || view.lease_epoch != epoch)
	{
		st = pcore_update_lease(config->pdb->table, persistent_id,
					persistent_oplock_level(fsp), state,
					epoch);
		if (st != PCORE_OK) {
			DBG_WARNING("persistent open %" PRIu64 ": lease "
				    "state not stored: %s\n",
				    persistent_id,
				    pcore_table_last_error(
					    config->pdb->table));
		}
	}
	pcore_record_free(rec);
}

/*
 * An update of a granted open (an unlock, a lease change) could not be
 * stored after smbd had already acted on it.  Rather than keep a record
 * that disagrees with what the client was answered, the open stops being
 * persistent, visibly: logged, no longer protected while its client is
 * away (a disconnect closes it), and its record removed now or at close.
 */
static void persistent_drop(struct vfs_handle_struct *handle,
			    struct persistent_config *config,
			    struct files_struct *fsp,
			    const char *why)
{
	struct persistent_fsp *pfsp = VFS_FETCH_FSP_EXTENSION(handle, fsp);
	pcore_status st;

	if (pfsp == NULL || !pfsp->persistent) {
		return;
	}
	pfsp->persistent = false;
	pfsp->dropped = true;
	if (fsp->op != NULL) {
		fsp->op->global->persistent = false;
	}
	DBG_ERR("%s: open %" PRIu64 " is no longer persistent: %s\n",
		fsp_str_dbg(fsp),
		pfsp->persistent_id,
		why);
	st = pcore_release(config->pdb->table, pfsp->persistent_id);
	if (st == PCORE_OK || st == PCORE_NOT_FOUND) {
		return;
	}
	DBG_ERR("%s: record of %" PRIu64 " not removed (%s): tried again "
		"at close\n",
		fsp_str_dbg(fsp),
		pfsp->persistent_id,
		pcore_table_last_error(config->pdb->table));
}

static NTSTATUS persistent_brl_lock_windows(struct vfs_handle_struct *handle,
					    struct byte_range_lock *br_lck,
					    struct lock_struct *plock)
{
	struct persistent_config *config = NULL;
	struct files_struct *fsp = brl_fsp(br_lck);
	uint64_t own_id;
	NTSTATUS status;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return NT_STATUS_INTERNAL_ERROR);

	if (config->pdb == NULL || config->reopening) {
		return SMB_VFS_NEXT_BRL_LOCK_WINDOWS(handle, br_lck, plock);
	}

	own_id = persistent_fsp_id(handle, fsp);
	{
		struct persistent_lock_conflict_state cstate = {
			.fid = &fsp->file_id,
			.stream_name = fsp->fsp_name->stream_name,
			.share_name = config->share_name,
			.path = fsp->fsp_name->base_name,
			.own_id = own_id,
			.offset = plock->start,
			.length = plock->size,
			.exclusive = plock->lock_type == WRITE_LOCK,
		};

		/*
		 * Byte-range locks of a disconnected persistent open: smbd
		 * drops them once their process is gone, the store keeps
		 * them.
		 */
		persistent_scan_file(config->pdb, &fsp->file_id,
				     config->share_name,
				     fsp->fsp_name->base_name,
				     persistent_lock_conflict_fn, &cstate);
		if (cstate.conflict) {
			DBG_NOTICE("%s: lock [%" PRIu64 ", +%" PRIu64 ") "
				   "refused: disconnected persistent open "
				   "%" PRIu64 " holds it\n",
				   fsp_str_dbg(fsp),
				   (uint64_t)plock->start,
				   (uint64_t)plock->size,
				   cstate.holder);
			plock->context.smblctx = cstate.holder;
			return NT_STATUS_LOCK_NOT_GRANTED;
		}
	}

	status = SMB_VFS_NEXT_BRL_LOCK_WINDOWS(handle, br_lck, plock);
	if (NT_STATUS_IS_OK(status) && own_id != 0) {
		struct pcore_lock lock = {
			.offset = plock->start,
			.length = plock->size,
			.type = (plock->lock_type == WRITE_LOCK) ?
				PCORE_LOCK_EXCLUSIVE : PCORE_LOCK_SHARED,
		};
		struct lock_struct undo;
		pcore_status st;

		st = pcore_lock_add(config->pdb->table, own_id, &lock, 0);
		if (st != PCORE_OK) {
			/*
			 * Nothing is granted that is not stored: take the
			 * lock back and answer with the store's status.
			 */
			DBG_ERR("%s: lock [%" PRIu64 ", +%" PRIu64 ") of "
				"persistent open %" PRIu64 " refused: not "
				"stored: %s\n",
				fsp_str_dbg(fsp),
				(uint64_t)plock->start,
				(uint64_t)plock->size,
				own_id,
				pcore_table_last_error(config->pdb->table));
			undo = *plock;
			undo.lock_type = UNLOCK_LOCK;
			if (!SMB_VFS_NEXT_BRL_UNLOCK_WINDOWS(handle, br_lck,
							     &undo))
			{
				DBG_ERR("%s: the refused lock could not be "
					"taken back\n",
					fsp_str_dbg(fsp));
			}
			return pcore_status_to_ntstatus(st);
		}
		persistent_update_lease(config, fsp, own_id);
	}
	return status;
}

static bool persistent_brl_unlock_windows(struct vfs_handle_struct *handle,
					  struct byte_range_lock *br_lck,
					  const struct lock_struct *plock)
{
	struct persistent_config *config = NULL;
	struct files_struct *fsp = brl_fsp(br_lck);
	uint64_t own_id;
	pcore_status st;
	bool ok;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return false);

	ok = SMB_VFS_NEXT_BRL_UNLOCK_WINDOWS(handle, br_lck, plock);
	if (!ok || config->pdb == NULL || config->reopening) {
		return ok;
	}
	own_id = persistent_fsp_id(handle, fsp);
	if (own_id == 0) {
		return ok;
	}
	st = pcore_lock_remove(config->pdb->table, own_id, plock->start,
			       plock->size, 0);
	if (st != PCORE_OK && st != PCORE_LOCK_NOT_FOUND) {
		/*
		 * The range is free in smbd but still held in the store: a
		 * crash now would bring back a lock the client gave up.  The
		 * open stops being persistent, visibly, rather than keep a
		 * record that disagrees with what was answered.
		 */
		DBG_ERR("%s: unlock [%" PRIu64 ", +%" PRIu64 ") of persistent "
			"open %" PRIu64 " not stored: %s\n",
			fsp_str_dbg(fsp),
			(uint64_t)plock->start,
			(uint64_t)plock->size,
			own_id,
			pcore_table_last_error(config->pdb->table));
		persistent_drop(handle, config, fsp, "its unlock was not stored");
	}
	return ok;
}

/* ---- rename: the records follow their file ---- */

struct persistent_rename_state {
	struct persistent_config *config;
	const char *new_path;
	bool failed;
};

static int persistent_rename_id_fn(uint64_t persistent_id, void *id_data)
{
	struct persistent_rename_state *state = id_data;
	struct pcore_table *table = state->config->pdb->table;
	struct pcore_record *rec = NULL;
	struct pcore_open view;
	pcore_status st;

	if (pcore_fetch(table, persistent_id, &rec) != PCORE_OK) {
		return 0;
	}
	pcore_record_view(rec, &view);
	/* the path is relative to the record's share: this share's only */
	if (strcmp(view.share_name, state->config->share_name) != 0) {
		pcore_record_free(rec);
		return 0;
	}
	pcore_record_free(rec);
	st = pcore_update_path(table, persistent_id, state->new_path);
	if (st != PCORE_OK) {
		DBG_ERR("persistent open %" PRIu64 ": new path %s not stored: "
			"%s\n",
			persistent_id,
			state->new_path,
			pcore_table_last_error(table));
		state->failed = true;
		return 1;
	}
	DBG_INFO("persistent open %" PRIu64 ": renamed to %s\n",
		 persistent_id,
		 state->new_path);
	return 0;
}

/*
 * A rename through smbd of a file with persistent opens: their records
 * follow it (they find their file by identity; the path is what a
 * re-creating reconnect opens).  If the new path cannot be stored, the
 * rename is undone and refused: a reconnect would not find the file.
 */
static int persistent_renameat(struct vfs_handle_struct *handle,
			       struct files_struct *srcdir_fsp,
			       const struct smb_filename *smb_fname_src,
			       struct files_struct *dstdir_fsp,
			       const struct smb_filename *smb_fname_dst,
			       const struct vfs_rename_how *how)
{
	struct persistent_config *config = NULL;
	struct persistent_rename_state state = {
		.failed = false,
	};
	struct pcore_file_id pfid;
	struct file_id fid;
	struct smb_filename *new_name = NULL;
	int ret;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return -1);

	ret = SMB_VFS_NEXT_RENAMEAT(handle, srcdir_fsp, smb_fname_src,
				    dstdir_fsp, smb_fname_dst, how);
	if (ret != 0 || config->pdb == NULL || !VALID_STAT(smb_fname_src->st) ||
	    smb_fname_src->stream_name != NULL)
	{
		return ret;
	}
	fid = vfs_file_id_from_sbuf(handle->conn, &smb_fname_src->st);
	new_name = full_path_from_dirfsp_atname(talloc_tos(), dstdir_fsp,
						smb_fname_dst);
	if (new_name == NULL) {
		return ret;
	}
	pfid = (struct pcore_file_id){
		.devid = fid.devid,
		.inode = fid.inode,
		.extid = fid.extid,
	};
	state.config = config;
	state.new_path = new_name->base_name;
	pcore_file_ids(config->pdb->table, &pfid, persistent_rename_id_fn,
		       &state);
	if (state.failed) {
		if (SMB_VFS_NEXT_RENAMEAT(handle, dstdir_fsp, smb_fname_dst,
					  srcdir_fsp, smb_fname_src,
					  &(struct vfs_rename_how){0}) != 0)
		{
			DBG_ERR("rename to %s not undone: %s\n",
				new_name->base_name,
				strerror(errno));
		}
		TALLOC_FREE(new_name);
		errno = ENOSPC;
		return -1;
	}
	TALLOC_FREE(new_name);
	return ret;
}

static struct vfs_fn_pointers vfs_persistent_fns = {
	.connect_fn = persistent_connect,
	.create_file_fn = persistent_create_file,
	.close_fn = persistent_close,
	.pwrite_fn = persistent_pwrite,
	.pwrite_send_fn = persistent_pwrite_send,
	.pwrite_recv_fn = persistent_pwrite_recv,
	.durable_cookie_fn = persistent_durable_cookie,
	.durable_disconnect_fn = persistent_durable_disconnect,
	.durable_reconnect_fn = persistent_durable_reconnect,
	.brl_lock_windows_fn = persistent_brl_lock_windows,
	.brl_unlock_windows_fn = persistent_brl_unlock_windows,
	.renameat_fn = persistent_renameat,
};

struct persistent_db *persistent_handle_db(struct vfs_handle_struct *handle)
{
	struct persistent_config *config = NULL;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return NULL);
	return config->pdb;
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
static void persistent_scavenger_expired(struct tevent_context *ev,
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

/*
 * ---- State changes smbd reports through the persistent hooks ----
 *
 * A lease break (started, acknowledged, timed out) and a LOCK request's
 * lock sequence are state of a persistent open ([MS-SMB2] 3.3.1.10,
 * 3.3.5.14): stored when they happen, before the answer leaves, so that
 * after kill -9 or a restart the open comes back with the lease its
 * client holds now and a replayed lock is answered once.
 */
static NTSTATUS persistent_lease_changed(struct vfs_handle_struct *handle,
					 struct files_struct *fsp,
					 const struct smb2_lease_key *lease_key,
					 uint32_t lease_state,
					 uint16_t lease_epoch)
{
	struct persistent_config *config = NULL;
	uint64_t id;
	pcore_status st;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return NT_STATUS_INTERNAL_ERROR);

	id = persistent_fsp_id(handle, fsp);
	if (config->pdb == NULL || id == 0) {
		return NT_STATUS_OK;
	}
	st = pcore_update_lease(config->pdb->table, id, PCORE_OPLOCK_LEASE,
				lease_state, lease_epoch);
	if (st != PCORE_OK) {
		DBG_ERR("%s: lease state 0x%" PRIx32 " (epoch %" PRIu16 ") of "
			"persistent open %" PRIu64 " not stored: %s\n",
			fsp_str_dbg(fsp),
			lease_state,
			lease_epoch,
			id,
			pcore_table_last_error(config->pdb->table));
		/* smbd's lease is lowered already: the record must not stay */
		persistent_drop(handle, config, fsp,
				"its lease change was not stored");
		return pcore_status_to_ntstatus(st);
	}
	DBG_DEBUG("%s: persistent open %" PRIu64 ": lease state 0x%" PRIx32
		  " epoch %" PRIu16 " stored\n",
		  fsp_str_dbg(fsp),
		  id,
		  lease_state,
		  lease_epoch);
	return NT_STATUS_OK;
}

static NTSTATUS persistent_lock_sequence_changed(
	struct vfs_handle_struct *handle,
	struct files_struct *fsp,
	uint32_t bucket_index,
	uint8_t value)
{
	struct persistent_config *config = NULL;
	uint64_t id;
	pcore_status st;

	SMB_VFS_HANDLE_GET_DATA(handle, config, struct persistent_config,
				return NT_STATUS_INTERNAL_ERROR);

	id = persistent_fsp_id(handle, fsp);
	if (config->pdb == NULL || id == 0) {
		return NT_STATUS_OK;
	}
	st = pcore_set_lock_sequence(config->pdb->table, id,
				     ((bucket_index + 1) << 4) | (value & 0xF));
	if (st != PCORE_OK) {
		DBG_ERR("%s: lock sequence %" PRIu32 "/%u of persistent open "
			"%" PRIu64 " not stored: %s: the request fails\n",
			fsp_str_dbg(fsp),
			bucket_index + 1,
			(unsigned)value,
			id,
			pcore_table_last_error(config->pdb->table));
		return pcore_status_to_ntstatus(st);
	}
	return NT_STATUS_OK;
}

/*
 * What smbd asks the module outside the VFS ops (patches 0007-0014,
 * source3/smbd/persistent_hooks.h): hooks, so that struct vfs_fn_pointers
 * keeps the layout of 4.22 and modules built for it still load.
 */
static const struct smbd_persistent_hooks persistent_hooks = {
	SMBD_PERSISTENT_HOOKS_INIT,
	.durable_lookup = persistent_durable_lookup,
	.scavenger_expired = persistent_scavenger_expired,
	.lease_changed = persistent_lease_changed,
	.lock_sequence_changed = persistent_lock_sequence_changed,
};

static_decl_vfs;
NTSTATUS vfs_persistent_init(TALLOC_CTX *ctx)
{
	NTSTATUS status;

	/* First: without its hooks the module must not be used at all. */
	status = smbd_register_persistent_hooks(PERSISTENT_MODULE_NAME,
						&persistent_hooks);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return smb_register_vfs(SMB_VFS_INTERFACE_VERSION,
				PERSISTENT_MODULE_NAME,
				&vfs_persistent_fns);
}
