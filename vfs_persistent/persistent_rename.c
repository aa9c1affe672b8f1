/*
 * vfs_persistent: the records of persistent opens follow a rename.
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
 * A handle's life, its file moves: a rename through smbd of a file
 * with persistent opens stores the new path in their records, so
 * that a reconnect that re-creates the open finds the file.
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

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
int persistent_renameat(struct vfs_handle_struct *handle,
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
