#!/usr/bin/env bash
# The patch series keeps the VFS binary interface of stock Samba 4.22, so
# that a distribution can run third-party VFS modules built for 4.22 on the
# patched smbd (issue 15: a member inserted into struct vfs_fn_pointers
# under the same SMB_VFS_INTERFACE_VERSION shifts every module's table).
#
# Static: selftest/abi/vfs_layout.py turns the struct definitions of the
# release's own source3/include/vfs.h (from the orig tarball the build was
# made from) into a program that prints SMB_VFS_INTERFACE_VERSION, the size
# of each struct and the offset of each member.  It is compiled twice with
# the flags the build used for a stock VFS module (vfs_syncops), once
# against the release's headers and once against the patched tree's, and
# the two outputs must agree: the version, struct vfs_fn_pointers and
# struct vfs_handle_struct entirely, and every member of the other structs
# at the same offset (only connection_struct, which smbd alone allocates,
# may grow at its end).
#
# At run time: selftest/abi/vfs_abi_probe.c, built against the release's
# headers as a third party would build it, is loaded into the patched smbd
# ahead of vfs_persistent on a CA share; a persistent create through it is
# granted, smbd registered the probe and ran its connect_fn, and never
# called its freaddir_attr_fn (the last slot of 4.22's table) in place of
# another op; vfs_persistent registered its hooks.  A persistent open left
# by a dropped connection expires in smbd's scavenger through
# vfs_persistent's scavenger hook, and the scavenger loaded vfs_persistent
# but not the probe (a module that registered no scavenger hook).
#
# On the series with the VFS op (patch 0007 before issue 15) the struct
# checks fail (vfs_fn_pointers 8 bytes larger, freaddir_attr_fn moved),
# smbd calls the probe's freaddir_attr_fn for every persistent create,
# and the scavenger loads every module of "vfs objects", the probe too.
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.51
dir=$(mktemp -d /var/tmp/samba-ca-vfsabi.XXXXXX)
# smbd loads a module named in "vfs objects" only from its modules
# directory ("preload modules" would take a path, but a VFS module loaded
# that way keeps smbd from registering its built-in ones): the probe is
# there for the test only.
probe="$SAMBA_BIN/modules/vfs/samba_ca_abi_probe.so"
pst_cleanup "$dir" "rm -f '$probe'"
passed=0
failed=0

result() {
	if [ "$1" = 0 ]; then
		echo "PASS: $2"
		passed=$((passed + 1))
	else
		echo "FAIL: $2"
		failed=$((failed + 1))
	fi
}

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ] && exit 0
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# --- the release's headers ---------------------------------------------------
cache=$(dirname "$(dirname "$SAMBA_TREE")")
orig=$(ls "$cache/src/$SAMBA_VERSION"/samba_*.orig.tar.xz 2>/dev/null | head -1)
[ -n "$orig" ] || skip "no orig tarball of $SAMBA_VERSION under $cache/src"
commands="$SAMBA_TREE/bin/default/compile_commands.json"
[ -f "$commands" ] || skip "no $commands"

mkdir -p "$dir/stock"
tar -C "$dir/stock" -xf "$orig" --wildcards '*.h' ||
	skip "cannot unpack the headers of $orig"
stock=$(ls -d "$dir"/stock/samba-*/)
stock=${stock%/}
echo "stock headers: $stock (from $(basename "$orig"))"
echo "patched tree:  $SAMBA_TREE"

# cflags ROOT: the build's flags for a stock VFS module, its source
# directories under ROOT (the generated headers stay the build's).
cflags() {
	/usr/bin/python3 - "$commands" "$1" "$SAMBA_TREE/bin/default" <<'EOF'
import json, os, sys
commands, root, gen = sys.argv[1:]
entries = json.load(open(commands))
entry = next((e for e in entries
              if e["file"].endswith("source3/modules/vfs_syncops.c")), None)
if entry is None:
    sys.exit("no compile command of vfs_syncops.c")
out, skip_next = [], False
for a in entry["arguments"][1:]:
    if skip_next:
        skip_next = False
        continue
    if a in ("gcc", "cc", "-MMD", "-c") or a == entry["file"] or \
       a.startswith("-o") or a.startswith("-DSTATIC_"):
        continue
    if a.startswith("-I../../"):
        a = "-I" + os.path.join(root, a[len("-I../../"):])
    elif a.startswith("-I") and not a.startswith("-I/"):
        a = "-I" + os.path.normpath(os.path.join(gen, a[2:]))
    out.append(a)
print("\n".join(out))
EOF
}

