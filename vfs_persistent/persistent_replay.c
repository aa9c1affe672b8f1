/*
 * vfs_persistent: the replay of a persistent create from a new connection.
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
 * [MS-SMB2] 3.3.5.9.10: a DH2Q create names its open by create GUID, and
 * the server looks that open up in the GlobalOpenTable.  smbd 4.22 keeps
 * that index only in the replay cache of the smbd serving the client,
 * which dies with the connection; a persistent open outlives both.  With
 * patch 0008 smbd asks the durable_lookup hook (smbd/persistent_hooks.h)
 * when its replay cache does not know the create GUID of a persistent
 * request, and this module answers from its store, which indexes records
 * by create GUID.  smbd then fails the create with
 * STATUS_DUPLICATE_OBJECTID, or (replay flag set) reconnects the open
 * through durable_reconnect_fn and answers with the create action of the
 * original create.  Not found here: smbd asks the next module of the
 * share that has the hook.
 */

#include "includes.h"
#include "smbd/smbd.h"
#include "persistent_glue.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

static uint64_t persistent_replay_now_us(void)
{
	struct timeval tv = timeval_current();

	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

static void persistent_replay_guid_bytes(const struct GUID *guid,
					 uint8_t out[PCORE_GUID_SIZE])
{
	struct GUID_ndr_buf buf = {{0}};

	GUID_to_ndr_buf(guid, &buf);
	memcpy(out, buf.buf, PCORE_GUID_SIZE);
}

/* A disconnected open past its timeout is gone, whether swept or not. */
static bool persistent_replay_expired(const struct pcore_open *view)
{
	uint64_t now_us = persistent_replay_now_us();

	if (view->state != PCORE_STATE_DISCONNECTED) {
		return false;
	}
	if (now_us < view->disconnect_time_us) {
		return false;
	}
	return now_us - view->disconnect_time_us >=
	       (uint64_t)view->timeout_ms * 1000;
}

NTSTATUS persistent_durable_lookup(struct vfs_handle_struct *handle,
				   const struct GUID *client_guid,
				   const struct GUID *create_guid,
				   uint64_t *persistent_id,
				   uint32_t *create_action)
{
	struct persistent_db *pdb = persistent_handle_db(handle);
	struct pcore_record *rec = NULL;
	uint8_t create_bytes[PCORE_GUID_SIZE];
	uint8_t client_bytes[PCORE_GUID_SIZE];
	struct GUID_txt_buf buf;
	struct pcore_open view;
	pcore_status st;

	if (pdb == NULL) {
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}

	persistent_replay_guid_bytes(create_guid, create_bytes);
	persistent_replay_guid_bytes(client_guid, client_bytes);

	st = pcore_lookup_replay(pdb->table, create_bytes, client_bytes, &rec);
	if (st == PCORE_NOT_FOUND) {
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (st != PCORE_OK) {
		/*
		 * A record that fails its checks is never trusted: the
		 * create goes on as a new open.
		 */
		DBG_ERR("store %s: lookup of create GUID %s: %s (%s): "
			"treated as not found\n",
			pdb->path,
			GUID_buf_string(create_guid, &buf),
			pcore_table_last_error(pdb->table),
			pcore_status_string(st));
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}

	pcore_record_view(rec, &view);
	if (persistent_replay_expired(&view)) {
		DBG_NOTICE("create GUID %s: persistent open %" PRIu64
			   " expired\n",
			   GUID_buf_string(create_guid, &buf),
			   view.persistent_id);
		pcore_record_free(rec);
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}

	*persistent_id = view.persistent_id;
	*create_action = view.reply.create_action;
	DBG_INFO("create GUID %s: persistent open %" PRIu64 " (%s), create "
		 "action %" PRIu32 "\n",
		 GUID_buf_string(create_guid, &buf),
		 view.persistent_id,
		 view.state == PCORE_STATE_CONNECTED ? "connected" :
						       "disconnected",
		 view.reply.create_action);
	pcore_record_free(rec);
	return NT_STATUS_OK;
}
