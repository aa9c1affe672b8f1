/*
 * vfs_persistent: declarations shared by the steps of a handle's life.
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
 * What the C glue files of the module share: its options, the state it
 * keeps per tree connect and per fsp, and the functions one step of a
 * persistent handle's life calls in another (vfs_persistent.c lists which
 * file holds which step).  Include after includes.h and smbd/smbd.h.
 */

#ifndef SAMBA_CA_PERSISTENT_INTERNAL_H
#define SAMBA_CA_PERSISTENT_INTERNAL_H

#include "persistent_glue.h"
#include "pcore_ntstatus.h"

#define PERSISTENT_MODULE_NAME "persistent"

/* Defaults of the module's options, in milliseconds. */
#define PERSISTENT_DEFAULT_TIMEOUT_MS (60 * 1000)
#define PERSISTENT_DEFAULT_MAX_TIMEOUT_MS (300 * 1000)
/* How often the expiry timer looks for opens whose smbd died, seconds. */
#define PERSISTENT_DEFAULT_SCAN_INTERVAL_S 5

struct persistent_config {
	const char *share_name;
	uint32_t default_timeout_ms;
	uint32_t max_timeout_ms;
	struct persistent_db *pdb; /* NULL: persistence is off here */
	/*
	 * Set while a reconnect re-creates an open whose smbd died: the
	 * module's own conflict checks and lock bookkeeping stand aside.
	 */
	bool reopening;
	/* counted in pdb->users, which keeps the expiry timer going */
	bool timer_user;
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
	/*
	 * Set when an update could not be stored after smbd acted on it
	 * (persistent_drop): no longer persistent; a disconnect closes it
	 * and the close removes its record, if the store lets it by then.
	 */
	bool dropped;
	uint64_t persistent_id;
	uint32_t create_action; /* FILE_WAS_*, answered to a replay */
};

/*
 * Called for each disconnected, unexpired open; return true to stop.
 */
typedef bool (*persistent_visit_fn)(const struct pcore_open *view,
				    void *private_data);

struct persistent_open_conflict_state {
	const struct file_id *fid; /* NULL: the file does not exist */
	const char *stream_name;
	const char *share_name;
	const char *path;
	struct pcore_open_request req;
	uint64_t holder;
	NTSTATUS status;
	/* no refusal, but a break an absent owner must acknowledge */
	bool break_pending;
	uint64_t break_holder;
};

struct persistent_lock_conflict_state {
	const struct file_id *fid;
	const char *stream_name;
	const char *share_name;
	const char *path;
	uint64_t own_id;
	uint64_t offset;
	uint64_t length;
	bool exclusive;
	uint64_t holder;
	bool conflict;
};

/* vfs_persistent.c */
uint64_t persistent_now_us(void);
void persistent_guid_bytes(const struct GUID *guid,
			   uint8_t out[PCORE_GUID_SIZE]);
void persistent_lease_key_bytes(const struct smb2_lease_key *key,
				uint8_t out[PCORE_GUID_SIZE]);
uint8_t persistent_oplock_level(const struct files_struct *fsp);
void persistent_server_id(struct messaging_context *msg_ctx,
			  struct pcore_server_id *out);

/* persistent_cookie.c */
NTSTATUS persistent_cookie_wrap(TALLOC_CTX *mem_ctx,
				uint64_t persistent_id,
				const DATA_BLOB inner,
				DATA_BLOB *cookie);
bool persistent_cookie_is_ours(const DATA_BLOB cookie);
NTSTATUS persistent_cookie_unwrap(const DATA_BLOB cookie,
				  uint64_t *persistent_id,
				  DATA_BLOB *inner);

/* persistent_grant.c */
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
	struct smb2_create_blobs *out_context_blobs);
uint64_t persistent_birth_time(const SMB_STRUCT_STAT *st);
NTSTATUS persistent_durable_cookie(struct vfs_handle_struct *handle,
				   struct files_struct *fsp,
				   TALLOC_CTX *mem_ctx,
				   DATA_BLOB *cookie);

/* persistent_conflict.c */
uint32_t persistent_map_access(uint32_t access_mask);
bool persistent_open_conflict_fn(const struct pcore_open *view,
				 void *private_data);
NTSTATUS persistent_wait_for_break(struct smb_request *req,
				   const struct smb_filename *smb_fname,
				   const struct file_id *fid,
				   uint64_t holder);
