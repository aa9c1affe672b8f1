/*
 * vfs_persistent: the cookie smbd keeps for a persistent open.
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
 * A handle's life, its token: the cookie smbd keeps for a
 * persistent open (written at the grant, rewritten at disconnect,
 * read back at reconnect and put back at restore) wraps the default
 * durable cookie behind a small header of our own.
 */

#include "includes.h"
#include "persistent_internal.h"

#undef DBGC_CLASS
#define DBGC_CLASS DBGC_VFS

/* ---- The cookie smbd keeps for us. ---- */

/* The codec is the core's (persistent_core/cookie.h); here only the blobs. */
NTSTATUS persistent_cookie_wrap(TALLOC_CTX *mem_ctx,
				uint64_t persistent_id,
				const DATA_BLOB inner,
				DATA_BLOB *cookie)
{
	DATA_BLOB blob;
	pcore_status st;

	blob = data_blob_talloc(mem_ctx,
				NULL,
				PCORE_COOKIE_HEADER_SIZE + inner.length);
	if (blob.data == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	st = pcore_cookie_encode(persistent_id,
				 inner.data,
				 inner.length,
				 blob.data,
				 blob.length);
	if (st != PCORE_OK) {
		data_blob_free(&blob);
		return pcore_status_to_ntstatus(st);
	}
	*cookie = blob;
	return NT_STATUS_OK;
}

bool persistent_cookie_is_ours(const DATA_BLOB cookie)
{
	return pcore_cookie_is_ours(cookie.data, cookie.length) != 0;
}

/* Every field checked; inner points into cookie. */
NTSTATUS persistent_cookie_unwrap(const DATA_BLOB cookie,
				  uint64_t *persistent_id,
				  DATA_BLOB *inner)
{
	struct pcore_cookie parsed;
	pcore_status st;

	st = pcore_cookie_decode(cookie.data, cookie.length, &parsed);
	if (st != PCORE_OK) {
		DBG_WARNING("cookie of %zu bytes refused: %s\n",
			    cookie.length,
			    parsed.problem);
		return NT_STATUS_INVALID_PARAMETER;
	}
	*persistent_id = parsed.persistent_id;
	*inner = data_blob_const(cookie.data + parsed.inner_offset,
				 parsed.inner_len);
	return NT_STATUS_OK;
}
