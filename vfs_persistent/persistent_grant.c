/*
 * vfs_persistent: the grant of a persistent open.
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
 * A handle's life, step 1: birth.  The create_file hook remembers
 * what the DH2Q asked (after the conflict check against
 * disconnected persistent opens, which refuses the open or makes it
 * wait for a lease break); durable_cookie then grants the
 * open: its timeout, the file's identity and birth time, the record
 * stored (synced) before the create is answered, and the cookie.
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "smbd/globals.h"
#include "libcli/security/dom_sid.h"
#include "libcli/smb/smb2_create_blob.h"
#include "librpc/gen_ndr/smbXsrv.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

/* ---- create: remember what the DH2Q asked ---- */

NTSTATUS persistent_create_file(
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
		if (cstate.break_pending) {
			return persistent_wait_for_break(req, smb_fname,
							 cstate.fid,
							 cstate.break_holder);
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
uint64_t persistent_birth_time(const SMB_STRUCT_STAT *st)
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
		.delete_on_close = fsp->fsp_flags.delete_on_close,
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

NTSTATUS persistent_durable_cookie(struct vfs_handle_struct *handle,
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
