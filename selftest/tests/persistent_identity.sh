#!/usr/bin/env bash
# A persistent open's record names its file by what smbd identifies it by
# (file id, birth time, stream), not by share name and path (issue 15):
#   other share   A's persistent open (lease RWH, share READ, lock [0,100))
#                 on [ca], kill -9 of its smbd; B reaches the same file
#                 through [ca2] (the module, another share name, the same
#                 directory): B's open for write and its lock on [0,10)
#                 are refused, its open for read (A's lease RWH must
#                 break) is not granted (it waits); A's DH2C succeeds.
#   no module     (argument "nomodule") the same through [noca], a share
#                 without the module on the same directory, served by an
#                 smbd that never loaded it: smbd alone must keep the dead
#                 smbd's share mode entry and locks (patch 0016), in the
#                 window right after the kill -9, before any share with the
#                 module is touched again; then A's DH2C through [ca]
#                 succeeds.  Also: the same after a clean disconnect (A's
#                 connection dropped); a second kill -9 after A's DH2C
#                 re-created the open; the file is free through [noca]
#                 once A's timeout (4 s) has run out; a durable open that
#                 is not persistent (A on [noca]) whose smbd is killed is
#                 stale as on stock smbd (B gets the open and the lock);
#                 after a full restart of smbd (locking.tdb emptied) A's
#                 lock holds through [noca] once a share with the module
#                 was connected (the module puts the locks back, patch
#                 0011), but its share mode entry is gone (a known gap:
#                 B's write open through [noca] is granted, and A's DH2C
#                 then fails on B's open); and the stock control, A on
#                 [stock] and B through [stock2] (no module, the same
#                 directory), must fail at the guarantee.
#   replaced      A's persistent open, kill -9, the file replaced behind
#                 smbd's back (renamed away, a new file of that name): A's
#                 DH2C is refused (OBJECT_NAME_NOT_FOUND), the log names
#                 the file; B opens the new file freely.
#   rename        A's persistent open (share RWD, lease R); another client
#                 (smbclient) renames
#                 the file through smbd; kill -9; A's DH2C (naming the new
#                 name) gives back its open with its data.
#   stream        a persistent request on s.dat:str1 (a share with
#                 streams_xattr): smbd 4.22 keeps no durable handle on a
#                 stream (vfs_default_durable_cookie), so the answer must
#                 say it is neither durable nor persistent, and nothing of
#                 it may be stored.
# Stock control: the other-share scenario with A on a share without the
# module that only announces CA: it must fail at the guarantee (B gets
# the open or the lock), and failing earlier is an error of this test.
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.36
dir=$(mktemp -d /var/tmp/samba-ca-pident.XXXXXX)
pst_cleanup "$dir"

pst_setup "$dir" "$addr" "	log level = 1 vfs:3
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no" || exit 1
pst_add_stock_share "$dir" stock
module=$(sca_module) || exit 1
cat >>"$dir/smb.conf" <<CONF

[ca2]
	path = $dir/ca
	read only = no
	vfs objects = $module
	posix locking = no

[noca]
	path = $dir/ca
	read only = no
	posix locking = no

[stock2]
	path = $dir/stock
	read only = no
	posix locking = no

[cas]
	path = $dir/ca
	read only = no
	vfs objects = $module streams_xattr
	posix locking = no
CONF
smbd_start "$dir" "$addr" || exit 1
creds="$SCA_USER%$SCA_PASS"
pst_driver || exit 1

RW=0x12019f
READ=0x120089
ATTR=0x80

