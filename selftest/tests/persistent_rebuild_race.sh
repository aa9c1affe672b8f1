#!/usr/bin/env bash
# After a reboot the store's TDB is rebuilt from its journal once, by the
# first smbd to attach the journal, and every smbd then uses that file.
# Several clients connect at the same moment after an emulated reboot
# (as persistent_journal.sh: every smbd killed with -9, garbage over the
# TDB, a new boot id), each through its own smbd process, so that several
# smbds open the store at once.  Each round:
#   before:  client i (i = 1..N, each its own sca_persistent_driver, its own
#            connection and client GUID) holds a persistent open on own-i
#            (lease RWH, share mode READ);
#   reboot;  all N clients connect at once (N new smbds open the store);
#   (a) each client's open for write of the next client's own-file is
#       refused with the window's status (SHARING_VIOLATION, or
#       FILE_NOT_AVAILABLE), and each owner's DH2C succeeds (same file id,
#       lease RWH); each client's persistent open granted after the race
#       (new-i) is reconnected by DH2C through another smbd;
#   (b) the smbds hold no deleted store file, and every store file they
#       hold is the one its path names; the TDB on disk has the record of
#       every open granted, before the reboot and after;
#   (c) the log shows exactly one rebuild for the reboot.
# No test hook widens the race: each round has N smbds opening the store
# within milliseconds of each other, and ROUNDS rounds (default 5) are
# run.  When the TDB was opened before the journal's lock, 6 of 10 rounds
# failed (2 to 6 rebuilds for one reboot, smbds on deleted TDBs, the opens
# they granted missing from the TDB and refused at DH2C).
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.37
N=${CLIENTS:-6}
ROUNDS=${ROUNDS:-5}
RW=0x12019f
dir=$(mktemp -d /var/tmp/samba-ca-prace.XXXXXX)
passed=0
failed=0
# pst_cleanup's exit trap, then the closing line
pst_cleanup "$dir" race_drivers_stop
trap 'pst_cleanup_now; echo "$passed passed, $failed failed"' EXIT
ok() {
	echo "  ok: $1"
	passed=$((passed + 1))
}
not_ok() {
	echo "  NOT OK: $1"
	failed=$((failed + 1))
	nfail=$((nfail + 1))
}

pst_setup "$dir" "$addr" "	log level = 1 vfs:3
	smb3 global cap:PERSISTENT HANDLES = yes
	persistent:boot id file = $dir/boot_id" "	posix locking = no" ||
	{ failed=1; exit 1; }
store="$dir/state/persistent.tdb"
journal="$store.journal"
creds="$SCA_USER%$SCA_PASS"
if ! PYTHONPATH="$SAMBA_TREE/bin/python" /usr/bin/python3 -c 'import tdb' \
	2>/dev/null; then
	echo "SKIP: no python tdb module in $SAMBA_TREE/bin/python"
	exit 77
fi
cat /proc/sys/kernel/random/uuid >"$dir/boot_id"
smbd_start "$dir" "$addr" || { failed=1; exit 1; }

# One sca_persistent_driver per client, on a pair of FIFOs, so that the
# clients can be sent a command each at the same moment.
drv="$SAMBA_TREE/bin/sca_persistent_driver"
if [ ! -x "$drv" ]; then
	echo "FAIL: $drv missing"
	failed=1
	exit 1
