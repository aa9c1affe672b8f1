/*
 * vfs_persistent: declarations shared by the C glue files.
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

#ifndef SAMBA_CA_PERSISTENT_GLUE_H
#define SAMBA_CA_PERSISTENT_GLUE_H

#include "persistent_core.h"

/*
 * The local store of one smbd process: a TDB (not clear-if-first) opened
 * through dbwrap, the core's store over it and the core's handle table.
 * Opened once per path and process, shared by every share using that path.
 */
struct persistent_db {
	struct persistent_db *prev, *next;
	char *path;
	char *journal_path; /* NULL: no journal, the TDB syncs itself */
	struct db_context *db;
	struct pcore_store *store;
	struct pcore_table *table;
	/*
	 * Expiry timer (persistent_expiry.c): armed while a tree connect of
	 * this process uses the store; wakes at the earliest expiry of a
	 * disconnected open seen by the last scan, and at least every
	 * scan_interval_ms to notice opens whose smbd died.
	 */
	struct tevent_context *ev;
	struct tevent_timer *timer;
	unsigned users;
	uint32_t scan_interval_ms; /* 0: no periodic scan */
	uint64_t next_expiry_us;   /* UINT64_MAX: none known */
};

/*
 * Open (or find the already opened) store at path.  NULL on failure, with
 * the reason logged.
 */
struct persistent_db *persistent_db_get(const char *path);

struct vfs_handle_struct;
struct GUID;

/* The store of the share of handle; NULL where persistence is off. */
struct persistent_db *persistent_handle_db(struct vfs_handle_struct *handle);

/* The durable_lookup hook (persistent_replay.c): a create GUID's open. */
NTSTATUS persistent_durable_lookup(struct vfs_handle_struct *handle,
				   const struct GUID *client_guid,
				   const struct GUID *create_guid,
				   uint64_t *persistent_id,
				   uint32_t *create_action);

#endif /* SAMBA_CA_PERSISTENT_GLUE_H */
