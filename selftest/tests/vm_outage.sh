#!/bin/bash
# samba-ca selftest: the outage harness for the kernel client.  In the client
# VM, lockhold takes an fcntl byte-range lock on a file of the built smbd's
# share and keeps writing (fsync after each block); midway the smbd process
# serving the VM's connection is killed with kill -9.  The client reconnects
# (to the still-running parent smbd), lockhold's writes go on, and at the end
# the file holds exactly what was written (lockhold verifies after dropping
# the page cache; the host compares smbclient's copy with the console's
# sha256).
#
# This is NOT a persistence test: on stock Samba 4.22 it passes too, because
# cifs.ko simply reopens the file (see DESIGN.md, "What proves persistence").
# It checks the machinery the persistence tests build on: the kill in the
# middle of the writes, the reconnect, the helper's retries, the timings.
#
# Exit 0 pass, non-zero fail.  Needs root and the Samba build.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
vm=$top/selftest/vm/vm.sh
vm_timeout=${VM_OUTAGE_TIMEOUT:-300}
nwrites=40
kill_after=8
# extra cifs mount options (e.g. nolease) via VM_OUTAGE_MOUNT_OPTS

# Sets tmp, ns, user, pass; defines smbd_* (selftest/lib/smbd.sh), inns, fail, secs.
tmp='' user='' pass='' ns=''
# shellcheck source-path=SCRIPTDIR source=../vm/smbd-lib.sh disable=SC1091
. "$top/selftest/vm/smbd-lib.sh"
t0=$(date +%s.%N)
smbd_lib_init vm_outage
smbd_start "$tmp" 127.0.0.1 || fail "smbd did not start"
echo "vm_outage: smbd $("$SAMBA_BIN/smbd" --version) on 127.0.0.1:445${ns:+ in netns $ns}"

cat >"$tmp/guest.sh" <<EOF
user='$user'
pass='$pass'
nwrites=$nwrites
mopts='${VM_OUTAGE_MOUNT_OPTS:-}'
EOF
cat >>"$tmp/guest.sh" <<'GUEST'
mkdir -p /mnt/s
mount -t cifs //198.18.200.2/share /mnt/s -o "username=$user,password=$pass,vers=3.1.1${mopts:+,$mopts}" || exit 10
lockhold -n "$nwrites" -i 250 -b 65536 -l 1048576 -r 90 /mnt/s/outage.bin
rc=$?
echo "GUEST lockhold exit $rc"
echo "GUEST sha256 $(sha256sum /mnt/s/outage.bin | cut -d' ' -f1)"
grep -E 'Reconnect|reconnect' /proc/fs/cifs/Stats /proc/fs/cifs/DebugData 2>/dev/null | sed 's/^/GUEST stats: /'
dmesg | grep -i cifs | tail -n 8 | sed 's/^/GUEST dmesg: /'
umount /mnt/s
exit $rc
GUEST

vm_args=(run "$tmp/guest.sh" --timeout "$vm_timeout")
[ -z "$ns" ] || vm_args+=(--net-ns "$ns")
stream=$tmp/console.log
v0=$(date +%s.%N)
"$vm" "${vm_args[@]}" >"$stream" 2>&1 &
vm_pid=$!

# Wait for the writes to be under way, then kill the smbd serving the VM.
killed=
while kill -0 "$vm_pid" 2>/dev/null; do
	if grep -aq "wrote $kill_after/$nwrites" "$stream"; then
		# What the server holds for the VM just before the kill: with a
		# write-caching lease cifs.ko may keep the byte-range lock local.
		inns "$SAMBA_BIN/smbstatus" -s "$tmp/smb.conf" -B >"$tmp/brl-before.txt" 2>&1 || true
		inns "$SAMBA_BIN/smbstatus" -s "$tmp/smb.conf" -L >"$tmp/locks-before.txt" 2>&1 || true
		killed=$(smbd_client_pids | tr '\n' ' ')
		[ -n "$killed" ] || fail "no smbd process with a client connection to kill"
		# shellcheck disable=SC2086
		kill -KILL $killed
		echo "vm_outage: after write $kill_after/$nwrites: kill -9 smbd $killed"
		break
	fi
	sleep 0.1
done
vm_rc=0
wait "$vm_pid" || vm_rc=$?
vm_secs=$(secs "$v0")
sed -n '/SAMBA_CA_VM_READY/,$p' "$stream" | grep -aE 'lockhold|GUEST|vm.sh:' | sed 's/^/  | /'

echo "vm_outage: smbstatus -B (byte-range locks) before the kill:"
sed 's/^/  | /' "$tmp/brl-before.txt"
echo "vm_outage: smbstatus -L (opens) before the kill:"
sed 's/^/  | /' "$tmp/locks-before.txt"
if sed -n '/Byte range locks/,$p' "$tmp/brl-before.txt" | grep -q 'outage.bin'; then
	server_lock=yes
else
	server_lock=no
fi

pass_n=0
fail_n=0
summary=()
check() { # what ok
	if [ "$2" = 1 ]; then pass_n=$((pass_n + 1)); summary+=("PASS  $1"); else
		fail_n=$((fail_n + 1)); summary+=("FAIL  $1"); fi
}
yes_if() { if "$@"; then echo 1; else echo 0; fi; }

check "smbd serving the VM killed with -9 midway (pids: ${killed:-none})" "$(yes_if test -n "$killed")"
check "the writes go on after the kill (reconnect)" \
	"$(yes_if grep -aq "wrote $nwrites/$nwrites" "$stream")"
check "lockhold: all $nwrites writes done and verified under its lock" \
	"$(yes_if grep -aq "OK: $nwrites writes" "$stream")"
want=$(grep -ao 'GUEST sha256 [0-9a-f]*' "$stream" | awk '{print $3}' | head -n1)
sca_smbclient "$tmp" 127.0.0.1 share "get outage.bin $tmp/back.bin" >"$tmp/get.log" 2>&1 || cat "$tmp/get.log" >&2
got=$(sha256sum <"$tmp/back.bin" 2>/dev/null | cut -d' ' -f1 || true)
check "smbclient reads the same file (sha256 ${got:0:16}...)" "$(yes_if test -n "$want" -a "$got" = "$want")"
check "VM run exit status 0 (got $vm_rc)" "$(yes_if test "$vm_rc" = 0)"

# The outage as lockhold saw it: the longest pause between two completed writes.
gap=$(grep -ao 'lockhold\[[0-9.]*\]: wrote [0-9]*' "$stream" |
	sed 's/lockhold\[\([0-9.]*\)\].*/\1/' |
	awk 'NR > 1 && $1 - p > g { g = $1 - p } { p = $1 } END { printf "%.1f", g }')

echo
echo "vm_outage: summary (stock behaviour expected to pass too: the client reopens)"
printf '  %s\n' "${summary[@]}"
echo "vm_outage: the server held the VM's byte-range lock before the kill: $server_lock (informational)"
echo "vm_outage: longest pause between two acknowledged writes: ${gap} s (writes every 0.25 s)"
echo "vm_outage: $pass_n passed, $fail_n failed; VM run ${vm_secs} s, test $(secs "$t0") s in all"
[ "$fail_n" = 0 ]