# other_share OWNER-SHARE NAME OTHER-SHARE...: prints "result: ..." last
# (guarantee-held, guarantee-broken WHY, error WHY).  A's smbd is killed
# (kill -9), or with OTHER_SHARE_EVENT=drop A's connection is dropped.
other_share() {
	local owner=$1 name=$2 share
	shift 2
	echo "== A on [$owner], B through $*: $name (${OTHER_SHARE_EVENT:-kill})"
	send connect a "//$addr/$owner" "$creds"
	send open a "$name" $RW 1 60000 RWH 1
	if [[ ! "$reply" =~ ^OK.*durable=1.*lease=RWH ]]; then
		echo "result: error A got no durable open with lease RWH: $reply"
		return
	fi
	send lock a 0 100
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: error A's lock failed: $reply"
		return
	fi
	if [ "${OTHER_SHARE_EVENT:-kill}" = drop ]; then
		send drop a
		sleep 1
	else
		pst_kill_serving "$dir"
	fi
	for share in "$@"; do
		send connect b "//$addr/$share" "$creds"
		if [[ ! "$reply" =~ ^OK ]]; then
			echo "result: error B cannot connect to [$share]: $reply"
			return
		fi
		send plain b "$name" $RW 7
		if [[ "$reply" =~ ^OK ]]; then
			echo "result: guarantee-broken B's write open through" \
				"[$share] granted"
			return
		fi
		# A's lease RWH must break: the open waits (or is refused),
		# never granted while A is away; a connection of its own
		send connect b2 "//$addr/$share" "$creds"
		send plain_async b2 "$name" $READ 7
		send poll b2 2000
		if [[ "$reply" =~ answered=yes ]]; then
			send wait b2
			if [[ "$reply" =~ ^OK ]]; then
				echo "result: guarantee-broken B's read open" \
					"through [$share] granted (A's write lease)"
				return
			fi
		fi
		send drop b2
		send plain b "$name" $ATTR 7
		if [[ ! "$reply" =~ ^OK ]]; then
			echo "result: error B's attribute-only open through" \
				"[$share] failed: $reply"
			return
		fi
		send lock b 0 10
		if [[ "$reply" =~ ^OK ]]; then
			echo "result: guarantee-broken B's lock through [$share]" \
				"granted"
			return
		fi
		send close b
		send drop b
	done
	send reconnect a
	if [[ ! "$reply" =~ ^OK.*same=yes ]]; then
		echo "result: guarantee-broken A's DH2C refused: $reply"
		return
	fi
	send close a
	send drop a
	echo "result: guarantee-held"
}

# window_answer WHAT REFUSALS EXPECT: the last reply as pst_answer sees it
# ("granted", "refused (STATUS)", "error (...)") must start with EXPECT
# (granted or refused); counts in nfail otherwise
window_answer() {
	local answer
	answer=$(pst_answer "$2")
	if [[ "$answer" == "$3"* ]]; then
		echo "  ok: $1: $answer"
	else
		echo "  NOT OK: $1: $answer, expected $3"
		nfail=$((nfail + 1))
	fi
}

