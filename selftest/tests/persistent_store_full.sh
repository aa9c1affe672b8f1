#!/usr/bin/env bash
# Bad input: the store cannot take a record.  The share's store
# (persistent:store) lives on a 2 MiB tmpfs of the test's own:
#   full       the tmpfs filled up: a persistent request is answered as a
#              durable open only (the create succeeds, the response has no
#              persistent flag), one log line says the open was not stored,
#              and no record of it is in the store or the journal; an open
#              granted before the disk filled still reconnects; after space
#              is freed, persistent grants work again;
#   read-only  the tmpfs remounted read-only with smbd stopped: smbd starts,
#              the share works, persistent requests get durable opens, the
#              log says why.
# Never acknowledged as persistent without being stored.
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.32
dir=$(mktemp -d /var/tmp/samba-ca-pfull.XXXXXX)
small="$dir/small"
pst_cleanup "$dir" 'umount "$small" 2>/dev/null'

mkdir -p "$small"
if ! mount -t tmpfs -o size=2m,mode=0755 samba-ca-pfull "$small"; then
	echo "SKIP: cannot mount a tmpfs (not root, or no mount rights)"
	exit 77
fi
pst_setup "$dir" "$addr" "	log level = 1 vfs:3
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no
	persistent:store = $small/persistent.tdb" || exit 1
smbd_start "$dir" "$addr" || exit 1
creds="$SCA_USER%$SCA_PASS"

pst_driver || exit 1
fail=0
# journal_has NAME: a journal entry names the file (records hold the path)
journal_has() { grep -qaF "$1" "$small/persistent.tdb.journal"; }
store_has() {
	PYTHONPATH="$SAMBA_TREE/bin/python" /usr/bin/python3 -c '
import sys, tdb
db = tdb.open(sys.argv[1])
sys.exit(0 if any(sys.argv[2].encode() in db[k] for k in db.keys()
                  if k.startswith(b"PH/open/")) else 1)' \
		"$small/persistent.tdb" "$1"
}

echo "== control: room on the store's file system"
send connect a "//$addr/ca" "$creds"
send open a before-full.dat 0x12019f 7 60000 RWH 1
check "persistent open granted" "^OK .*persistent=1"
store_has before-full.dat && echo "  ok: its record is stored" ||
	{ echo "  NOT OK: no record"; fail=1; }

echo "== full"
dd if=/dev/zero of="$small/filler" bs=4k status=none 2>/dev/null
df -k "$small" | awk 'NR==2 { print "  tmpfs: " $4 " KiB free" }'
send connect b "//$addr/ca" "$creds"
# The journal keeps a reserve (256 KiB) allocated past its end for the
# opens it holds, allocating a second one ahead; new opens are granted
# while the whole reserve is still there, so grants stop after the ahead
# part is used (a few hundred at most).
refused=
for i in $(seq 1 1000); do
	send open b "when-full-$i.dat" 0x12019f 7 60000 RWH 1
	if [[ "$reply" =~ ^OK.*persistent=1 ]]; then
		# every 50th: checking each would take minutes
		if [ $((i % 50)) -eq 1 ] && ! { store_has "when-full-$i.dat" &&
			journal_has "when-full-$i.dat"; }; then
			echo "  NOT OK: when-full-$i.dat granted as persistent, not stored"
			fail=1
		fi
		send close b
		continue
	fi
	refused=$i
	break
done
check "a persistent request on the full disk: only durable" \
	"^OK .*durable=1 persistent=0"
if [ -n "$refused" ] &&
	grep -q "when-full-$refused.dat: open [0-9]* not stored, so not persistent" \
		"$dir/log.smbd"; then
	echo "  ok: the log says it was not stored"
else
	echo "  NOT OK: no log line for when-full-${refused:-?}.dat"
	fail=1
fi
if [ -n "$refused" ] && { store_has "when-full-$refused.dat" ||
	journal_has "when-full-$refused.dat"; }; then
	echo "  NOT OK: a record of when-full-$refused.dat is stored"
	fail=1
else
	echo "  ok: no record of it in the store or the journal"
fi
# A's connection goes: its disconnect is an update of an open already
# granted, which the reserve has room for.
send drop a
sleep 0.5
send reconnect a
check "the open granted before still reconnects" "^OK .*same=yes"
send close a

echo "== space freed"
rm -f "$small/filler"
send open b after-full.dat 0x12019f 7 60000 RWH 1
check "persistent open granted again" "^OK .*persistent=1"
send close b
send drop b
send drop a

echo "== read-only"
smbd_stop "$dir"
mount -o remount,ro "$small" || { echo "FAIL: remount ro"; exit 1; }
smbd_start "$dir" "$addr" || exit 1
send connect a "//$addr/ca" "$creds"
check "tree connect works with a read-only store" "^OK"
send open a when-ro.dat 0x12019f 7 60000 RWH 1
check "open granted, but only durable" "^OK .*durable=1 persistent=0"
if grep -q "cannot open the persistent handle store $small/persistent.tdb" \
	"$dir/log.smbd" ||
	grep -q "cannot use the journal $small/persistent.tdb.journal" \
		"$dir/log.smbd"; then
	echo "  ok: the log names the store"
else
	echo "  NOT OK: no log line names the store"
	fail=1
fi
send close a
send quit
[ "$nfail" -eq 0 ] || fail=1
pst_smbd_healthy "$dir" || fail=1
exit $fail
