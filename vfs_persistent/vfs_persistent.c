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

/*
 * The steps of a persistent handle's life, each in its file:
 *   persistent_grant.c       create (the DH2Q) and the grant
 *   persistent_conflict.c    conflicts with disconnected opens (refused,
 *                            or waiting for a lease break)
 *   persistent_disconnect.c  the client is gone
 *   persistent_restore.c     after a restart, at tree connect
 *   persistent_reconnect.c   DH2C: the client is back
 *   persistent_expiry.c      dead smbds, timeouts, the expiry timer
 *   persistent_locks.c       byte-range locks
 *   persistent_lease.c       lease changes and lock sequences
 *   persistent_rename.c      the records follow a rename
 *   persistent_cookie.c      the cookie smbd keeps
 *   persistent_replay.c      a replayed create (durable_lookup)
 *   persistent_store.c       the store (TDB, journal)
 * This file: the options, connect, close, write-through and the
 * module's tables.
 */

#include "includes.h"
#include "system/filesys.h"
#include "smbd/smbd.h"
#include "smbd/globals.h"
#include "messages.h"
#include "lib/util/tevent_unix.h"
#include "smbd/persistent_hooks.h"
#include "librpc/gen_ndr/smbXsrv.h"
#include "persistent_internal.h"

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

uint64_t persistent_now_us(void)
{
	struct timeval tv = timeval_current();

	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

void persistent_guid_bytes(const struct GUID *guid,
			   uint8_t out[PCORE_GUID_SIZE])
{
	struct GUID_ndr_buf buf = {{0}};

	GUID_to_ndr_buf(guid, &buf);
	memcpy(out, buf.buf, PCORE_GUID_SIZE);
}

void persistent_lease_key_bytes(const struct smb2_lease_key *key,
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
uint8_t persistent_oplock_level(const struct files_struct *fsp)
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

void persistent_server_id(struct messaging_context *msg_ctx,
			  struct pcore_server_id *out)
{
	struct server_id self = messaging_server_id(msg_ctx);

	*out = (struct pcore_server_id){
		.vnn = self.vnn,
		.pid = self.pid,
		.unique_id = self.unique_id,
	};
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
		if (!lp_clustering() ||
		    persistent_still_ours(config->pdb, pfsp->persistent_id,
					  fsp->conn->sconn->msg_ctx))
		{
			st = pcore_release(config->pdb->table,
					   pfsp->persistent_id);
		} else {
			st = PCORE_OK;
		}
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
	.delete_on_close_changed = persistent_delete_on_close_changed,
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
