#!/bin/sh
# samba-ca test suite entry: smbdirect/ unit tests (the [MS-SMBD] codecs,
# the connection engine's rules, the loopback transport and two engines
# exchanging data and RDMA reads and writes over it), built by Samba's waf
# as samba_ca_smbdirect_*_test.  The decoders' fuzz target runs in
# fuzz_smoke.sh with the others.
#
# Then samba_ca_smbdirect_rdma_probe: the rdma-core transport cannot run
# without an RDMA device, and this suite says so in a line of its own
# ("skipped: ...") instead of passing over it in silence.
#
# The runner sources .build/samba.env (SAMBA_TREE) first.  Exit 0 when
# every unit test passes, 1 otherwise; a missing binary is a failure.

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${SAMBA_TREE:-}" ] && [ -f "$top/.build/samba.env" ]; then
	# shellcheck disable=SC1091
	. "$top/.build/samba.env"
fi
if [ -z "${SAMBA_TREE:-}" ]; then
	echo "smbdirect_unit: SAMBA_TREE is not set (source .build/samba.env)" >&2
	exit 1
fi

# The binary waf built, where it normally is or anywhere under bin/default.
locate() {
	b="$SAMBA_TREE/bin/default/samba-ca/smbdirect/$1"
	if [ ! -x "$b" ]; then
		b=$(find "$SAMBA_TREE/bin/default" -type f -name "$1" -perm -u+x \
			2>/dev/null | head -n 1)
	fi
	echo "$b"
}

failed=0
for name in samba_ca_smbdirect_wire_test samba_ca_smbdirect_connection_test \
	samba_ca_smbdirect_loopback_test; do
	bin=$(locate "$name")
	if [ -z "$bin" ] || [ ! -x "$bin" ]; then
		echo "smbdirect_unit: $name not found under $SAMBA_TREE/bin/default" \
			"(was samba-ca built?)" >&2
		failed=1
		continue
	fi
	echo "smbdirect_unit: running $bin"
	if ! "$bin"; then
		echo "smbdirect_unit: $name FAILED" >&2
		failed=1
	fi
done

probe=$(locate samba_ca_smbdirect_rdma_probe)
skipped=
if [ -z "$probe" ] || [ ! -x "$probe" ]; then
	echo "smbdirect_unit: samba_ca_smbdirect_rdma_probe not found" >&2
	failed=1
else
	out=$("$probe")
	rc=$?
	echo "$out"
	if [ "$rc" -eq 77 ]; then
		skipped=" (skipped: the rdma-core transport, see the line above)"
	elif [ "$rc" -ne 0 ]; then
		echo "smbdirect_unit: rdma probe FAILED (exit $rc)" >&2
		failed=1
	fi
fi

if [ "$failed" -ne 0 ]; then
	echo "smbdirect_unit: FAILED" >&2
	exit 1
fi
echo "smbdirect_unit: PASSED$skipped"
exit 0
