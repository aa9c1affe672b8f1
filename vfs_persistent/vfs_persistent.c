/*
 * vfs_persistent: continuously available shares with SMB3 persistent handles.
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
#include "core/persistent_core.h"

/*
 * The module is written against the VFS of Samba 4.22.  A different
 * interface version means the operations' signatures may have changed: stop
 * the build here rather than load a module that calls them wrongly.
 */
#if SMB_VFS_INTERFACE_VERSION != 50
#error "vfs_persistent is written for SMB_VFS_INTERFACE_VERSION 50 (Samba 4.22): port it to this Samba's VFS before building"
#endif

static int persistent_connect(struct vfs_handle_struct *handle,
			      const char *service,
			      const char *user)
{
	int ret;

	ret = SMB_VFS_NEXT_CONNECT(handle, service, user);
	if (ret < 0) {
		return ret;
	}

	DBG_INFO("share [%s]: %s\n", service, pcore_version());
	return 0;
}

static struct vfs_fn_pointers vfs_persistent_fns = {
	.connect_fn = persistent_connect,
};

static_decl_vfs;
NTSTATUS vfs_persistent_init(TALLOC_CTX *ctx)
{
	return smb_register_vfs(SMB_VFS_INTERFACE_VERSION,
				"persistent",
				&vfs_persistent_fns);
}