nomodule_scenario() {
	OTHER_SHARE_EVENT=kill other_share ca nomodule.dat noca >"$dir/out"
	cat "$dir/out"
	[ "$(tail -1 "$dir/out")" = "result: guarantee-held" ] || PST_FAIL=1
	pst_section "kill -9: protection through a share without the module"

	OTHER_SHARE_EVENT=drop other_share ca nomodule-drop.dat noca >"$dir/out"
	cat "$dir/out"
	[ "$(tail -1 "$dir/out")" = "result: guarantee-held" ] || PST_FAIL=1
	pst_section "clean disconnect: protection through a share without the module"

	echo "== a second kill -9 after A's DH2C re-created its open"
	nfail=0
	send connect a "//$addr/ca" "$creds"
	send open a twice.dat $RW 1 60000 RWH 1
	check "A: persistent open" "^OK .*persistent=1"
	send lock a 0 100
	check "A locked [0,100)" "^OK"
	pst_kill_serving "$dir"
	send reconnect a
	check "A's first DH2C" "^OK .*same=yes"
	pst_kill_serving "$dir"
	send connect b "//$addr/noca" "$creds"
	send plain b twice.dat $RW 7
	window_answer "B's write open through [noca]" "$PST_OPEN_REFUSED" refused
	[[ "$reply" == OK* ]] && send close b
	send plain b twice.dat $ATTR 7
	send lock b 0 10
	window_answer "B's lock through [noca]" "$PST_LOCK_REFUSED" refused
	send close b
	send drop b
	send reconnect a
	check "A's second DH2C" "^OK .*same=yes"
	send close a
	send drop a
	[ "$nfail" -eq 0 ] || PST_FAIL=1
	pst_section "a second kill -9: the re-created open is protected too"

	echo "== after A's timeout the file is free through [noca]"
	nfail=0
	send connect a "//$addr/ca" "$creds"
	send open a expiry.dat $RW 1 4000 RWH 1
	check "A: persistent open, timeout 4 s" "^OK .*persistent=1 timeout=4000 "
	send lock a 0 100
	check "A locked [0,100)" "^OK"
	pst_kill_serving "$dir"
	send connect b "//$addr/noca" "$creds"
	send plain b expiry.dat $RW 7
	window_answer "B's write open through [noca] in the window" \
		"$PST_OPEN_REFUSED" refused
	[[ "$reply" == OK* ]] && send close b
	sleep 6
	send plain b expiry.dat $RW 7
	window_answer "B's write open through [noca] after the timeout" \
		"$PST_OPEN_REFUSED" granted
	send lock b 0 10
	window_answer "B's lock through [noca] after the timeout" \
		"$PST_LOCK_REFUSED" granted
	send close b
	send drop b
	send drop a
	[ "$nfail" -eq 0 ] || PST_FAIL=1
	pst_section "nothing stays held past the timeout"

	echo "== a durable open that is not persistent is stale after kill -9"
	nfail=0
	send connect a "//$addr/noca" "$creds"
	send open a durable.dat $RW 1 60000 RWH 1
	check "A on [noca]: durable, not persistent" \
		"^OK .*durable=1 persistent=0 .*lease=RWH"
	send lock a 0 100
	check "A locked [0,100)" "^OK"
	pst_kill_serving "$dir"
	send connect b "//$addr/noca" "$creds"
	send plain b durable.dat $RW 7
	window_answer "B's write open through [noca]" "$PST_OPEN_REFUSED" granted
	send lock b 0 10
	window_answer "B's lock through [noca]" "$PST_LOCK_REFUSED" granted
	send close b
	send drop b
	send drop a
	[ "$nfail" -eq 0 ] || PST_FAIL=1
	pst_section "stock behaviour kept for opens that are not persistent"

	echo "== a full restart of smbd (locking.tdb emptied)"
	nfail=0
	send connect a "//$addr/ca" "$creds"
	send open a restart.dat $RW 1 60000 RWH 1
	check "A: persistent open" "^OK .*persistent=1"
	send lock a 0 100
	check "A locked [0,100)" "^OK"
	smbd_stop "$dir"
	smbd_start "$dir" "$addr" || PST_FAIL=1
	# any tree connect to a share with the module restores the store's
	# opens: their global records and their locks (patch 0011)
	send connect c "//$addr/ca2" "$creds"
	check "C connected to [ca2]" "^OK"
	send connect b "//$addr/noca" "$creds"
	send plain b restart.dat $ATTR 7
	check "B: attribute-only open through [noca]" "^OK"
	send lock b 0 10
	window_answer "B's lock through [noca] after the restart" \
		"$PST_LOCK_REFUSED" refused
	send close b
	send plain b restart.dat $RW 7
	if [[ "$reply" == OK* ]]; then
		echo "  known gap: B's write open through [noca] granted after" \
			"the restart (the share mode entry is not put back)"
		send close b
	else
		echo "  B's write open through [noca] refused: $reply"
	fi
	send drop b
	send drop c
	send reconnect a
	check "A's DH2C after the restart (B's open is closed)" "^OK .*same=yes"
	send close a
	send drop a
	[ "$nfail" -eq 0 ] || PST_FAIL=1
	pst_section "a full restart: the locks hold through [noca]"

	echo "== stock control"
	OTHER_SHARE_EVENT=kill other_share stock nomodule-stock.dat stock2 \
		>"$dir/out"
	cat "$dir/out"
	pst_control_verdict "[stock] share without the module, kill -9" \
		"$dir/out" || PST_FAIL=1
	pst_section "stock control"
}

