#!/bin/sh
# samba-ca test suite entry: smbclient3/ codec and NTLMSSP unit tests
# (samba_ca_smbclient3_pdu_test, samba_ca_smbclient3_ntlmssp_test, built by
# Samba's waf), then a brief run of the client PDU fuzz target
# (selftest/fuzz/client_pdu_fuzz.cc): libFuzzer under clang++-14 when it is
# installed, otherwise the standalone driver under g++ with ASan/UBSan.
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

# The fuzz target, briefly.
work=$(mktemp -d "${TMPDIR:-/tmp}/client_unit.XXXXXX")
trap 'rm -rf "$work"' EXIT
srcs="$top/signing/status.cc $top/smbclient3/client_status.cc
	$top/smbclient3/smb2_pdu.cc $top/smbclient3/framing.cc
	$top/smbclient3/ntlmssp.cc $top/selftest/fuzz/client_pdu_fuzz.cc"
flags="-std=c++17 -fno-exceptions -fno-rtti -O1 -g -I$top/smbclient3 -I$top/signing"
if command -v clang++-14 >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	if clang++-14 $flags -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $srcs -lcrypto \
		-o "$work/client_pdu_fuzz"; then
		echo "client_unit: libFuzzer run (20 s)"
		if ! "$work/client_pdu_fuzz" -max_total_time=20 \
			-artifact_prefix="$work/" 2>"$work/fuzz.log"; then
			tail -30 "$work/fuzz.log" >&2
			echo "client_unit: client_pdu_fuzz FAILED" >&2
			rc=1
		else
			tail -1 "$work/fuzz.log"
		fi
	else
		echo "client_unit: building client_pdu_fuzz failed" >&2
		rc=1
	fi
else
	# shellcheck disable=SC2086
	if g++ $flags -fsanitize=address,undefined -fno-sanitize-recover=undefined \
		-DCLIENT_FUZZ_STANDALONE $srcs -lcrypto -o "$work/client_pdu_fuzz"; then
		CLIENT_FUZZ_ITERATIONS=50000 "$work/client_pdu_fuzz" || rc=1
	else
		echo "client_unit: building client_pdu_fuzz failed" >&2
		rc=1
	fi
fi

if [ "$rc" -ne 0 ]; then
	echo "client_unit: FAILED" >&2
	exit 1
fi
echo "client_unit: PASSED"
exit 0
