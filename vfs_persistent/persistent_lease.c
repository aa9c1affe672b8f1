/*
 * vfs_persistent: the lease state and lock sequences of persistent opens.
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
 * A handle's life, its state as it changes: lease breaks and
 * downgrades, and the lock sequences of LOCK requests, stored in the
 * open's record when smbd reports them, so that the open comes back
 * as its client holds it now.
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

/* The lease may have been broken since the grant: keep the record current. */
void persistent_update_lease(struct persistent_config *config,
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
 * ---- State changes smbd reports through the persistent hooks ----
 *
 * A lease break (started, acknowledged, timed out) and a LOCK request's
 * lock sequence are state of a persistent open ([MS-SMB2] 3.3.1.10,
 * 3.3.5.14): stored when they happen, before the answer leaves, so that
 * after kill -9 or a restart the open comes back with the lease its
 * client holds now and a replayed lock is answered once.
 */
/*
 * The hooks run for every open of a share with the module: only a
 * persistent open of a share with a store has state to keep.
 */
bool persistent_hook_open(struct vfs_handle_struct *handle,
				 struct files_struct *fsp,
				 struct persistent_config **config,
				 uint64_t *id)
{
	SMB_VFS_HANDLE_GET_DATA(handle, *config, struct persistent_config,
				return false);
	*id = persistent_fsp_id(handle, fsp);
	return (*config)->pdb != NULL && *id != 0;
}

NTSTATUS persistent_lease_changed(struct vfs_handle_struct *handle,
				  struct files_struct *fsp,
				  const struct smb2_lease_key *lease_key,
				  uint32_t lease_state,
				  uint16_t lease_epoch)
{
	struct persistent_config *config = NULL;
	uint64_t id;
	pcore_status st;

	if (!persistent_hook_open(handle, fsp, &config, &id)) {
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

NTSTATUS persistent_lock_sequence_changed(
	struct vfs_handle_struct *handle,
	struct files_struct *fsp,
	uint32_t bucket_index,
	uint8_t value)
{
	struct persistent_config *config = NULL;
	uint64_t id;
	pcore_status st;

	if (!persistent_hook_open(handle, fsp, &config, &id)) {
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
