#!/bin/sh
# samba-ca test suite entry: smbclient3/ codec and NTLMSSP unit tests
# (samba_ca_smbclient3_pdu_test, samba_ca_smbclient3_ntlmssp_test, built by
# Samba's waf).  The client PDU fuzz target runs in fuzz_smoke.sh with the
# other fuzz targets.
#
# The runner sources .build/samba.env (SAMBA_TREE, SAMBA_BIN) first. Exit 0
# on pass, non-zero on failure; a missing test binary is a failure.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${SAMBA_TREE:-}" ] && [ -f "$top/.build/samba.env" ]; then
	# shellcheck disable=SC1091
	. "$top/.build/samba.env"
fi
if [ -z "${SAMBA_TREE:-}" ]; then
	echo "client_unit: SAMBA_TREE is not set (source .build/samba.env)" >&2
	exit 1
fi

find_bin() {
	local b="$SAMBA_TREE/bin/default/samba-ca/smbclient3/$1"
	if [ ! -x "$b" ]; then
		b=$(find "$SAMBA_TREE/bin/default" -type f -name "$1" -perm -u+x \
			2>/dev/null | head -n 1)
	fi
	echo "$b"
}

rc=0
for t in samba_ca_smbclient3_pdu_test samba_ca_smbclient3_ntlmssp_test; do
	bin=$(find_bin "$t")
	if [ -z "$bin" ] || [ ! -x "$bin" ]; then
		echo "client_unit: $t not found under $SAMBA_TREE/bin/default" \
			"(was samba-ca built?)" >&2
		rc=1
		continue
	fi
	echo "client_unit: running $bin"
	if ! "$bin"; then
		echo "client_unit: $t FAILED" >&2
		rc=1
	fi
done

if [ "$rc" -ne 0 ]; then
	echo "client_unit: FAILED" >&2
	exit 1
fi
echo "client_unit: PASSED"
exit 0
