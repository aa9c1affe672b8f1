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
#include "lib/util/tevent_unix.h"
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

/*
 * Our cookie: magic (8) version (4) inner length (4) persistent id (8),
 * then the default durable cookie.
 */
#define PERSISTENT_COOKIE_MAGIC "SCA-PH\0\0"
#define PERSISTENT_COOKIE_MAGIC_LEN 8
#define PERSISTENT_COOKIE_VERSION 1
#define PERSISTENT_COOKIE_HDR_LEN 24

struct persistent_config {
	const char *share_name;
	uint32_t default_timeout_ms;
	uint32_t max_timeout_ms;
	struct persistent_db *pdb; /* NULL: persistence is off here */
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
	uint64_t persistent_id;
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

static uint8_t persistent_oplock_level(const struct files_struct *fsp)
{
	switch (fsp->oplock_type) {
	case LEASE_OPLOCK:
		return PCORE_OPLOCK_LEASE;
	case BATCH_OPLOCK:
		return PCORE_OPLOCK_BATCH;
	case EXCLUSIVE_OPLOCK:
		return PCORE_OPLOCK_EXCLUSIVE;
	case LEVEL_II_OPLOCK:
		return PCORE_OPLOCK_II;
	default:
		break;
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

static NTSTATUS persistent_cookie_wrap(TALLOC_CTX *mem_ctx,
				       uint64_t persistent_id,
				       const DATA_BLOB inner,
				       DATA_BLOB *cookie)
{
	DATA_BLOB blob;

	blob = data_blob_talloc(mem_ctx,
				NULL,
				PERSISTENT_COOKIE_HDR_LEN + inner.length);
	if (blob.data == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	memcpy(blob.data, PERSISTENT_COOKIE_MAGIC, PERSISTENT_COOKIE_MAGIC_LEN);
	SIVAL(blob.data, 8, PERSISTENT_COOKIE_VERSION);
	SIVAL(blob.data, 12, inner.length);
	SBVAL(blob.data, 16, persistent_id);
	if (inner.length > 0) {
		memcpy(blob.data + PERSISTENT_COOKIE_HDR_LEN,
		       inner.data,
		       inner.length);
	}
	*cookie = blob;
	return NT_STATUS_OK;
}

static bool persistent_cookie_is_ours(const DATA_BLOB cookie)
{
	if (cookie.length < PERSISTENT_COOKIE_MAGIC_LEN) {
		return false;
	}
	return memcmp(cookie.data,
		      PERSISTENT_COOKIE_MAGIC,
		      PERSISTENT_COOKIE_MAGIC_LEN) == 0;
}

/* Every field checked; inner points into cookie. */
static NTSTATUS persistent_cookie_unwrap(const DATA_BLOB cookie,
					 uint64_t *persistent_id,
					 DATA_BLOB *inner)
{
	uint32_t version;
	uint32_t inner_len;

	if (cookie.length < PERSISTENT_COOKIE_HDR_LEN ||
	    !persistent_cookie_is_ours(cookie))
	{
		DBG_WARNING("cookie of %zu bytes is not ours\n",
			    cookie.length);
		return NT_STATUS_INVALID_PARAMETER;
	}
	version = IVAL(cookie.data, 8);
	if (version != PERSISTENT_COOKIE_VERSION) {
		DBG_WARNING("cookie version %" PRIu32 " unknown\n", version);
		return NT_STATUS_INVALID_PARAMETER;
	}
	inner_len = IVAL(cookie.data, 12);
	if (inner_len != cookie.length - PERSISTENT_COOKIE_HDR_LEN) {
		DBG_WARNING("cookie inner length %" PRIu32 " of %zu\n",
			    inner_len,
			    cookie.length);
		return NT_STATUS_INVALID_PARAMETER;
	}
	*persistent_id = BVAL(cookie.data, 16);
	*inner = data_blob_const(cookie.data + PERSISTENT_COOKIE_HDR_LEN,
				 inner_len);
	return NT_STATUS_OK;
}

/* ---- Expiry ---- */

static void persistent_sweep_fn(uint64_t persistent_id,
				pcore_status status,
				const char *message,
				void *sweep_data)
{
	struct persistent_db *pdb = sweep_data;
	pcore_status st;

	if (status != PCORE_EXPIRED) {
		DBG_ERR("store %s: %s (%s): left in place, never trusted\n",
			pdb->path,
			message,
			pcore_status_string(status));
		return;
	}
	st = pcore_release(pdb->table, persistent_id);
	if (st != PCORE_OK) {
		DBG_WARNING("removing expired %s failed: %s\n",
			    message,
			    pcore_table_last_error(pdb->table));
		return;
	}
	DBG_NOTICE("%s expired: removed\n", message);
}

/*
 * Remove the records of disconnected opens past their timeout.  smbd's
 * scavenger releases the open itself (share mode, locks, global record);
 * this removes what the module stored about it.
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

	persistent_sweep(config->pdb);

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
	struct smb2_create_blob *dh2q = NULL;
	struct persistent_fsp *pfsp = NULL;
	NTSTATUS status;

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

	/*
	 * The record first: if smbd's side fails below, smbd closes the
	 * handle for real and close_fn removes the record.
	 */
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

/* ---- durable_reconnect ---- */

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
	pcore_record_view(stored, &view);
	disconnect_time_us = view.disconnect_time_us;

	token = smb1req->conn->session_info->security_token;
	rreq = (struct pcore_reconnect_request){
		.persistent_id = persistent_id,
		.persistent_flag = op->global->persistent,
		/*
		 * The VFS op does not see the request's lease context;
		 * smbd checks it right after this call
		 * (smbd_smb2_create_durable_lease_check).
		 */
		.has_lease = view.lease_version != 0,
		.owner_sid = dom_sid_str_buf(&token->sids[PRIMARY_USER_SID_INDEX],
					     &sid_buf),
		.share_name = config->share_name,
		.new_volatile_id = op->global->open_volatile_id,
	};
	memcpy(rreq.lease_key, view.lease_key, PCORE_GUID_SIZE);
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
	pcore_record_free(reconnected);

	status = SMB_VFS_NEXT_DURABLE_RECONNECT(handle, smb1req, op, inner,
						talloc_tos(), fsp,
						&new_inner);
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
	if (pfsp != NULL && pfsp->persistent && config->pdb != NULL &&
	    (fsp->op == NULL || !fsp->op->global->durable))
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
};

static_decl_vfs;
NTSTATUS vfs_persistent_init(TALLOC_CTX *ctx)
{
	return smb_register_vfs(SMB_VFS_INTERFACE_VERSION,
				PERSISTENT_MODULE_NAME,
				&vfs_persistent_fns);
}