if [ "${1:-}" = nomodule ]; then
	nomodule_scenario
	send quit
	pst_smbd_healthy "$dir" || PST_FAIL=1
	pst_section "smbd healthy"
	pst_sections_done
	exit
fi

other_share ca other.dat ca2 >"$dir/out"
cat "$dir/out"
[ "$(tail -1 "$dir/out")" = "result: guarantee-held" ] || PST_FAIL=1
pst_section "protection whichever share with the module reaches the file"

echo "== stock control"
other_share stock other-stock.dat stock2 >"$dir/out"
cat "$dir/out"
pst_control_verdict "[stock] other share, kill -9" "$dir/out" || PST_FAIL=1
pst_section "stock control"

echo "== a file replaced while its client is away"
nfail=0
send connect a "//$addr/ca" "$creds"
send open a replaced.dat $RW 7 60000 RWH 1
check "A: persistent open" "^OK .*persistent=1"
send write a 0 original
pst_kill_serving "$dir"
mv "$dir/ca/replaced.dat" "$dir/ca/replaced.old"
echo impostor >"$dir/ca/replaced.dat"
chmod 666 "$dir/ca/replaced.dat"
send reconnect a
check "A's DH2C to the replaced file refused" "^ERR 0xc0000034"
if grep -q "replaced.dat is not the file it was opened on" "$dir/log.smbd"; then
	echo "  ok: the log names the file"
else
	echo "  NOT OK: no log line names replaced.dat"
	nfail=$((nfail + 1))
fi
send connect b "//$addr/ca" "$creds"
send plain b replaced.dat $RW 7
check "B opens the new file" "^OK"
send read b 0 8
check "B reads the new file's data" "^OK impostor"
send close b
send drop b
send drop a
[ "$nfail" -eq 0 ] || PST_FAIL=1
pst_section "a replaced file is not reattached"

echo "== a rename through smbd keeps the open reachable"
nfail=0
send connect a "//$addr/ca" "$creds"
# lease R: a rename breaks handle caching, which this client would have
# to acknowledge while smbclient waits
send open a before-rename.dat $RW 7 60000 R 1
check "A: persistent open (share RWD, lease R)" "^OK .*persistent=1"
send write a 0 renamed-data
if "$SAMBA_BIN/smbclient" -s "$dir/smb.conf" "//$addr/ca" -U "$creds" -m SMB3 \
	-c "rename before-rename.dat sub-renamed.dat" >"$dir/rename.out" 2>&1; then
	echo "  ok: another client renamed it through smbd"
else
	echo "  NOT OK: rename through smbd failed:"
	sed 's/^/    /' "$dir/rename.out"
	nfail=$((nfail + 1))
fi
pst_kill_serving "$dir"
send setname a sub-renamed.dat
send reconnect a
check "A's DH2C after the rename and kill -9" "^OK .*same=yes"
send read a 0 12
check "A reads its data" "^OK renamed-data$"
send close a
send drop a
[ "$nfail" -eq 0 ] || PST_FAIL=1
pst_section "a rename through smbd keeps the open reachable"

echo "== a persistent request on a stream"
nfail=0
send connect a "//$addr/cas" "$creds"
send plain a s.dat $RW 7
send write a 0 base-data
send close a
send open a s.dat:str1 $RW 7 60000 RWH 1
check "s.dat:str1 opened, answered as neither durable nor persistent" \
	"^OK .*durable=0 persistent=0"
if PYTHONPATH="$SAMBA_TREE/bin/python" /usr/bin/python3 -c '
import sys, tdb
db = tdb.open(sys.argv[1])
sys.exit(0 if any(b"str1" in db[k] for k in db.keys()
                  if k.startswith(b"PH/open/")) else 1)' \
	"$dir/state/persistent.tdb"; then
	echo "  NOT OK: a record of the stream open is stored"
	nfail=$((nfail + 1))
else
	echo "  ok: no record of the stream open"
fi
send close a
send drop a
[ "$nfail" -eq 0 ] || PST_FAIL=1
pst_section "a persistent request on a stream is visibly not persistent"

send quit
pst_smbd_healthy "$dir" || PST_FAIL=1
pst_section "smbd healthy"
pst_sections_done
