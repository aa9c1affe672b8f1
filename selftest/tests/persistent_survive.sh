#!/usr/bin/env bash
# A persistent open survives kill -9 of the smbd serving it and a full smbd
# restart, on a vfs_persistent share, with the project's scripted client
# (smbclient3/persistent_driver.cc: its own SMB3 connections, one client
# GUID per client):
#   client A: persistent DH2Q (timeout 60 s), lease RWH, share mode READ,
#   writes, locks [0,100) exclusively;  then kill -9 of A's smbd (or a stop
#   of every smbd and a start: the volatile TDBs come back empty);
#   while A is disconnected, client B (another client GUID and session):
#   - an open for write            -> STATUS_FILE_NOT_AVAILABLE
#   - an open for read (no share-mode conflict, but A's write caching
#     would have to be broken: A's lease has Handle caching, so the break
#     waits for A)                 -> an interim response and no answer
#     (persistent_semantics_handle_wait.sh follows it to its end)
#   - an attribute-only open       -> granted; its lock on [0,10) is refused
#     (LOCK_NOT_GRANTED / FILE_LOCK_CONFLICT), a lock on [200,210) is not;
#   A reconnects with DH2C: same persistent file id, lease RWH, data intact,
#   B's lock on [0,10) still refused, A's unlock works, then B's lock works.
#   Batch oplock: A's persistent open with a batch oplock and share mode
#   RWD, left by a dropped connection or kill -9: B's open for read is
#   refused with STATUS_FILE_NOT_AVAILABLE (the break cannot be delivered),
#   B's attribute-only open (no break) is granted, and A's DH2C gets the
#   batch oplock back.
#   Expiry: A's open with timeout 3 s, kill -9, B refused a lock in the
#   window; after 5 s B gets the lock and a write open, the record is gone.
#   Expiry by the timer: A's open (timeout 3 s) left by kill -9 of its smbd,
#   and again by a dropped connection, while B is connected and idle: with
#   no client request, the record is gone from the store (tdbdump) after
#   scan interval + timeout + margin, and one log line names the file.
# The controls: the same windows (kill -9 and a restart) on a share
# without the module that only forces the CA bit ("smb3 share
# cap:CONTINUOUS AVAILABILITY = yes"), through pst_stock_window: stock smbd
# grants A a durable handle (no persistent one), and must fail at the
# guarantee (B granted the conflicting open or the lock in the window, or
# A's DH2C refused); a control that fails earlier, or passes, fails the
# test (ctl_verdict).
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.25
dir=$(mktemp -d /var/tmp/samba-ca-psurv.XXXXXX)
pst_cleanup "$dir"
fail=0


pst_setup "$dir" "$addr" "	log level = 1 vfs:5
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no
	persistent:scan interval = 1" || exit 1
pst_add_stock_share "$dir" stock
smbd_start "$dir" "$addr" || exit 1
store="$dir/state/persistent.tdb"
creds="$SCA_USER%$SCA_PASS"

pst_driver || exit 1

serving_pid() {
	pst_serving_pids "$dir"
}

store_ids() {
	PYTHONPATH="$SAMBA_TREE/bin/python" /usr/bin/python3 -c '
import sys, tdb
db = tdb.open(sys.argv[1])
for k in db.keys():
    if k.startswith(b"PH/open/"):
        print(int(k[8:].decode(), 16))' "$store" 2>/dev/null
}

RW=0x12019f
READ=0x120089
ATTR=0x80

