#!/usr/bin/env bash
# Bad input: a lookup copy (the store's TDB) that disagrees with the
# journal after a crash, in the same boot.  The journal is the durable
# copy; the TDB is written without transactions and kept beside it for
# lookups, with a stamp (<store>.journal.stamp) saying whether its last
# update finished.  Every smbd is killed with -9 (a crash, not a reboot:
# the boot id stays), then the TDB is made to disagree, then smbd starts:
#   stale    the TDB is replaced by a copy taken while a since closed
#            open was still there;
#   torn     garbage over the TDB and a damaged stamp (an update cut
#            short in the middle of the file);
#   missing  the TDB is removed.
# Each time: the rebuild from the journal is logged with the reason; the
# open that was never closed comes back (client B's open for write is
# refused with FILE_NOT_AVAILABLE, A reconnects with DH2C and its lock is
# still held) and the open whose close reached the journal does not
# (B opens that file for write).
# Control: "persistent:journal = no" (the TDB alone): the stale copy
# brings the closed open back: B's open of the closed file is refused,
# the guarantee this test is about.  (There, and with the journal of the
# build before issue 17, which trusted the TDB within a boot, the open
# that was never closed is lost as well: B's open of it is granted and
# A's DH2C finds nothing; that build failed the stale case the same way
# and passed torn and missing, whose TDB it found unreadable or empty.)
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.43
dir=$(mktemp -d /var/tmp/samba-ca-plookup.XXXXXX)
pst_cleanup "$dir"

pst_setup "$dir" "$addr" "	log level = 1 vfs:3
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no" || exit 1
store="$dir/state/persistent.tdb"
journal="$store.journal"
stamp="$journal.stamp"
creds="$SCA_USER%$SCA_PASS"
smbd_start "$dir" "$addr" || exit 1
pst_driver || exit 1

log_has() {
	grep -q -- "$1" "$dir/log.smbd"
}

# crash HOW: kill every smbd at once, make the TDB disagree, start again
crash() {
	local sid
	sid=$(ps -o sid= -p "$(cat "$dir/smbd.pid")" | tr -d ' ')
	[ -n "$sid" ] && pkill -KILL -s "$sid"
	smbd_stop "$dir"
	case "$1" in
	stale) cp "$dir/stale.tdb" "$store" ;;
	torn)
		head -c 65536 /dev/urandom >"$store"
		printf 'XX' | dd of="$stamp" bs=1 seek=12 conv=notrunc status=none
		;;
	missing) rm -f "$store" ;;
	esac
	smbd_start "$dir" "$addr"
}

# scenario HOW: sets nfail, closed_refused
scenario() {
	local how=$1 keep="$1-kept.dat" gone="$1-closed.dat"
	nfail=0
	closed_refused=0
	send connect a "//$addr/ca" "$creds"
	send open a "$keep" 0x12019f 1 60000 RWH 1
	check "A: persistent open of $keep" "^OK .*persistent=1"
	send lock a 0 100
	check "A: lock [0,100)" "^OK"
	send connect c "//$addr/ca" "$creds"
	send open c "$gone" 0x12019f 1 60000 RWH 1
	check "C: persistent open of $gone" "^OK .*persistent=1"
	cp "$store" "$dir/stale.tdb"
	send close c
	check "C: $gone closed" "^OK"
	send drop c
	echo "  crash (kill -9), lookup copy $how"
	crash "$how" || { nfail=$((nfail + 1)); return; }
	send connect b "//$addr/ca" "$creds"
	send plain b "$keep" 0x12019f 7
	check "B: open of $keep for write refused: FILE_NOT_AVAILABLE" \
		"^ERR 0xc0000467"
	send plain b "$gone" 0x12019f 7
	if [[ "$reply" =~ ^ERR\ 0xc0000467 ]]; then
		closed_refused=1
	fi
	check "B: open of $gone for write granted (its close was kept)" "^OK"
	send close b
	send reconnect a
	check "A: DH2C reconnect of $keep" "^OK .*same=yes lease=RWH"
	send plain b "$keep" 0x80 7
	send lock b 0 10
	check "B: lock [0,10) refused: A's lock is back" "^ERR 0xc000005[45]"
	send close b
	send drop b
	send unlock a 0 100
	send close a
	send drop a
}

fail=0
for how in stale torn missing; do
	echo "== lookup copy $how"
	: >"$dir/log.smbd"
	scenario "$how"
	if [ "$nfail" -ne 0 ]; then
		echo "FAIL: $nfail checks not met with a $how lookup copy"
		fail=1
	fi
	case "$how" in
	stale) why="stale: the lookup copy is at generation" ;;
	torn) why="damaged" ;;
	missing) why="missing" ;;
	esac
	if log_has "rebuilt from its journal .*$why"; then
		echo "  ok: the rebuild is logged with its reason ($why)"
	else
		echo "FAIL: no log line of the rebuild naming \"$why\""
		grep "rebuilt\|journal" "$dir/log.smbd" | head -5
		fail=1
	fi
done

echo "== control: persistent:journal = no"
smbd_stop "$dir"
rm -f "$journal" "$stamp" "$store"
sed -i "/^\[global\]/a\\	persistent:journal = no" "$dir/smb.conf"
smbd_start "$dir" "$addr" || fail=1
scenario stale
if [ "$closed_refused" -eq 1 ]; then
	echo "  as expected, without the journal the stale copy brings the" \
		"closed open back (B refused)"
else
	echo "FAIL: without the journal the closed open did not come back:" \
		"the scenario does not test the journal ($nfail checks not met)"
	fail=1
fi

send quit
pst_smbd_healthy "$dir" || fail=1
exit $fail