fi
declare -a DRV_PID DRV_IN DRV_OUT
race_drivers_start() {
	local i fd
	for i in $(seq 1 "$N"); do
		mkfifo "$dir/drv$i.in" "$dir/drv$i.out" || return 1
		"$drv" <"$dir/drv$i.in" >"$dir/drv$i.out" 2>&1 &
		DRV_PID[i]=$!
		exec {fd}>"$dir/drv$i.in"
		DRV_IN[i]=$fd
		exec {fd}<"$dir/drv$i.out"
		DRV_OUT[i]=$fd
	done
}
# shellcheck disable=SC2317 # called by the exit trap
race_drivers_stop() {
	local i
	for i in "${!DRV_PID[@]}"; do
		kill "${DRV_PID[i]}" 2>/dev/null
	done
}
# post I CMD...: send without waiting; answer I: its reply in $reply
post() {
	local i=$1
	shift
	echo "$*" >&"${DRV_IN[i]}"
}
answer() {
	reply=
	IFS= read -r -t 60 reply <&"${DRV_OUT[$1]}"
}
# dsend I CMD...: one command to client I and its answer in $reply
dsend() {
	post "$@"
	answer "$1"
	echo "    $1> ${*:2} : $reply"
}
# all CMD...: the command to every client at once ({i} and {next} are
# replaced by the client's number and the next client's); the answers in
# REPLY[i]
declare -a REPLY
all() {
	local i next cmd
	for i in $(seq 1 "$N"); do
		next=$((i % N + 1))
		cmd=${*//\{i\}/$i}
		cmd=${cmd//\{next\}/$next}
		post "$i" "$cmd"
	done
	for i in $(seq 1 "$N"); do
		answer "$i"
		REPLY[i]=$reply
		next=$((i % N + 1))
		cmd=${*//\{i\}/$i}
		echo "    $i> ${cmd//\{next\}/$next} : $reply"
	done
}
# check_all WHAT PATTERN: every REPLY[i] matches; counts into nfail
check_all() {
	local i bad=0
	for i in $(seq 1 "$N"); do
		if ! [[ "${REPLY[i]}" =~ $2 ]]; then
			bad=$((bad + 1))
		fi
	done
	if [ "$bad" -eq 0 ]; then
		ok "$1 ($N clients)"
	else
		not_ok "$1: $bad of $N clients (expected /$2/)"
	fi
}
fid_of() {
	[[ "$1" =~ fid=([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}

race_drivers_start || { failed=1; exit 1; }

session_pids() {
	local sid
	sid=$(ps -o sid= -p "$(cat "$dir/smbd.pid")" | tr -d ' ')
	[ -n "$sid" ] && ps -o pid= -s "$sid" | tr -d ' '
}

# reboot: as persistent_journal.sh: all of smbd killed at once, garbage
# over the TDB, a new boot id; then smbd starts again
reboot() {
	local sid
	sid=$(ps -o sid= -p "$(cat "$dir/smbd.pid")" | tr -d ' ')
	[ -n "$sid" ] && pkill -KILL -s "$sid"
	smbd_stop "$dir"
	head -c 65536 /dev/urandom >"$store"
	cat /proc/sys/kernel/random/uuid >"$dir/boot_id"
	smbd_start "$dir" "$addr"
}

# store_files_check: every store file an smbd holds open is the file its
# path names now (not deleted, not replaced); echoes how many smbds hold
# the TDB, returns 1 on a stale one
store_files_check() {
	local pid fd target path held=0 stale=0 has
	for pid in $(session_pids); do
		has=0
		for fd in /proc/"$pid"/fd/*; do
			target=$(readlink "$fd" 2>/dev/null) || continue
			case "$target" in
			"$store"*) ;;
			*) continue ;;
			esac
			path=${target% (deleted)}
			if [ "$path" = "$store" ]; then
				has=1
			fi
			if [ "$path" != "$target" ] ||
				[ "$(stat -L -c %d:%i "$fd" 2>/dev/null)" != \
					"$(stat -c %d:%i "$path" 2>/dev/null)" ]; then
				echo "    smbd $pid holds a stale $target"
				stale=$((stale + 1))
			fi
		done
		held=$((held + has))
	done
	echo "    $held smbds hold $store"
	[ "$stale" -eq 0 ] && [ "$held" -ge "$N" ]
}

store_ids() {
	PYTHONPATH="$SAMBA_TREE/bin/python" /usr/bin/python3 -c '
import sys, tdb
db = tdb.open(sys.argv[1])
for k in db.keys():
    if k.startswith(b"PH/open/"):
        print(int(k[8:].decode(), 16))' "$store" 2>/dev/null
}

fail=0
for round in $(seq 1 "$ROUNDS"); do
	echo "== round $round: $N clients, each with a persistent open"
	nfail=0
	declare -a FIDS=()
	all connect o "//$addr/ca" "$creds"
	check_all "connected" "^OK"
	all open o "r$round-own-{i}.dat" $RW 1 60000 RWH 1
	check_all "persistent open granted with lease RWH" \
		"^OK .*persistent=1 .*lease=RWH"
	for i in $(seq 1 "$N"); do
		FIDS+=("$(fid_of "${REPLY[i]}")")
	done
	all write o 0 "own-{i}"
	log_lines=$(wc -l <"$dir/log.smbd")

	echo "  reboot (kill -9, TDB overwritten, new boot id)"
	if ! reboot; then
		not_ok "smbd starts again after the reboot"
		exit 1
	fi

	echo "  all $N clients connect at once, each to its own smbd"
	all connect x "//$addr/ca" "$creds"
	check_all "connected after the reboot" "^OK"

	all plain x "r$round-own-{next}.dat" $RW 7
	check_all "open for write of the next client's file refused" \
		"^ERR 0xc0000(043|467)"
	for i in $(seq 1 "$N"); do
		if [[ "${REPLY[i]}" =~ ^OK ]]; then
			dsend "$i" close x
		fi
	done
	all open x "r$round-new-{i}.dat" $RW 1 60000 RWH 1
	check_all "persistent open granted after the reboot" \
		"^OK .*persistent=1"
	for i in $(seq 1 "$N"); do
		FIDS+=("$(fid_of "${REPLY[i]}")")
	done

	echo "  the store files held by the smbds"
	if store_files_check; then
		ok "no smbd holds a deleted or replaced store file"
	else
		not_ok "an smbd holds a store file that is not current (or
	fewer than $N smbds hold the store)"
	fi
	leftover=$(find "$dir/state" -maxdepth 1 -name 'persistent.tdb*' \
		! -path "$store" ! -path "$journal" ! -path "$journal.stamp")
	if [ -z "$leftover" ]; then
		ok "on disk: the TDB, its journal and stamp, nothing else"
	else
		not_ok "store files beside the TDB, journal and stamp: ${leftover//$'\n'/ }"
	fi
	missing=0
	ids=" $(store_ids | tr '\n' ' ') "
	for fid in "${FIDS[@]}"; do
		if [ -z "$fid" ] || [[ "$ids" != *" $fid "* ]]; then
			missing=$((missing + 1))
		fi
	done
	if [ "$missing" -eq 0 ]; then
		ok "the TDB on disk has all ${#FIDS[@]} opens"
	else
		not_ok "$missing of ${#FIDS[@]} opens missing from the TDB on disk"
	fi
	rebuilds=$(tail -n +"$((log_lines + 1))" "$dir/log.smbd" |
		grep -c "rebuilt from its journal")
	if [ "$rebuilds" -eq 1 ]; then
		ok "one rebuild logged"
	else
		not_ok "$rebuilds rebuilds logged for one reboot"
	fi

	all reconnect o
	check_all "owner's DH2C: same file id, lease RWH" \
		"^OK .*same=yes lease=RWH"
	all read o 0 5
	check_all "owner's data intact" "^OK own-"
	all reconnect x
	check_all "DH2C of the open granted after the reboot, by another smbd" \
		"^OK .*same=yes"
	all close x
	all close o
	all drop x
	all drop o
	if [ "$nfail" -ne 0 ]; then
		echo "FAIL: round $round: $nfail checks not met"
		fail=1
	fi
done

if pst_smbd_healthy "$dir"; then
	ok "smbd alive, no panic"
else
	not_ok "smbd healthy"
	fail=1
fi
exit $fail
