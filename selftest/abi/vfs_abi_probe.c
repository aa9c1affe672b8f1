/*
 * A VFS module as a third party builds it for stock Samba 4.22:
 * selftest/tests/smbd_vfs_abi.sh compiles it against the unpatched
 * headers of the release and loads it, ahead of vfs_persistent, into the
 * patched smbd.
 *
 * It fills in connect_fn, the first slot of struct vfs_fn_pointers, and
 * freaddir_attr_fn, the last slot of 4.22's table.  If the patched smbd
 * read the table with another layout (a member inserted before the last
 * one), it would take freaddir_attr_fn for an op of its own and call it
 * where no directory is read: the log line below says so.
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

#include "includes.h"
#include "smbd/smbd.h"

#define ABI_PROBE_NAME "samba_ca_abi_probe"

static int abi_probe_connect(struct vfs_handle_struct *handle,
			     const char *service,
			     const char *user)
{
	DBG_ERR("abi-probe: connect to %s, interface version %d\n",
		service,
		SMB_VFS_INTERFACE_VERSION);
	return SMB_VFS_NEXT_CONNECT(handle, service, user);
}

/*
 * Touches none of its arguments: called through a shifted table they are
 * those of another op.
 */
static NTSTATUS abi_probe_freaddir_attr(struct vfs_handle_struct *handle,
					struct files_struct *fsp,
					TALLOC_CTX *mem_ctx,
					struct readdir_attr_data **attr_data)
{
	DBG_ERR("abi-probe: freaddir_attr_fn called\n");
	return NT_STATUS_NOT_SUPPORTED;
}

static struct vfs_fn_pointers abi_probe_fns = {
	.connect_fn = abi_probe_connect,
	.freaddir_attr_fn = abi_probe_freaddir_attr,
};

NTSTATUS samba_init_module(TALLOC_CTX *ctx);
NTSTATUS samba_init_module(TALLOC_CTX *ctx)
{
	return smb_register_vfs(SMB_VFS_INTERFACE_VERSION,
				ABI_PROBE_NAME,
				&abi_probe_fns);
}
