/*
 * vfs_persistent: delete on close of a persistent open.
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
 * A persistent open whose file is to be deleted when its last handle
 * closes keeps that through a disconnect, a kill -9 of its smbd and a
 * restart, at every step of its life:
 * - granted: a create's FILE_DELETE_ON_CLOSE is in the record's create
 *   options;
 * - set later: a SET_INFO (FileDispositionInformation) is stored before
 *   smbd takes it and answers (persistent_delete_on_close_changed, the
 *   hook of patch 0015); the disconnect stores fsp's state once more
 *   (persistent_disconnect.c);
 * - reconnected: both are set again on the open the DH2C gives back
 *   (persistent_delete_on_close_reconnected), so that its close deletes
 *   the file as smbd's close of any open does: when no other handle has
 *   it open;
 * - expired: the file is deleted when no other handle has it open
 *   (persistent_delete_expired, from persistent_expire()).
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "auth.h"
#include "locking/share_mode_lock.h"
#include "librpc/gen_ndr/open_files.h"
#include "lib/util/server_id.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

/* ---- SET_INFO: stored before it is answered ---- */

NTSTATUS persistent_delete_on_close_changed(struct vfs_handle_struct *handle,
					    struct files_struct *fsp,
					    bool delete_on_close)
{
	struct persistent_config *config = NULL;
	uint64_t id;
	pcore_status st;

	if (!persistent_hook_open(handle, fsp, &config, &id)) {
		return NT_STATUS_OK;
	}
	st = pcore_set_delete_on_close(config->pdb->table, id,
				       delete_on_close ? 1 : 0);
	if (st != PCORE_OK) {
		DBG_ERR("%s: delete on close %s of persistent open %" PRIu64
			" not stored: %s: the SET_INFO fails\n",
			fsp_str_dbg(fsp),
			delete_on_close ? "set" : "cleared",
			id,
			pcore_table_last_error(config->pdb->table));
		return pcore_status_to_ntstatus(st);
	}
	DBG_DEBUG("%s: persistent open %" PRIu64 ": delete on close %s "
		  "stored\n",
		  fsp_str_dbg(fsp),
		  id,
		  delete_on_close ? "set" : "cleared");
	return NT_STATUS_OK;
}

/* ---- DH2C: the reconnected open deletes its file as before ---- */

NTSTATUS persistent_delete_on_close_reconnected(struct files_struct *fsp,
						uint32_t create_options,
						bool delete_on_close)
{
	struct connection_struct *conn = fsp->conn;

	if (create_options & FILE_DELETE_ON_CLOSE) {
		/* as open.c sets it: the close makes it a delete token */
		fsp->fsp_flags.initial_delete_on_close = true;
	}
	if (!delete_on_close) {
		return NT_STATUS_OK;
	}
	/*
	 * A clean disconnect left smbd's delete token in the share mode
	 * record; after a kill -9 or a restart it is gone.  Setting it again
	 * replaces the token with the reconnected user's.
	 */
	if (!set_delete_on_close(fsp,
				 true,
				 conn->session_info->security_token,
				 conn->session_info->unix_token))
	{
		DBG_ERR("%s: delete on close not set again on the "
			"reconnected open\n",
			fsp_str_dbg(fsp));
		return NT_STATUS_ACCESS_DENIED;
	}
	return NT_STATUS_OK;
}

/* ---- Expiry: the last handle is gone ---- */

struct persistent_other_opens_state {
	uint64_t persistent_id;
	bool found;
};

static bool persistent_other_opens_fn(struct share_mode_entry *e,
				      bool *modified,
				      void *private_data)
{
	struct persistent_other_opens_state *state = private_data;

	if (e->share_file_id == state->persistent_id ||
	    e->open_persistent_id == state->persistent_id)
	{
		/*
		 * The expired open's own entry: left by a clean disconnect,
		 * or by its smbd that died (kept by smbd while the global
		 * open record, removed after this, holds it: patch 0016).
		 */
		return false;
	}
	if (server_id_is_disconnected(&e->pid) || !share_entry_stale_pid(e)) {
		/* an open, or a disconnected durable one, of another client */
		state->found = true;
		return true;
	}
	return false;
}

