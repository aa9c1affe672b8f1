#!/usr/bin/env bash
# The state of a persistent open is stored when it changes, and nothing is
# answered that is not stored (issue 15), with the project's scripted client
# (smbclient3/persistent_driver.cc):
#   lock sequence  A locks [0,100) with LockSequence index 1, number 5
#                  ([MS-SMB2] 3.3.5.14); kill -9 of A's smbd (then, again,
#                  a full restart); A reconnects by DH2C and replays the
#                  lock with the same LockSequence: success, and the lock
#                  is held once: one unlock frees it for B.
#   lease break    A's persistent open with lease RWH; B's open for read
#                  breaks it to RH, A acknowledges; kill -9 of the smbds:
#                  a reader is granted at once (A gave up write caching),
#                  and A's DH2C gets back RH, the lease it holds now.
#   lease key      A's persistent open with lease RWH, connection dropped:
#                  a DH2C with another lease key, and one without a lease
#                  context, are refused (OBJECT_NAME_NOT_FOUND) and cost A
#                  nothing: the right DH2C then succeeds.
#   timeout kept   A's open with a 4 s timeout, dropped at t0; at t0+2 s
#                  a DH2C with another lease key is refused; at t0+5 s
#                  the right DH2C is refused too: the open expired 4 s after
#                  t0, the refused reconnect did not restart its timeout
#                  (had it, the open would live until t0+6 s).
#   lock not kept  the store on a full 2 MiB tmpfs: A takes locks on its
#                  persistent open until one cannot be stored; that one is
#                  refused (DISK_FULL), B gets that range, not the ranges
#                  granted before; the log names the refused lock.
# Stock control: the lock sequence scenario on a share without the module
# that only announces CA; it must fail at the guarantee (after the outage
# A's lock replay is refused, or B takes A's range), and a stock run that
# fails earlier is an error of this test.
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.34
dir=$(mktemp -d /var/tmp/samba-ca-plockst.XXXXXX)
small="$dir/small"
pst_cleanup "$dir" 'umount "$small" 2>/dev/null'
mkdir -p "$small"
if ! mount -t tmpfs -o size=2m,mode=0755 samba-ca-plockst "$small"; then
	echo "SKIP: cannot mount a tmpfs (not root, or no mount rights)"
	exit 77
fi

pst_setup "$dir" "$addr" "	log level = 1 vfs:3
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no" || exit 1
pst_add_stock_share "$dir" stock
cat >>"$dir/smb.conf" <<CONF

[small]
	path = $dir/ca
	read only = no
	vfs objects = persistent
	posix locking = no
	persistent:store = $small/persistent.tdb
CONF
smbd_start "$dir" "$addr" || exit 1
creds="$SCA_USER%$SCA_PASS"
pst_driver || exit 1

RW=0x12019f
READ=0x120089

# outage EVENT: kill (kill -9 of every smbd child serving a client) or
# restart (every smbd stopped and started again)
outage() {
	if [ "$1" = kill ]; then
		pst_kill_serving "$dir"
	else
		echo "  stopping every smbd, starting again"
		smbd_stop "$dir"
		smbd_start "$dir" "$addr"
	fi
}

