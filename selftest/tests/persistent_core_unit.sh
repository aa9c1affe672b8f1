#!/bin/sh
# samba-ca test suite entry: unit tests of the persistent-handle core
# (persistent_core: record codec, handle table, journal, journaled store,
# C API), built by Samba's waf as samba_ca_persistent_*_test.
#
# The runner sources .build/samba.env (SAMBA_TREE) first. Exit 0 when every
# test binary passes, 1 otherwise. A missing binary is a failure, not a skip:
# the core is part of every build.

set -u

if [ -z "${SAMBA_TREE:-}" ]; then
	here=$(cd "$(dirname "$0")/../.." && pwd)
	if [ -f "$here/.build/samba.env" ]; then
		# shellcheck disable=SC1091
		. "$here/.build/samba.env"
	fi
fi
if [ -z "${SAMBA_TREE:-}" ]; then
	echo "persistent_core_unit: SAMBA_TREE is not set" \
		"(source .build/samba.env)" >&2
	exit 1
fi

dir="$SAMBA_TREE/bin/default/samba-ca/vfs_persistent"
failed=0
for name in samba_ca_persistent_record_test \
	samba_ca_persistent_handle_table_test \
	samba_ca_persistent_journal_test \
	samba_ca_persistent_journaled_store_test \
	samba_ca_persistent_cookie_test \
	samba_ca_persistent_conflict_test \
	samba_ca_persistent_c_api_test \
	samba_ca_handles_view_test; do
	bin="$dir/$name"
	if [ ! -x "$bin" ]; then
		# waf may place it elsewhere under bin/default; look before failing.
		bin=$(find "$SAMBA_TREE/bin/default" -type f -name "$name" \
			-perm -u+x 2>/dev/null | head -n 1)
	fi
	if [ -z "$bin" ] || [ ! -x "$bin" ]; then
		echo "persistent_core_unit: $name not found under" \
			"$SAMBA_TREE/bin/default (was samba-ca built?)" >&2
		failed=1
		continue
	fi
	echo "persistent_core_unit: running $bin"
	"$bin"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "persistent_core_unit: $name FAILED (exit $rc)" >&2
		failed=1
	fi
done

if [ "$failed" -ne 0 ]; then
	echo "persistent_core_unit: FAILED" >&2
	exit 1
fi
echo "persistent_core_unit: PASSED"
exit 0