/*
 * The expired open view was to delete its file (FILE_DELETE_ON_CLOSE, or
 * a SET_INFO): delete it now, unless another handle has it open (that
 * handle's close decides then, by smbd's delete token if it has one).
 * The file must still be the one the open had (its inode); a stream or a
 * record of an older store without the file's identity is left alone.
 * There is no connection here (the scavenger has none): the file is
 * deleted as root, the expired open had the right to delete it.
 */
void persistent_delete_expired(const struct pcore_open *view)
{
	const struct loadparm_substitution *lp_sub =
		loadparm_s3_global_substitution();
	struct persistent_other_opens_state state = {
		.persistent_id = view->persistent_id,
	};
	struct share_mode_lock *lck = NULL;
	struct file_id fid;
	SMB_STRUCT_STAT sbuf;
	char *share_path = NULL;
	char *path = NULL;
	int snum;
	int ret;

	if (!(view->create_options & FILE_DELETE_ON_CLOSE) &&
	    !view->delete_on_close)
	{
		return;
	}
	if (!view->has_identity ||
	    (view->stream_name != NULL && view->stream_name[0] != '\0'))
	{
		DBG_WARNING("persistent open %" PRIu64 " of [%s] %s expired "
			    "with delete on close: %s, not deleted\n",
			    view->persistent_id,
			    view->share_name,
			    view->path,
			    view->has_identity ? "a stream"
					       : "no file identity stored");
		return;
	}
	snum = lp_servicenumber(view->share_name);
	if (snum < 0) {
		DBG_WARNING("persistent open %" PRIu64 " expired with delete "
			    "on close: share [%s] gone, %s not deleted\n",
			    view->persistent_id,
			    view->share_name,
			    view->path);
		return;
	}
	share_path = lp_path(talloc_tos(), lp_sub, snum);
	if (share_path == NULL || share_path[0] != '/') {
		TALLOC_FREE(share_path);
		return;
	}
	path = talloc_asprintf(talloc_tos(), "%s/%s", share_path, view->path);
	TALLOC_FREE(share_path);
	if (path == NULL) {
		return;
	}
	fid = (struct file_id){
		.devid = view->file_id.devid,
		.inode = view->file_id.inode,
		.extid = view->file_id.extid,
	};

	become_root();
	lck = get_existing_share_mode_lock(talloc_tos(), fid);
	if (lck != NULL &&
	    !share_mode_forall_entries(lck, persistent_other_opens_fn, &state))
	{
		state.found = true;
	}
	if (state.found) {
		DBG_WARNING("persistent open %" PRIu64 " of [%s] %s expired "
			    "with delete on close: another handle has the "
			    "file open, not deleted\n",
			    view->persistent_id,
			    view->share_name,
			    view->path);
		goto done;
	}
	ret = sys_lstat(path, &sbuf, false);
	if (ret != 0) {
		DBG_NOTICE("persistent open %" PRIu64 ": %s already gone\n",
			   view->persistent_id,
			   path);
		goto done;
	}
	if (sbuf.st_ex_ino != view->file_id.inode ||
	    !S_ISREG(sbuf.st_ex_mode))
	{
		DBG_WARNING("persistent open %" PRIu64 " expired with delete "
			    "on close, but %s is another file now: not "
			    "deleted\n",
			    view->persistent_id,
			    path);
		goto done;
	}
	ret = unlink(path);
	if (ret != 0) {
		DBG_ERR("persistent open %" PRIu64 " expired with delete on "
			"close: unlink of %s failed: %s\n",
			view->persistent_id,
			path,
			strerror(errno));
		goto done;
	}
	DBG_WARNING("persistent open %" PRIu64 " of [%s] %s expired with "
		    "delete on close: file deleted\n",
		    view->persistent_id,
		    view->share_name,
		    view->path);
done:
	TALLOC_FREE(lck);
	unbecome_root();
	TALLOC_FREE(path);
}
