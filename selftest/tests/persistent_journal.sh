#!/usr/bin/env bash
# The local store's journal carries persistent opens across a reboot.
# vfs_persistent keeps its TDB without syncs and makes each update durable
# with one synced append to <store>.journal; after a reboot (another boot
# id) the TDB's unsynced contents are not trusted and it is rebuilt from
# the journal.  A reboot is emulated: every smbd is killed with -9, the
# TDB is overwritten with garbage (what a power loss may leave of a file
# written without syncs), and the boot id file the module reads
# ("persistent:boot id file") gets a new id; then smbd starts again.
#   client A: persistent open (lease RWH, share mode READ), write, lock
#   [0,100); "reboot";  client B: open for write refused
#   (FILE_NOT_AVAILABLE), lock [0,10) on an attribute-only open refused;
#   A reconnects with DH2C: same file id, lease RWH, lock still held.
# Runs three times:
#   journal        the default: must pass, and log the rebuild;
#   torn tail      the same with a torn entry appended to the journal (a
#                  power loss in the middle of an append): must pass, and
#                  log the skipped bytes;
#   no journal     "persistent:journal = no": the TDB alone, overwritten:
#                  must FAIL (so the scenario depends on the journal).
# Bad input: a journal with a damaged header: the store is not used (the
# open is granted without persistence, and says so), one log line names
# the journal, and the journal file is left byte for byte as it was.
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.28
dir=$(mktemp -d /var/tmp/samba-ca-pjrnl.XXXXXX)
pst_cleanup "$dir"


pst_setup "$dir" "$addr" "	log level = 1 vfs:3
	smb3 global cap:PERSISTENT HANDLES = yes
	persistent:boot id file = $dir/boot_id" "	posix locking = no" || exit 1
store="$dir/state/persistent.tdb"
journal="$store.journal"
creds="$SCA_USER%$SCA_PASS"
cat /proc/sys/kernel/random/uuid >"$dir/boot_id"
smbd_start "$dir" "$addr" || exit 1

pst_driver || exit 1

log_has() {
	grep -q -- "$1" "$dir/log.smbd"
}

# reboot [torn]: kill every smbd, garbage over the TDB, a new boot id,
# optionally a torn entry at the journal's end; start smbd again
reboot() {
	# all at once, as a power loss: no smbd gets to disconnect an open
	# (the children have another argv, but smbd_start's session)
	local sid
	sid=$(ps -o sid= -p "$(cat "$dir/smbd.pid")" | tr -d ' ')
	[ -n "$sid" ] && pkill -KILL -s "$sid"
	smbd_stop "$dir"
	head -c 65536 /dev/urandom >"$store"
	cat /proc/sys/kernel/random/uuid >"$dir/boot_id"
	if [ "${1:-}" = torn ]; then
		# an entry magic and a length, and less payload than that
		printf 'PHJE\200\001\000\000' >>"$journal"
		head -c 40 /dev/urandom >>"$journal"
	fi
	smbd_start "$dir" "$addr"
}

