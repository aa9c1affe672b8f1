#!/bin/sh
# samba-ca test suite entry: signing/ unit tests (known answers, round trips,
# tamper and bad-input cases) built by Samba's waf as samba_ca_signing_test.
#
# The runner sources .build/samba.env (SAMBA_TREE, SAMBA_BIN) first. Exit 0
# on pass, non-zero on failure. A missing binary is a failure, not a skip:
# the signing library is part of every build.

set -u

if [ -z "${SAMBA_TREE:-}" ]; then
	here=$(cd "$(dirname "$0")/../.." && pwd)
	if [ -f "$here/.build/samba.env" ]; then
		# shellcheck disable=SC1091
		. "$here/.build/samba.env"
	fi
fi
if [ -z "${SAMBA_TREE:-}" ]; then
	echo "signing_unit: SAMBA_TREE is not set (source .build/samba.env)" >&2
	exit 1
fi

dir="$SAMBA_TREE/bin/default/samba-ca/signing"
bin="$dir/samba_ca_signing_test"
if [ ! -x "$bin" ]; then
	# waf may place it elsewhere under bin/default; look before failing.
	bin=$(find "$SAMBA_TREE/bin/default" -type f -name samba_ca_signing_test \
		-perm -u+x 2>/dev/null | head -n 1)
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
	echo "signing_unit: samba_ca_signing_test not found under" \
		"$SAMBA_TREE/bin/default (was samba-ca built?)" >&2
	exit 1
fi

echo "signing_unit: running $bin"
"$bin"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "signing_unit: FAILED (exit $rc)" >&2
	exit 1
fi
echo "signing_unit: PASSED"
exit 0
