/*
 * vfs_persistent: conflicts with disconnected persistent opens.
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
 * A handle's life, while its client is away: a disconnected
 * persistent open still holds its file.  Which stored opens are on
 * the file being opened or locked (found by the file's identity or
 * path), and whether the core says they conflict with the new open
 * or lock; an open that needs a break of such an open's Handle lease
 * waits for its owner instead of being refused.
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

/* ---- Conflicts with disconnected persistent opens ---- */

uint32_t persistent_map_access(uint32_t access_mask)
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

/*
 * The decision is the core's (pcore_open_conflict); this gathers and maps.
 * A refusal by any stored open ends the scan; a break that waits for its
 * owner is noted and the scan goes on, since another open may refuse.
 */
bool persistent_open_conflict_fn(const struct pcore_open *view,
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
	if (st == PCORE_BREAK_PENDING) {
		state->break_pending = true;
		state->break_holder = view->persistent_id;
		return false;
	}
	state->holder = view->persistent_id;
	state->status = pcore_status_to_ntstatus(st);
	return true;
}

/*
 * How often an open that waits for an absent owner's lease break looks
 * again, besides each change of the file's share mode record (the
 * owner's reconnect, its acknowledgement, smbd's cleanup at expiry): the
 * expiry of an open whose smbd died changes nothing smbd watches.
 */
#define PERSISTENT_BREAK_POLL_SEC 1

/*
 * The open needs a break of the lease with Handle caching of a
 * disconnected persistent open: it is neither refused nor granted, it
 * waits (an interim response, then no answer) and runs again when the
 * file's share mode record changes or after PERSISTENT_BREAK_POLL_SEC.
 * Each run decides again: while the owner is away it waits again; when
 * the owner is back, smbd sends the break to it and waits for the
 * acknowledgement as for any client (then its own lease break timeout
 * applies); when the owner's open has expired the open goes on.  Where
 * it cannot wait (no SMB2 request, a file not yet found by its
 * identity), it is refused as before.
 */
NTSTATUS persistent_wait_for_break(struct smb_request *req,
					  const struct smb_filename *smb_fname,
					  const struct file_id *fid,
					  uint64_t holder)
{
	NTSTATUS status;

	if (req->smb2req == NULL || fid == NULL) {
		DBG_NOTICE("open of %s refused: it would have to wait for a "
			   "lease break of disconnected persistent open "
			   "%" PRIu64 ", and cannot\n",
			   smb_fname_str_dbg(smb_fname),
			   holder);
		return NT_STATUS_FILE_NOT_AVAILABLE;
	}
	status = defer_open_for_module(
		req, *fid, tevent_timeval_set(PERSISTENT_BREAK_POLL_SEC, 0));
	if (!NT_STATUS_IS_OK(status)) {
		DBG_ERR("open of %s refused: cannot wait for the lease break "
			"of disconnected persistent open %" PRIu64 ": %s\n",
			smb_fname_str_dbg(smb_fname),
			holder,
			nt_errstr(status));
		return NT_STATUS_FILE_NOT_AVAILABLE;
	}
	DBG_INFO("open of %s waits for disconnected persistent open "
		 "%" PRIu64 " to come back and acknowledge a break of its "
		 "lease, or to expire\n",
		 smb_fname_str_dbg(smb_fname),
		 holder);
	/* not the answer: the request is deferred (open_was_deferred()) */
	return NT_STATUS_SHARING_VIOLATION;
}

bool persistent_lock_conflict_fn(const struct pcore_open *view,
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
void persistent_scan_file(struct persistent_db *pdb,
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