# scenario SHARE EVENT NAME: EVENT kill (kill -9 of A's smbd) or restart
scenario() {
	local share=$1 event=$2 name=$3 pids
	nfail=0
	echo "== [$share] $event: $name"
	send connect a "//$addr/$share" "$creds"
	send open a "$name" $RW 1 60000 RWH 1
	check "A: persistent open granted with lease RWH" \
		"^OK .*persistent=1 .*lease=RWH"
	send write a 0 "payload-$event"
	send lock a 0 100
	check "A: lock [0,100)" "^OK"
	pids=$(serving_pid)
	if [ "$event" = kill ]; then
		echo "  kill -9 of the smbd serving A: $pids"
		[ -n "$pids" ] && kill -KILL $pids
		sleep 1
	else
		echo "  stopping every smbd, starting again"
		smbd_stop "$dir"
		smbd_start "$dir" "$addr" || { nfail=$((nfail + 1)); return; }
	fi
	send connect b "//$addr/$share" "$creds"
	send plain b "$name" $RW 7
	check "B: open for write refused: FILE_NOT_AVAILABLE" "^ERR 0xc0000467"
	# a second connection of B's: its open waits, and goes with it
	send connect b2 "//$addr/$share" "$creds"
	send plain_async b2 "$name" $READ 7
	send poll b2 2000
	check "B: open for read waits for A (A's lease RWH must break): interim, no answer for 2 s" \
		"interim=yes answered=no"
	send drop b2
	send plain b "$name" $ATTR 7
	check "B: attribute-only open granted" "^OK"
	send lock b 0 10
	check "B: lock [0,10) refused" "^ERR 0xc000005[45]"
	send lock b 200 10
	check "B: lock [200,210) granted (locks work on B's handle)" "^OK"
	send unlock b 200 10
	send reconnect a
	check "A: DH2C reconnect, same file id, lease RWH" \
		"^OK .*same=yes lease=RWH"
	send read a 0 $((8 + ${#event}))
	check "A: data intact" "^OK payload-$event\$"
	send lock b 0 10
	check "B: lock [0,10) still refused after A's reconnect" \
		"^ERR 0xc000005[45]"
	send unlock a 0 100
	check "A: unlock of its lock [0,100) taken back" "^OK"
	send lock b 0 10
	check "B: lock [0,10) granted after A's unlock" "^OK"
	send unlock b 0 10
	send close b
	send close a
	check "A: close" "^OK"
	# B's connection ends, so that only A's smbd serves a client next
	send drop b
	sleep 0.5
}

scenario ca kill f-kill.dat
ca_kill=$nfail
scenario ca restart f-restart.dat
ca_restart=$nfail

# batch_oplock EVENT: A's open has a batch oplock and shares everything, so
# only the oplock stands in B's way; EVENT drop (A's connection is lost)
# or kill (kill -9 of A's smbd)
batch_oplock() {
	local event=$1 name=f-batch-$1.dat pids
	nfail=0
	echo "== [ca] batch oplock, $event"
	send connect a "//$addr/ca" "$creds"
	send open a "$name" $RW 7 60000 - 1
	check "A: persistent open granted with a batch oplock" \
		"^OK .*persistent=1 .*oplock=0x09"
	if [ "$event" = kill ]; then
		pids=$(serving_pid)
		echo "  kill -9 of the smbd serving A: $pids"
		[ -n "$pids" ] && kill -KILL $pids
	else
		send drop a
	fi
	sleep 1
	send connect b "//$addr/ca" "$creds"
	send plain b "$name" $READ 7
	check "B: open for read refused: FILE_NOT_AVAILABLE (A's batch oplock)" \
		"^ERR 0xc0000467"
	send plain b "$name" $ATTR 7
	check "B: attribute-only open granted (no break needed)" "^OK"
	send close b
	send reconnect a
	check "A: DH2C reconnect, same file id, batch oplock" \
		"^OK .*same=yes .*oplock=0x09"
	send close a
	check "A: close" "^OK"
	send drop b
	sleep 0.5
}

batch_oplock drop
batch_drop=$nfail
batch_oplock kill
batch_kill=$nfail

echo "== [ca] expiry"
nfail=0
send connect a "//$addr/ca" "$creds"
send open a f-exp.dat $RW 7 3000 RH 1
check "A: persistent open, timeout 3000 ms" "^OK .*persistent=1 timeout=3000"
send lock a 0 100
id=$(store_ids | head -1)
pids=$(serving_pid)
echo "  record $id; kill -9 of $pids"
[ -n "$pids" ] && kill -KILL $pids
sleep 1
send connect b "//$addr/ca" "$creds"
send plain b f-exp.dat $RW 7
send lock b 0 10
check "B: lock [0,10) refused in the window" "^ERR 0xc000005[45]"
send close b
sleep 5
send plain b f-exp.dat $RW 0
check "B: exclusive open for write granted after expiry" "^OK"
send lock b 0 10
check "B: lock [0,10) granted after expiry" "^OK"
send close b
if [ -n "$id" ] && ! store_ids | grep -qx "$id"; then
	echo "  ok: record $id removed from the store"
else
	echo "  NOT OK: record ${id:-?} still in the store"
	nfail=$((nfail + 1))
fi
ca_expiry=$nfail

# store_has ID: the record of ID is in the store, read with tdbdump
store_has() {
	"$SAMBA_BIN/tdbdump" "$store" 2>/dev/null |
		grep -q "key(24) = \"PH/open/$(printf %016x "$1")\""
}

# timer_expiry HOW: A's open (timeout 3 s) is left by kill -9 of its smbd
# (HOW=kill) or by dropping A's connection (HOW=drop); B is connected to
# the share before and sends nothing after; no other client touches the
# share.  The expiry timer of B's smbd alone must notice the open (dead
# smbd: within the 1 s scan interval), keep it for its timeout, then
# remove the record and log one line naming the file.
timer_expiry() {
	local how=$1 name=f-timer-$1.dat pid_a id t0 t1
	echo "== [ca] expiry by the timer, no client activity ($how)"
	nfail=0
	send connect a "//$addr/ca" "$creds"
	send open a "$name" $RW 7 3000 RH 1
	check "A: persistent open, timeout 3000 ms" \
		"^OK .*persistent=1 timeout=3000"
	send lock a 0 100
	check "A: lock [0,100)" "^OK"
	id=$(store_ids | head -1)
	pid_a=$(serving_pid)
	send connect b "//$addr/ca" "$creds"
	check "B: connected to [ca], then idle" "^OK"
	if [ "$how" = kill ]; then
		echo "  record $id; kill -9 of A's smbd $pid_a"
		[ -n "$pid_a" ] && kill -KILL $pid_a
	else
		echo "  record $id; A's connection dropped"
		send drop a
	fi
	t0=$(date +%s.%N)
	sleep 1.5
	if [ -n "$id" ] && store_has "$id"; then
		echo "  ok: record $id still in the store 1.5 s later"
	else
		echo "  NOT OK: record ${id:-?} gone before its timeout"
		nfail=$((nfail + 1))
	fi
	# scan interval 1 s + timeout 3 s + 2.5 s margin, no request sent
	sleep 5
	t1=$(date +%s.%N)
	if [ -n "$id" ] && ! store_has "$id"; then
		echo "  ok: record $id gone from the store (tdbdump)" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" \
			"after A left, no client request in between"
	else
		echo "  NOT OK: record ${id:-?} still in the store after" \
			"timeout + margin without client activity"
		"$SAMBA_BIN/tdbdump" "$store" | grep key
		nfail=$((nfail + 1))
	fi
	if [ -n "$id" ] && grep -q "persistent open $id of \[ca\] $name expired" \
		"$dir/log.smbd"; then
		echo "  ok: log: $(grep -h "persistent open $id of \[ca\] $name expired" \
			"$dir/log.smbd" | head -1 | sed 's/^ *//')"
		if [ "$(grep -c "persistent open $id of \[ca\] .* expired" \
			"$dir/log.smbd")" -ne 1 ]; then
			echo "  NOT OK: more than one expiry line for $id"
			nfail=$((nfail + 1))
		fi
	else
		echo "  NOT OK: no log line naming $name as expired"
		nfail=$((nfail + 1))
	fi
	# the file is free again: share mode and locks released
	send plain b "$name" $RW 0
	check "B: exclusive open for write granted after expiry" "^OK"
	send lock b 0 10
	check "B: lock [0,10) granted after expiry" "^OK"
	send close b
	send drop b
	sleep 0.5
}

timer_expiry kill
timer_kill=$nfail
timer_expiry drop
timer_drop=$nfail

stock_kill=0
pst_stock_window "$dir" "$addr" stock kill RWH s-kill.dat || stock_kill=1
stock_restart=0
pst_stock_window "$dir" "$addr" stock restart RWH s-restart.dat ||
	stock_restart=1
send quit

echo "== summary"
echo "  [ca] kill -9: $ca_kill checks not met"
echo "  [ca] restart: $ca_restart checks not met"
echo "  [ca] batch oplock, dropped connection: $batch_drop checks not met"
echo "  [ca] batch oplock, kill -9: $batch_kill checks not met"
echo "  [ca] expiry: $ca_expiry checks not met"
echo "  [ca] expiry by the timer after kill -9: $timer_kill checks not met"
echo "  [ca] expiry by the timer after a dropped connection: $timer_drop checks not met"
echo "  [stock] controls (CA bit forced, no module): kill -9 $([ "$stock_kill" = 0 ] && echo "fails at the guarantee" || echo ERROR), restart $([ "$stock_restart" = 0 ] && echo "fails at the guarantee" || echo ERROR)"
[ "$ca_kill" -eq 0 ] || fail=1
[ "$ca_restart" -eq 0 ] || fail=1
[ "$batch_drop" -eq 0 ] || fail=1
[ "$batch_kill" -eq 0 ] || fail=1
[ "$ca_expiry" -eq 0 ] || fail=1
[ "$timer_kill" -eq 0 ] || fail=1
[ "$timer_drop" -eq 0 ] || fail=1
if [ "$stock_kill" -ne 0 ] || [ "$stock_restart" -ne 0 ]; then
	echo "FAIL: a stock control did not fail at the guarantee (CONTROL ERROR above)"
	fail=1
fi
pst_smbd_healthy "$dir" || fail=1
[ $fail -eq 0 ] && echo "PASS" || echo "FAILED"
exit $fail