mapfile -t stock_flags < <(cflags "$stock") || skip "no build flags"
mapfile -t patched_flags < <(cflags "$SAMBA_TREE")
[ ${#stock_flags[@]} -gt 10 ] || skip "no build flags for a VFS module in $commands"

# --- static: the layout seen by a module ------------------------------------
echo "== layout of the structs of vfs.h"
/usr/bin/python3 "$SAMBA_CA_TOP/selftest/abi/vfs_layout.py" \
	"$stock/source3/include/vfs.h" "$dir/layout.c" || exit 1
for side in stock patched; do
	if [ $side = stock ]; then
		flags=("${stock_flags[@]}")
	else
		flags=("${patched_flags[@]}")
	fi
	if ! gcc "${flags[@]}" -w "$dir/layout.c" -o "$dir/layout-$side" \
		>"$dir/layout-$side.cc.log" 2>&1; then
		head -20 "$dir/layout-$side.cc.log"
		result 1 "the layout program compiles against the $side headers"
		finish
	fi
	"$dir/layout-$side" >"$dir/layout-$side.txt" || exit 1
done
echo "  $(grep -c '^offset' "$dir/layout-stock.txt") members of" \
	"$(grep -c '^size' "$dir/layout-stock.txt") structs"

grep '^version' "$dir/layout-stock.txt" "$dir/layout-patched.txt"
diff <(grep '^version' "$dir/layout-stock.txt") \
	<(grep '^version' "$dir/layout-patched.txt") >/dev/null
result $? "SMB_VFS_INTERFACE_VERSION is the release's"

for s in vfs_fn_pointers vfs_handle_struct; do
	grep "^size struct $s " "$dir/layout-stock.txt" "$dir/layout-patched.txt"
	diff <(grep " struct $s " "$dir/layout-stock.txt") \
		<(grep " struct $s " "$dir/layout-patched.txt") >"$dir/$s.diff"
	rc=$?
	head -10 "$dir/$s.diff"
	result $rc "struct $s: same size, every member at the release's offset"
done

# Every other struct: the members a module knows at the same offsets;
# the same size but for connection_struct (appended to, allocated by smbd).
diff <(grep '^offset' "$dir/layout-stock.txt") \
	<(grep '^offset' "$dir/layout-patched.txt") >"$dir/offsets.diff"
rc=$?
head -10 "$dir/offsets.diff"
result $rc "every member of every struct of vfs.h at the release's offset"
diff <(grep '^size' "$dir/layout-stock.txt" | grep -v ' connection_struct ') \
	<(grep '^size' "$dir/layout-patched.txt" | grep -v ' connection_struct ') \
	>"$dir/sizes.diff"
rc=$?
head -10 "$dir/sizes.diff"
result $rc "every struct of vfs.h but connection_struct of the release's size"

# --- run time: a module built for 4.22 in the patched smbd -------------------
echo "== a module built against the release's headers, in the patched smbd"
if ! gcc "${stock_flags[@]}" -shared -fPIC \
	"$SAMBA_CA_TOP/selftest/abi/vfs_abi_probe.c" -o "$probe" \
	>"$dir/probe.cc.log" 2>&1; then
	head -20 "$dir/probe.cc.log"
	result 1 "the probe module builds against the release's headers"
	finish
fi

pst_setup "$dir" "$addr" "	log level = 1 vfs:5
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no" || exit 1
sed -i -e 's/^\(\tvfs objects = \)\(.*\)$/\1samba_ca_abi_probe \2/' \
	"$dir/smb.conf"
grep -q "vfs objects = samba_ca_abi_probe persistent" "$dir/smb.conf" ||
	exit 1
"$SAMBA_BIN/testparm" -s "$dir/smb.conf" >"$dir/testparm.out" 2>&1
result $? "testparm takes the configuration"
smbd_start "$dir" "$addr" || exit 1

pst_driver || exit 1
send connect a "//$addr/ca" "$SCA_USER%$SCA_PASS"
send open a abi.bin 0x12019f 1 60000 RWH 1
[[ "$reply" =~ ^OK\ .*persistent=1 ]]
result $? "a persistent create through the probe's share is granted"
send close a

# The scavenger: a persistent open left by a dropped connection (no client
# stays connected) expires there; the scavenger loaded vfs_persistent,
# which registered a scavenger hook, and not the probe, which did not.
send open a scav.bin 0x12019f 1 3000 RWH 1
[[ "$reply" =~ ^OK\ .*persistent=1 ]]
result $? "a persistent open with a 3 s timeout is granted"
send drop a
for _ in $(seq 1 40); do
	grep -q "persistent open [0-9]* of \[ca\] scav.bin expired" \
		"$dir/log.smbd" && break
	sleep 0.5
done
grep "scavenger: expiry timer on\|scav.bin expired" "$dir/log.smbd"
grep -q "scavenger: expiry timer on" "$dir/log.smbd" &&
	grep -q "persistent open [0-9]* of \[ca\] scav.bin expired" \
		"$dir/log.smbd"
result $? "the open expired in the scavenger, through its hook"
scavenger=
for p in $(pgrep -P "$(cat "$dir/smbd.pid")"); do
	if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = smbd-scavenger ]; then
		scavenger=$p
	fi
done
echo "  scavenger: ${scavenger:-none}"
persistent_so=$(readlink -f "$SAMBA_BIN/modules/vfs/persistent.so")
[ -n "$scavenger" ] && grep -qF "$persistent_so" "/proc/$scavenger/maps"
result $? "the scavenger loaded vfs_persistent"
if [ -n "$scavenger" ] &&
	! grep -q "samba_ca_abi_probe" "/proc/$scavenger/maps"; then
	result 0 "the scavenger did not load the module without a hook"
else
	result 1 "the scavenger did not load the module without a hook"
fi

grep -q "Successfully added vfs backend 'samba_ca_abi_probe'" "$dir/log.smbd"
result $? "smbd registered the module built for the release"
grep -q "abi-probe: connect to ca, interface version 50" "$dir/log.smbd"
result $? "its connect_fn ran on [ca]"
grep -q "persistent handle hooks of VFS module persistent registered" \
	"$dir/log.smbd"
result $? "vfs_persistent came in through the hooks registry"
if grep "abi-probe: freaddir_attr_fn called" "$dir/log.smbd"; then
	result 1 "smbd called its freaddir_attr_fn for another op"
else
	result 0 "smbd never called its freaddir_attr_fn for another op"
fi
pst_smbd_healthy "$dir"
result $? "smbd is healthy"

finish
