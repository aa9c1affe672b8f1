/*
 * vfs_persistent: the byte-range locks of persistent opens.
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
 * A handle's life, its locks: a lock is refused while a
 * disconnected persistent open holds the range, and granted only
 * once it is stored in the open's record; an unlock that cannot be
 * stored drops the open's persistence, visibly.
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "librpc/gen_ndr/smbXsrv.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

/* ---- byte-range locks: conflicts and the record's lock list ---- */

uint64_t persistent_fsp_id(struct vfs_handle_struct *handle,
			   struct files_struct *fsp)
{
	struct persistent_fsp *pfsp = VFS_FETCH_FSP_EXTENSION(handle, fsp);

	if (pfsp == NULL || !pfsp->persistent) {
		return 0;
	}
	return pfsp->persistent_id;
}

/*
 * An update of a granted open (an unlock, a lease change) could not be
 * stored after smbd had already acted on it.  Rather than keep a record
 * that disagrees with what the client was answered, the open stops being
 * persistent, visibly: logged, no longer protected while its client is
 * away (a disconnect closes it), and its record removed now or at close.
 */
void persistent_drop(struct vfs_handle_struct *handle,
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

NTSTATUS persistent_brl_lock_windows(struct vfs_handle_struct *handle,
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

bool persistent_brl_unlock_windows(struct vfs_handle_struct *handle,
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
