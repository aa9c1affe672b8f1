/*
 * The one mapping from the persistent core's pcore_status to NTSTATUS, for
 * the C glue only: include it after Samba's includes.h (it uses Samba's
 * NT_STATUS_* constants and includes no Samba header itself).
 *
 * Reconnect failures follow [MS-SMB2] 3.3.5.9.12: a missing open, another
 * create GUID, another client GUID on a leased open, a lease mismatch, a
 * missing persistent flag or an open that is still connected all answer
 * STATUS_OBJECT_NAME_NOT_FOUND; another user STATUS_ACCESS_DENIED.  A
 * disconnected persistent open that blocks a new create answers
 * STATUS_FILE_NOT_AVAILABLE (3.3.5.9).  An expired open is gone as far as
 * the client can tell, and another share cannot hold it.
 */
#ifndef SAMBA_CA_PCORE_NTSTATUS_H
#define SAMBA_CA_PCORE_NTSTATUS_H

#include "persistent_core.h"

static inline NTSTATUS pcore_status_to_ntstatus(pcore_status status)
{
	switch (status) {
	case PCORE_OK:
		return NT_STATUS_OK;
	case PCORE_NOT_FOUND:
	case PCORE_EXPIRED:
	case PCORE_CREATE_GUID_MISMATCH:
	case PCORE_CLIENT_GUID_MISMATCH:
	case PCORE_LEASE_MISMATCH:
	case PCORE_PERSISTENT_FLAG_MISMATCH:
	case PCORE_SHARE_MISMATCH:
	case PCORE_NOT_DISCONNECTED:
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	case PCORE_USER_MISMATCH:
		return NT_STATUS_ACCESS_DENIED;
	case PCORE_FILE_NOT_AVAILABLE:
		return NT_STATUS_FILE_NOT_AVAILABLE;
	case PCORE_BREAK_PENDING:
		/* where the open cannot wait, it is refused as before */
		return NT_STATUS_FILE_NOT_AVAILABLE;
	case PCORE_ALREADY_EXISTS:
		return NT_STATUS_OBJECT_NAME_COLLISION;
	case PCORE_INVALID_PARAMETER:
		return NT_STATUS_INVALID_PARAMETER;
	case PCORE_CORRUPT_RECORD:
	case PCORE_UNKNOWN_VERSION:
		return NT_STATUS_INTERNAL_DB_CORRUPTION;
	case PCORE_LOCK_NOT_FOUND:
		return NT_STATUS_RANGE_NOT_LOCKED;
	case PCORE_TOO_MANY_LOCKS:
		return NT_STATUS_INSUFFICIENT_RESOURCES;
	case PCORE_STORE_FULL:
		return NT_STATUS_DISK_FULL;
	case PCORE_STORE_READ_ONLY:
		return NT_STATUS_MEDIA_WRITE_PROTECTED;
	case PCORE_STORE_IO_ERROR:
		return NT_STATUS_UNEXPECTED_IO_ERROR;
	case PCORE_STORE_CONFLICT:
		return NT_STATUS_RETRY;
	case PCORE_NO_MEMORY:
		return NT_STATUS_NO_MEMORY;
	case PCORE_NOT_CONNECTED:
	case PCORE_INTERNAL_ERROR:
	case PCORE_STATUS_COUNT:
		break;
	}
	return NT_STATUS_INTERNAL_ERROR;
}

#endif /* SAMBA_CA_PCORE_NTSTATUS_H */
