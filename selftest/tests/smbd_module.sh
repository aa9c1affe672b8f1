#!/usr/bin/env bash
# Integration: the built smbd loads vfs_persistent on a share (testparm-clean)
# and a file written through smbclient reads back identical, on the CA share
# and on a plain share.
set -euo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"

addr=127.0.0.11
dir=$(mktemp -d /var/tmp/samba-ca-smbd.XXXXXX)
trap 'smbd_stop "$dir"; echo "logs kept in $dir"' EXIT

smbd_setup "$dir" "$addr" "	log level = 1 vfs:3"

echo "== testparm"
if ! "$SAMBA_BIN/testparm" -s "$dir/smb.conf" >"$dir/testparm.out" 2>"$dir/testparm.err"; then
	cat "$dir/testparm.err"
	echo "FAIL: testparm rejects the config"
	exit 1
fi
if grep -Ei 'unknown parameter|ignoring|error' "$dir/testparm.err"; then
	echo "FAIL: testparm complains"
	exit 1
fi
grep -q "vfs objects = .*persistent" "$dir/testparm.out"

echo "== smbd on $addr"
smbd_start "$dir" "$addr"

head -c 5M /dev/urandom >"$dir/in.bin"
want=$(sha256sum <"$dir/in.bin" | cut -d' ' -f1)
for share in ca plain; do
	sca_smbclient "$dir" "$addr" "$share" "put $dir/in.bin file.bin" >/dev/null
	rm -f "$dir/out.bin"
	sca_smbclient "$dir" "$addr" "$share" "get file.bin $dir/out.bin" >/dev/null
	got=$(sha256sum <"$dir/out.bin" | cut -d' ' -f1)
	echo "[$share] wrote $want, read $got"
	[ "$want" = "$got" ] || { echo "FAIL: checksum differs on [$share]"; exit 1; }
done

# The module's connect line proves it is in the share's VFS stack.
if ! grep -q "share \[ca\]: samba-ca-core" "$dir/log.smbd"; then
	echo "FAIL: no vfs_persistent connect line in $dir/log.smbd"
	exit 1
fi
if grep -q "share \[plain\]: samba-ca-core" "$dir/log.smbd"; then
	echo "FAIL: vfs_persistent loaded on [plain]"
	exit 1
fi
echo "module loaded on [ca] only; checksums equal"