# scenario NAME [torn]: the whole story; sets nfail
scenario() {
	local name=$1 how=${2:-}
	nfail=0
	send connect a "//$addr/ca" "$creds"
	send open a "$name" 0x12019f 1 60000 RWH 1
	check "A: persistent open granted with lease RWH" \
		"^OK .*persistent=1 .*lease=RWH"
	send write a 0 "payload-$name"
	send lock a 0 100
	check "A: lock [0,100)" "^OK"
	echo "  reboot (kill -9, TDB overwritten, new boot id${how:+, torn journal tail})"
	reboot "$how" || { nfail=$((nfail + 1)); return; }
	send connect b "//$addr/ca" "$creds"
	send plain b "$name" 0x12019f 7
	check "B: open for write refused: FILE_NOT_AVAILABLE" "^ERR 0xc0000467"
	send plain b "$name" 0x80 7
	send lock b 0 10
	check "B: lock [0,10) refused" "^ERR 0xc000005[45]"
	send close b
	send reconnect a
	check "A: DH2C reconnect, same file id, lease RWH" \
		"^OK .*same=yes lease=RWH"
	send read a 0 $((8 + ${#name}))
	check "A: data intact" "^OK payload-$name\$"
	send plain b "$name" 0x80 7
	send lock b 0 10
	check "B: lock [0,10) still refused after A's reconnect" \
		"^ERR 0xc000005[45]"
	send close b
	send unlock a 0 100
	check "A: unlock of its lock taken back" "^OK"
	send close a
	send drop b
	send drop a
}

fail=0
echo "== journal (default)"
scenario j-plain.dat
if [ "$nfail" -ne 0 ]; then
	echo "FAIL: $nfail checks not met with the journal"
	fail=1
fi
if log_has "rebuilt from its journal"; then
	echo "  ok: the rebuild is logged"
else
	echo "FAIL: no log line of the rebuild"
	fail=1
fi
if log_has "1 persistent opens of the previous boot disconnected"; then
	echo "  ok: A's open disconnected by the rebuild (no pid check)"
else
	echo "FAIL: no log line of the previous boot's opens disconnected"
	fail=1
fi

echo "== journal with a torn tail"
scenario j-torn.dat torn
if [ "$nfail" -ne 0 ]; then
	echo "FAIL: $nfail checks not met with a torn journal tail"
	fail=1
fi
if log_has "bytes of damaged or torn entries skipped"; then
	echo "  ok: the skipped bytes are logged"
else
	echo "FAIL: no log line of the torn entry"
	fail=1
fi

# Compaction: B's smbd rewrites the journal (over 1 MiB of lock updates)
# while A's smbd holds the old file open; A's next update must land in the
# new file (A's smbd acts as the user, the journal is root's 0600), and a
# rebuild must still give A both its locks.
echo "== compaction by one smbd, appends by another"
nfail=0
send connect a "//$addr/ca" "$creds"
send open a j-compact.dat 0x12019f 7 60000 RWH 1
check "A: persistent open" "^OK .*persistent=1"
send lock a 0 100
send connect b "//$addr/ca" "$creds"
send open b j-churn.dat 0x12019f 7 60000 RWH 1
send bench_lock b 3000
check "B: 3000 lock+unlock" "^OK 3000"
size=$(stat -c %s "$journal")
if [ "$size" -lt 1048576 ]; then
	echo "  ok: journal compacted ($size bytes after ~3 MB of updates)"
else
	echo "  NOT OK: journal not compacted: $size bytes"
	nfail=$((nfail + 1))
fi
send lock a 200 10
check "A: lock [200,210) after B's smbd rewrote the journal" "^OK"
send close b
send drop b
reboot || nfail=$((nfail + 1))
send reconnect a
check "A: DH2C reconnect after the rebuild" "^OK .*same=yes lease=RWH"
send connect b "//$addr/ca" "$creds"
send plain b j-compact.dat 0x80 7
send lock b 205 1
check "B: lock in A's second range refused" "^ERR 0xc000005[45]"
send lock b 50 1
check "B: lock in A's first range refused" "^ERR 0xc000005[45]"
send close b
send drop b
send close a
send drop a
if [ "$nfail" -ne 0 ]; then
	echo "FAIL: $nfail checks not met across a compaction"
	fail=1
fi

echo "== bad input: journal header damaged"
smbd_stop "$dir"
printf 'XX' | dd of="$journal" bs=1 seek=0 conv=notrunc status=none
before=$(sha256sum <"$journal")
smbd_start "$dir" "$addr" || fail=1
send connect a "//$addr/ca" "$creds"
send open a j-bad.dat 0x12019f 1 60000 RWH 1
if [[ "$reply" =~ ^OK && ! "$reply" =~ persistent=1 ]] ||
	[[ "$reply" =~ ^ERR ]]; then
	echo "  ok: not granted as persistent ($reply)"
else
	echo "FAIL: granted as persistent with an unusable journal"
	fail=1
fi
send close a
send drop a
if log_has "cannot use the journal $journal"; then
	echo "  ok: the log names the journal"
else
	echo "FAIL: no log line names $journal"
	fail=1
fi
if [ "$(sha256sum <"$journal")" = "$before" ]; then
	echo "  ok: the journal is left as it was"
else
	echo "FAIL: the damaged journal was changed"
	fail=1
fi

echo "== control: persistent:journal = no"
smbd_stop "$dir"
rm -f "$journal" "$store"
sed -i "/^\[global\]/a\\	persistent:journal = no" "$dir/smb.conf"
smbd_start "$dir" "$addr" || fail=1
scenario n-plain.dat
if [ "$nfail" -eq 0 ]; then
	echo "FAIL: without the journal the open survived an overwritten TDB:" \
		"the scenario does not test the journal"
	fail=1
else
	echo "  as expected, without the journal the open is lost" \
		"($nfail checks not met)"
fi
if [ -e "$journal" ]; then
	echo "FAIL: a journal was written with persistent:journal = no"
	fail=1
fi

send quit
pst_smbd_healthy "$dir" || fail=1
exit $fail
