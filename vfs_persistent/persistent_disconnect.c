/*
 * vfs_persistent: the disconnect of a persistent open.
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
 * A handle's life, step 2: its client is gone.  durable_disconnect
 * marks the record disconnected (which starts its timeout), then
 * smbd's share mode entry and byte-range locks, and closes the fd;
 * the open waits for its client in the store.
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "smbd/globals.h"
#include "locking/share_mode_lock.h"
#include "librpc/gen_ndr/ndr_open_files.h"
#include "librpc/gen_ndr/smbXsrv.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

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
 * (or with locks and no write lease) and one with delete on close; a
 * persistent open keeps its state whatever its lease, and its delete on
 * close is in the record (persistent_delete.c).  The rest is what a
 * durable disconnect does: mark the share mode entry and the byte-range
 * locks disconnected, then hand smbd a default cookie that allows the
 * reconnect, and close the fd.
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

NTSTATUS persistent_durable_disconnect(struct vfs_handle_struct *handle,
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

	if (lp_clustering() &&
	    !persistent_still_ours(config->pdb, persistent_id,
				   fsp->conn->sconn->msg_ctx))
	{
		/* a survivor has it (a stopped node continued): close ours */
		return NT_STATUS_NOT_SUPPORTED;
	}
	/*
	 * The record first: if smbd's side fails below, smbd closes the
	 * handle for real and close_fn removes the record.
	 */
	persistent_update_lease(config, fsp, persistent_id);
	/*
	 * A SET_INFO stored its delete on close when it came (patch 0015);
	 * the state the open leaves with is stored once more, so that the
	 * reconnect and the expiry find what smbd had.
	 */
	st = pcore_set_delete_on_close(config->pdb->table, persistent_id,
				       fsp->fsp_flags.delete_on_close ? 1 : 0);
	if (st != PCORE_OK) {
		DBG_ERR("%s: delete on close of %" PRIu64 " not stored: %s: "
			"the handle is closed\n",
			fsp_str_dbg(fsp),
			persistent_id,
			pcore_table_last_error(config->pdb->table));
		return pcore_status_to_ntstatus(st);
	}
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