# lock_sequence SHARE EVENT NAME: prints "result: guarantee-held",
# "result: guarantee-broken WHY" or "result: error WHY" last.
lock_sequence() {
	local share=$1 event=$2 name=$3
	nfail=0
	echo "== [$share] lock sequence across $event: $name"
	send connect a "//$addr/$share" "$creds"
	send open a "$name" $RW 7 60000 RWH 1
	if [[ ! "$reply" =~ ^OK.*durable=1 ]]; then
		echo "result: error no durable or persistent open: $reply"
		return
	fi
	send lock a 0 100 0x15
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: error the first lock failed: $reply"
		return
	fi
	outage "$event" || { echo "result: error smbd did not restart"; return; }
	send connect b "//$addr/$share" "$creds"
	send plain b "$name" 0x80 7
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: error B's attribute-only open failed: $reply"
		return
	fi
	send lock b 0 10
	if [[ "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken B got A's range while A was away"
		return
	fi
	send reconnect a
	if [[ ! "$reply" =~ ^OK.*same=yes ]]; then
		echo "result: guarantee-broken A's DH2C refused: $reply"
		return
	fi
	send lock a 0 100 0x15
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken A's lock replay refused: $reply"
		return
	fi
	send lock b 0 10
	if [[ "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken B got A's range after the replay"
		return
	fi
	send unlock a 0 100
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken A's unlock failed: $reply"
		return
	fi
	send lock b 0 10
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken one unlock did not free the range" \
			"(the replay locked it twice): $reply"
		return
	fi
	send unlock b 0 10
	send close a
	send close b
	send drop b
	send drop a
	sleep 0.5
	echo "result: guarantee-held"
}



# The coprocess' descriptors are not available in a subshell: run the
# scenario in this shell, its output in a file.
for event in kill restart; do
	lock_sequence ca "$event" "seq-$event.dat" >"$dir/seq.out"
	cat "$dir/seq.out"
	case "$(tail -1 "$dir/seq.out")" in
	"result: guarantee-held") echo "  ok: lock sequence across $event" ;;
	*) PST_FAIL=1 ;;
	esac
	pst_section "lock sequence across $event"
done

echo "== stock control (share without the module, announcing CA)"
lock_sequence stock kill seq-stock.dat >"$dir/seq.out"
cat "$dir/seq.out"
pst_control_verdict "[stock] lock sequence across kill -9" "$dir/seq.out" ||
	PST_FAIL=1
pst_section "stock control"

# lease_after_break SHARE NAME: A (lease RWH) acknowledges the break to RH
# that B's open for read asks for; kill -9; then a reader is granted (A
# holds no write caching any more) and A's DH2C gets RH back.  Prints
# "result: ..." last, as lock_sequence.
lease_after_break() {
	local share=$1 name=$2
	echo "== [$share] lease break, then kill -9: $name"
	send connect a "//$addr/$share" "$creds"
	send open a "$name" $RW 7 60000 RWH 1
	if [[ ! "$reply" =~ ^OK.*durable=1.*lease=RWH ]]; then
		echo "result: error no durable open with lease RWH: $reply"
		return
	fi
	send connect b "//$addr/$share" "$creds"
	send plain_async b "$name" $READ 7
	send breakack a
	if [[ ! "$reply" =~ ^OK\ break\ RWH-\>RH\ acked=RH ]]; then
		echo "result: error no break RWH->RH acknowledged: $reply"
		return
	fi
	send wait b
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: error B's read open failed after the break: $reply"
		return
	fi
	send close b
	outage kill
	send connect b "//$addr/$share" "$creds"
	send plain b "$name" $READ 7
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken a reader refused for the write" \
			"lease A gave up: $reply"
		return
	fi
	send close b
	send reconnect a
	if [[ ! "$reply" =~ ^OK.*same=yes ]]; then
		echo "result: guarantee-broken A's DH2C refused: $reply"
		return
	fi
	if [[ ! "$reply" =~ lease=RH\  ]]; then
		echo "result: guarantee-broken A's lease is not the one it" \
			"holds (RH): $reply"
		return
	fi
	send close a
	send drop a
	send drop b
	sleep 0.5
	echo "result: guarantee-held"
}

lease_after_break ca lease-break.dat >"$dir/lease.out"
cat "$dir/lease.out"
[ "$(tail -1 "$dir/lease.out")" = "result: guarantee-held" ] || PST_FAIL=1
pst_section "a lease break is stored when it happens"

echo "== stock control of the lease break"
lease_after_break stock lease-break-stock.dat >"$dir/lease.out"
cat "$dir/lease.out"
pst_control_verdict "[stock] lease break, then kill -9" "$dir/lease.out" ||
	PST_FAIL=1
pst_section "stock control of the lease break"

echo "== lease key checked on reconnect"
nfail=0
send connect a "//$addr/ca" "$creds"
send open a lease.dat $RW 7 60000 RWH 1
check "A: persistent open, lease RWH" "^OK .*persistent=1 .*lease=RWH"
send drop a
sleep 0.5
send reconnect a otherkey
check "DH2C with another lease key refused" "^ERR 0xc0000034"
send reconnect a nolease
check "DH2C without the lease context refused" "^ERR 0xc0000034"
send reconnect a
check "the right DH2C still succeeds" "^OK .*same=yes lease=RWH"
send close a
[ "$nfail" -eq 0 ] || PST_FAIL=1
pst_section "lease key checked on reconnect"

echo "== a refused reconnect keeps the timeout"
nfail=0
send connect a "//$addr/ca" "$creds"
send open a timeout.dat $RW 7 4000 RWH 1
check "A: persistent open, timeout 4 s" "^OK .*persistent=1 timeout=4000"
send drop a
t0=$(date +%s.%N)
sleep 2
send reconnect a otherkey
check "t0+2 s: DH2C with another lease key refused" "^ERR 0xc0000034"
sleep "$(awk -v t0="$t0" -v now="$(date +%s.%N)" \
	'BEGIN { d = t0 + 5 - now; printf "%.2f", (d > 0 ? d : 0) }')"
send reconnect a
check "t0+5 s: the open expired at t0+4 s (DH2C refused)" "^ERR 0xc0000034"
[ "$nfail" -eq 0 ] || PST_FAIL=1
pst_section "a refused reconnect keeps the timeout"

echo "== a lock that cannot be stored is refused"
nfail=0
send connect a "//$addr/small" "$creds"
send connect b "//$addr/small" "$creds"
send open a full.dat $RW 7 60000 RWH 1
check "A: persistent open on the small store" "^OK .*persistent=1"
send plain b full.dat 0x80 7
check "B: attribute-only open" "^OK"
dd if=/dev/zero of="$small/filler" bs=4k status=none 2>/dev/null
refused=
for i in $(seq 1 1500); do
	send lock a $((i * 10)) 5 >/dev/null
	[[ "$reply" =~ ^OK ]] && continue
	refused=$i
	echo "    lock $i [$((i * 10)),+5): $reply"
	break
done
if [ -z "$refused" ]; then
	echo "  NOT OK: 1500 locks granted on a full store"
	nfail=$((nfail + 1))
else
	check "the lock that could not be stored: DISK_FULL" "^ERR 0xc000007f"
	send lock b $((refused * 10)) 5
	check "B gets the refused range (it was not kept)" "^OK"
	send lock b $(((refused - 1) * 10)) 5
	check "B refused the range granted before" "^ERR 0xc000005[45]"
	if grep -q "lock \[$((refused * 10)), +5) of persistent open [0-9]* refused: not stored" \
		"$dir/log.smbd"; then
		echo "  ok: the log names the refused lock"
	else
		echo "  NOT OK: no log line for the refused lock"
		nfail=$((nfail + 1))
	fi
fi
rm -f "$small/filler"
send close b
send close a
[ "$nfail" -eq 0 ] || PST_FAIL=1
pst_section "a lock that cannot be stored is refused"

send quit
pst_smbd_healthy "$dir" || PST_FAIL=1
pst_section "smbd healthy"
pst_sections_done
