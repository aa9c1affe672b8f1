/*
 * vfs_persistent: the reconnect of a persistent open.
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
 * A handle's life, step 4: its client comes back.  durable_reconnect
 * checks a DH2C (lease, identity, user) against the stored record,
 * then takes smbd's disconnected state over or, when the open's smbd
 * died, re-creates the open from the store with its locks and lease.
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "smbd/globals.h"
#include "libcli/security/dom_sid.h"
#include "libcli/security/security_token.h"
#include "libcli/smb/smb2_create_blob.h"
#include "libcli/smb/smb2_lease.h"
#include "librpc/gen_ndr/smbXsrv.h"
#include "librpc/gen_ndr/open_files.h"
#include "lib/util/server_id.h"
#include "messages.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

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
 * The smbd that served the open is gone, and with it the process the
 * share mode entry, byte-range locks and lease name (or the restart
 * emptied them), so the default durable reconnect has nothing to take
 * over.  Re-create the open from the store instead: open the file again
 * with the stored access, share mode and oplock or lease (the global
 * record names this smbd by now, so smbd takes the dead process's entries
 * as stale and drops them on the way), bind the new fsp to the
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

/*
 * Takes the stored byte-range locks of view in the name of op, on br_lck
 * (with config->reopening set, so that the module's own lock hooks let
 * them through).  Stops at the first that cannot be taken, logged with
 * what, and returns its status.
 */
static NTSTATUS persistent_take_stored_locks(struct persistent_config *config,
					     struct smbXsrv_open *op,
					     struct byte_range_lock *br_lck,
					     const struct pcore_open *view,
					     const char *when)
{
	NTSTATUS status = NT_STATUS_OK;
	uint32_t i;

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
				 (l->type == PCORE_LOCK_EXCLUSIVE) ? WRITE_LOCK
								  : READ_LOCK,
				 WINDOWS_LOCK,
				 &blocker,
				 &blocker_smblctx);
		if (!NT_STATUS_IS_OK(status)) {
			DBG_WARNING("persistent open %" PRIu64 ": lock [%" PRIu64
				    ", +%" PRIu64 ") not taken back%s: %s\n",
				    view->persistent_id,
				    l->offset,
				    l->length,
				    when,
				    nt_errstr(status));
			break;
		}
	}
	config->reopening = false;
	return status;
}

/*
 * The share mode entry of the reopened fsp names the open smbd made for
 * it; once the fsp is bound to the reconnected open, name that one, so
 * that smbd keeps the entry for this persistent open if its smbd dies
 * again (patch 0016).
 */
struct persistent_entry_id_state {
	struct server_id self;
	uint64_t share_file_id;
	uint64_t open_persistent_id;
	bool found;
};

static bool persistent_entry_id_fn(struct share_mode_entry *e,
				   bool *modified,
				   void *private_data)
{
	struct persistent_entry_id_state *state = private_data;

	if (!server_id_equal(&e->pid, &state->self) ||
	    e->share_file_id != state->share_file_id)
	{
		return false;
	}
	e->open_persistent_id = state->open_persistent_id;
	*modified = true;
	state->found = true;
	return true;
}

static void persistent_entry_id_locked(struct share_mode_lock *lck,
				       void *private_data)
{
	bool ok;

	ok = share_mode_forall_entries(lck, persistent_entry_id_fn,
				       private_data);
	if (!ok) {
		DBG_WARNING("share_mode_forall_entries failed\n");
	}
}

static void persistent_entry_rebind(struct files_struct *fsp)
{
	struct persistent_entry_id_state state = {
		.self = messaging_server_id(fsp->conn->sconn->msg_ctx),
		.share_file_id = fh_get_gen_id(fsp->fh),
		.open_persistent_id = fsp->op->global->open_persistent_id,
	};
	NTSTATUS status;

	status = share_mode_do_locked_vfs_denied(fsp->file_id,
						 persistent_entry_id_locked,
						 &state);
	if (!NT_STATUS_IS_OK(status) || !state.found) {
		DBG_WARNING("persistent open %" PRIu64 ": share mode entry of "
			    "%s not renamed: %s\n",
			    state.open_persistent_id,
			    fsp_str_dbg(fsp),
			    NT_STATUS_IS_OK(status) ? "not found" :
						      nt_errstr(status));
	}
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
	persistent_entry_rebind(fsp);

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
		status = persistent_take_stored_locks(config, op, br_lck, view,
						      "");
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

/*
 * smbd's default reconnect moves the open's disconnected byte-range locks
 * to the new fsp, and succeeds when it finds none
 * (brl_reconnect_disconnected() with no locks).  In a cluster a client can
 * reconnect to a survivor within milliseconds, while the failed node's
 * smbd is still between removing the open's live locks and marking them
 * disconnected: the open then came back without its locks (seen with the
 * failover demo: A's unlock afterwards said RANGE_NOT_LOCKED, and B got
 * the range).  When the stored open has locks and the file has none, they
 * are taken again in the name of this open.
 */
static void persistent_retake_locks(struct persistent_config *config,
				    struct smbXsrv_open *op,
				    struct files_struct *fsp,
				    const struct pcore_open *view)
{
	struct byte_range_lock *br_lck = NULL;
	NTSTATUS status;

	br_lck = brl_get_locks(talloc_tos(), fsp);
	if (br_lck == NULL) {
		return;
	}
	if (brl_num_locks(br_lck) != 0) {
		TALLOC_FREE(br_lck);
		return;
	}
	status = persistent_take_stored_locks(config, op, br_lck, view,
					      " after the reconnect");
	TALLOC_FREE(br_lck);
	if (!NT_STATUS_IS_OK(status)) {
		return;
	}
	DBG_NOTICE("persistent open %" PRIu64 ": reconnected without its "
		   "byte-range locks: %" PRIu32 " taken again from the store\n",
		   view->persistent_id,
		   view->num_locks);
}

NTSTATUS persistent_durable_reconnect(struct vfs_handle_struct *handle,
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
	uint32_t create_options;
	bool delete_on_close;
	bool default_reconnect;
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
	DBG_INFO("persistent open %" PRIu64 ": record connected to this "
		 "smbd (%" PRIu32 " byte-range locks stored); taking smbd's "
		 "state over\n",
		 persistent_id,
		 view.num_locks);
	create_options = view.create_options;
	delete_on_close = view.delete_on_close != 0;
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
	/*
	 * With "posix locking = yes" smbd's default reconnect refuses an open
	 * that holds byte-range locks (its cookie check), and only after it
	 * has moved the open's disconnected locks to this process and an fsp
	 * it then frees: the re-creation could not take them back.  Such an
	 * open is re-created from the store at once.
	 */
	default_reconnect = inner.length > 0 &&
			    !(view.num_locks > 0 &&
			      lp_posix_locking(handle->conn->params));
	if (default_reconnect) {
		status = SMB_VFS_NEXT_DURABLE_RECONNECT(handle, smb1req, op,
							inner, talloc_tos(),
							fsp, &new_inner);
		if (NT_STATUS_IS_OK(status) && view.num_locks > 0) {
			persistent_retake_locks(config, op, *fsp, &view);
		}
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

	/* a file to be deleted at the last close still is */
	status = persistent_delete_on_close_reconnected(*fsp, create_options,
							delete_on_close);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("%s: persistent open %" PRIu64 " reconnected without "
			"its delete on close: %s\n",
			fsp_str_dbg(*fsp),
			persistent_id,
			nt_errstr(status));
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