bool persistent_lock_conflict_fn(const struct pcore_open *view,
				 void *private_data);
void persistent_scan_file(struct persistent_db *pdb,
			  const struct file_id *fid,
			  const char *share_name,
			  const char *path,
			  persistent_visit_fn fn,
			  void *private_data);

/* persistent_disconnect.c */
NTSTATUS persistent_durable_disconnect(struct vfs_handle_struct *handle,
				       struct files_struct *fsp,
				       const DATA_BLOB old_cookie,
				       TALLOC_CTX *mem_ctx,
				       DATA_BLOB *new_cookie);

/* persistent_restore.c */
bool persistent_stored_file_id(const struct pcore_open *view,
			       struct file_id *fid);
void persistent_brl_set(const struct pcore_open *view,
			const struct file_id *fid,
			bool restore);
bool persistent_restore_global_fn(const struct pcore_open *view,
				  void *private_data);

/* persistent_reconnect.c */
NTSTATUS persistent_durable_reconnect(struct vfs_handle_struct *handle,
				      struct smb_request *smb1req,
				      struct smbXsrv_open *op,
				      const DATA_BLOB old_cookie,
				      TALLOC_CTX *mem_ctx,
				      struct files_struct **fsp,
				      DATA_BLOB *new_cookie);

/* persistent_expiry.c */
void persistent_sweep(struct persistent_db *pdb);
bool persistent_owner_alive(const struct pcore_server_id *owner);
bool persistent_still_ours(struct persistent_db *pdb, uint64_t id,
			   struct messaging_context *msg_ctx);
bool persistent_scan_one(struct persistent_db *pdb,
			 uint64_t id,
			 uint64_t now_us,
			 persistent_visit_fn fn,
			 void *private_data);
void persistent_scan(struct persistent_db *pdb,
		     persistent_visit_fn fn,
		     void *private_data);
void persistent_timer_arm(struct persistent_db *pdb);
int persistent_config_destructor(struct persistent_config *config);
void persistent_scavenger_expired(struct tevent_context *ev,
				  uint64_t persistent_id);

/* persistent_locks.c */
uint64_t persistent_fsp_id(struct vfs_handle_struct *handle,
			   struct files_struct *fsp);
void persistent_drop(struct vfs_handle_struct *handle,
		     struct persistent_config *config,
		     struct files_struct *fsp,
		     const char *why);
NTSTATUS persistent_brl_lock_windows(struct vfs_handle_struct *handle,
				     struct byte_range_lock *br_lck,
				     struct lock_struct *plock);
bool persistent_brl_unlock_windows(struct vfs_handle_struct *handle,
				   struct byte_range_lock *br_lck,
				   const struct lock_struct *plock);

/* persistent_lease.c */
bool persistent_hook_open(struct vfs_handle_struct *handle,
			  struct files_struct *fsp,
			  struct persistent_config **config,
			  uint64_t *id);
void persistent_update_lease(struct persistent_config *config,
			     struct files_struct *fsp,
			     uint64_t persistent_id);
NTSTATUS persistent_lease_changed(struct vfs_handle_struct *handle,
				  struct files_struct *fsp,
				  const struct smb2_lease_key *lease_key,
				  uint32_t lease_state,
				  uint16_t lease_epoch);
NTSTATUS persistent_lock_sequence_changed(
	struct vfs_handle_struct *handle,
	struct files_struct *fsp,
	uint32_t bucket_index,
	uint8_t value);

/* persistent_delete.c */
NTSTATUS persistent_delete_on_close_changed(struct vfs_handle_struct *handle,
					    struct files_struct *fsp,
					    bool delete_on_close);
NTSTATUS persistent_delete_on_close_reconnected(struct files_struct *fsp,
						uint32_t create_options,
						bool delete_on_close);
void persistent_delete_expired(const struct pcore_open *view);

/* persistent_rename.c */
int persistent_renameat(struct vfs_handle_struct *handle,
			struct files_struct *srcdir_fsp,
			const struct smb_filename *smb_fname_src,
			struct files_struct *dstdir_fsp,
			const struct smb_filename *smb_fname_dst,
			const struct vfs_rename_how *how);

#endif /* SAMBA_CA_PERSISTENT_INTERNAL_H */
