/*
 * vfs_persistent: the restore of persistent opens after a restart.
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
 * A handle's life, step 3: smbd restarted (or its smbd was killed).
 * At tree connect each stored disconnected open gets back its
 * global record, so that a DH2C finds it, and its byte-range locks
 * in brlock.tdb, so that smbd's own checks see them.
 */

#include "includes.h"
#include "system/filesys.h"
#include "smbd/smbd.h"
#include "libcli/security/dom_sid.h"
#include "librpc/gen_ndr/smbXsrv.h"
#include "smbd/smbXsrv_open.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

/*
 * brlock.tdb is emptied when smbd starts: after a restart the byte-range
 * locks of a disconnected persistent open live only in the store.  Put
 * them back into brlock.tdb as the locks of a disconnected open (patch
 * 0010), so that smbd's own lock checks and smbstatus -B see them; with
 * num_locks == 0 (expiry, reconnect) the open's disconnected entries are
 * removed.  The file id is the one stored at the grant (fsp->file_id, as
 * the share's VFS made it); a record of an older store has none, and the
 * default VFS's file id of the path's stat (device, inode) stands in.
 */
bool persistent_stored_file_id(const struct pcore_open *view,
			       struct file_id *fid)
{
	const struct loadparm_substitution *lp_sub =
		loadparm_s3_global_substitution();
	int snum = lp_servicenumber(view->share_name);
	char *share_path = NULL;
	char *path = NULL;
	SMB_STRUCT_STAT sbuf;
	int ret;

	if (view->has_identity) {
		/* as smbd computed it at the grant, vfs_fileid included */
		*fid = (struct file_id){
			.devid = view->file_id.devid,
			.inode = view->file_id.inode,
			.extid = view->file_id.extid,
		};
		return true;
	}
	if (snum < 0) {
		return false;
	}
	share_path = lp_path(talloc_tos(), lp_sub, snum);
	if (share_path == NULL || share_path[0] != '/') {
		TALLOC_FREE(share_path);
		return false;
	}
	path = talloc_asprintf(talloc_tos(), "%s/%s", share_path, view->path);
	TALLOC_FREE(share_path);
	if (path == NULL) {
		return false;
	}
	ret = sys_stat(path, &sbuf, false);
	TALLOC_FREE(path);
	if (ret != 0) {
		return false;
	}
	*fid = (struct file_id){
		.devid = sbuf.st_ex_dev,
		.inode = sbuf.st_ex_ino,
	};
	return true;
}

void persistent_brl_set(const struct pcore_open *view,
			const struct file_id *fid,
			bool restore)
{
	struct lock_struct *locks = NULL;
	uint32_t num = restore ? view->num_locks : 0;
	uint32_t i;
	bool ok;

	if (num > 0) {
		locks = talloc_zero_array(talloc_tos(), struct lock_struct,
					  num);
		if (locks == NULL) {
			return;
		}
		for (i = 0; i < num; i++) {
			locks[i].start = view->locks[i].offset;
			locks[i].size = view->locks[i].length;
			locks[i].lock_type =
				(view->locks[i].type == PCORE_LOCK_EXCLUSIVE) ?
					WRITE_LOCK : READ_LOCK;
		}
	}
	ok = brl_set_disconnected_locks(*fid, view->persistent_id, locks,
					num);
	TALLOC_FREE(locks);
	if (restore) {
		DBG_NOTICE("persistent open %" PRIu64 " of [%s] %s: %" PRIu32
			   " byte-range locks %s brlock.tdb\n",
			   view->persistent_id,
			   view->share_name,
			   view->path,
			   num,
			   ok ? "restored in" : "not restored in (the open "
				"holds them or they conflict)");
	} else if (!ok) {
		DBG_NOTICE("persistent open %" PRIu64 " of [%s] %s: its "
			   "disconnected byte-range locks not removed\n",
			   view->persistent_id,
			   view->share_name,
			   view->path);
	}
}

/*
 * After a restart smbXsrv_open_global.tdb is empty (and after a kill -9
 * it holds a record of a dead smbd): put a disconnected global record
 * back for each stored open, so that a DH2C finds it by persistent id.
 * The cookie carries no default durable cookie: the reconnect re-creates
 * the open from the store.
 */
bool persistent_restore_global_fn(const struct pcore_open *view,
				  void *private_data)
{
	struct smbXsrv_open_global0 global = {
		.open_global_id = (uint32_t)view->persistent_id,
		.open_persistent_id = view->persistent_id,
		.open_volatile_id = view->volatile_id,
		.durable_timeout_msec = view->timeout_ms,
		.durable = true,
		.persistent = true,
		.channel_sequence = view->reply.channel_sequence,
	};
	struct timeval tv = {
		.tv_sec = view->disconnect_time_us / 1000000,
		.tv_usec = view->disconnect_time_us % 1000000,
	};
	DATA_BLOB blob;
	NTSTATUS status;

	if ((uint64_t)global.open_global_id != view->persistent_id) {
		return false;
	}
	if (!dom_sid_parse(view->owner_sid, &global.open_owner)) {
		return false;
	}
	blob = data_blob_const(view->create_guid, PCORE_GUID_SIZE);
	status = GUID_from_ndr_blob(&blob, &global.create_guid);
	if (!NT_STATUS_IS_OK(status)) {
		return false;
	}
	blob = data_blob_const(view->client_guid, PCORE_GUID_SIZE);
	status = GUID_from_ndr_blob(&blob, &global.client_guid);
	if (!NT_STATUS_IS_OK(status)) {
		return false;
	}
	global.open_time = timeval_to_nttime(&tv);
	global.disconnect_time = timeval_to_nttime(&tv);
	memcpy(global.lock_sequence_array, view->lock_sequence,
	       sizeof(global.lock_sequence_array));

	status = persistent_cookie_wrap(talloc_tos(), view->persistent_id,
					data_blob_null,
					&global.backend_cookie);
	if (!NT_STATUS_IS_OK(status)) {
		return false;
	}
	status = smbXsrv_open_global_restore(&global);
	data_blob_free(&global.backend_cookie);
	if (!NT_STATUS_IS_OK(status)) {
		DBG_WARNING("persistent open %" PRIu64 ": global record not "
			    "restored: %s\n",
			    view->persistent_id,
			    nt_errstr(status));
	}
	if (view->num_locks > 0) {
		struct file_id fid;

		if (persistent_stored_file_id(view, &fid)) {
			persistent_brl_set(view, &fid, true);
		}
	}
	return false;
}
