/*
 * vfs_persistent: the cluster store (persistent_store_ctdb.c).
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

#ifndef SAMBA_CA_PERSISTENT_STORE_CTDB_H
#define SAMBA_CA_PERSISTENT_STORE_CTDB_H

#include "persistent_core.h"

/* "persistent:cluster commit timeout" (ms): default, and the largest
 * accepted, well below CTDB's ControlTimeout (60 s) after which ctdbd
 * answers a commit that a node has not confirmed as done. */
#define PERSISTENT_CTDB_COMMIT_TIMEOUT_MS 5000
#define PERSISTENT_CTDB_COMMIT_TIMEOUT_MAX_MS 30000

struct persistent_db;
struct db_context;

/*
 * Shared by the local and the cluster store (persistent_store.c): dbwrap's
 * status as the core's, a record's value handed to the core's parser, and
 * a read-only traverse feeding the core's visitor.
 */
pcore_status persistent_db_ntstatus_status(NTSTATUS status);
NTSTATUS persistent_dbwrap_fetch(struct db_context *db,
				 const uint8_t *key,
				 size_t key_len,
				 pcore_parser_fn parser,
				 void *parser_data);
NTSTATUS persistent_dbwrap_traverse(struct db_context *db,
				    pcore_traverse_fn fn,
				    void *traverse_data);

/*
 * Attach pdb->path as the cluster's CTDB persistent database (pdb->db) and
 * fill ops with the cluster store's callbacks.  false, logged, if it
 * cannot be attached.
 */
bool persistent_ctdb_store_open(struct persistent_db *pdb,
				struct pcore_store_ops *ops);

#endif /* SAMBA_CA_PERSISTENT_STORE_CTDB_H */
