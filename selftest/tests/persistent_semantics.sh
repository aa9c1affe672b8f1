#!/usr/bin/env bash
# What a disconnected persistent open means to other clients, as Windows
# and Samba master answer it (issue 15, "Semantics that still differ"),
# with the project's scripted client (smbclient3/persistent_driver.cc).
# One scenario per run (argument); each has a wrapper
# persistent_semantics_<scenario>.sh:
#   not_available    A (the owner) holds persistent opens; its connection
#                    drops (then, again, its smbd is killed with -9).
#                    While A is away every contending open of client B is
#                    refused with STATUS_FILE_NOT_AVAILABLE: a share-mode
#                    conflict (A shares only READ, B opens for write), an
#                    open that needs a break of A's lease without handle
#                    caching (RW) or of its batch oplock, an overwrite,
#                    overwrite-if and supersede of a file A holds with lease
#                    R, a persistent (DH2Q) create and the same create sent
#                    again (its create GUID, as a client repeats it; our
#                    client cannot set SMB2_FLAGS_REPLAY_OPERATION).  Then
#                    each of A's DH2C succeeds with the same file id and
#                    A reads back what it wrote.
#                    Control: the batch oplock path on [stock] (no module,
#                    CA announced) must fail at the guarantee (B granted,
#                    or A's DH2C refused).
#   handle_wait      A's persistent open with lease RWH, A away (drop, then
#                    kill -9): B's open for read needs a break of that
#                    lease: B gets an interim response and no answer for
#                    3 s; A's DH2C succeeds, A gets the break RWH->RH and
#                    acknowledges it, then B's open completes.  With a 4 s
#                    timeout and no reconnect, B's open completes when A's
#                    open expires, not before.
#   directory        a DH2Q with the persistent flag on a directory is
#                    answered without a durable handle ([MS-SMB2]
#                    3.3.5.9.10 skips durability for directories): after
#                    a drop and a kill -9, B's open of it for DELETE is
#                    granted and A's DH2C is refused with
#                    STATUS_OBJECT_NAME_NOT_FOUND.  No control: there is
#                    no guarantee for stock to break.
#   delete_on_close  A's persistent open to be deleted at its close, by
#                    FILE_DELETE_ON_CLOSE or by a SET_INFO
#                    (FileDispositionInformation), reconnects after a
#                    drop, a kill -9 of its smbd and a restart (the file
#                    is still there), and the file goes when A closes it;
#                    when B also has it open, it goes when B's handle, the
#                    last, closes; a disconnected one goes when it expires
#                    (after a drop, and after a SET_INFO and a kill -9);
#                    a SET_INFO that clears it again is kept too.
#                    Control: on [stock] A's DH2C of its open with
#                    FILE_DELETE_ON_CLOSE must be refused (stock closes
#                    and deletes it at the disconnect).
#   timeout          the DH2Q timeout: 2 s asked, 2 s answered, protected
#                    at t0+1 s, expired at t0+3 s (DH2C refused, B granted);
#                    0 asked: the default, 60 s on [ca], 3 s on [short]
#                    (persistent:timeout = 3), which then expires at 3 s;
#                    10 s asked on [short] (persistent:max timeout = 4):
#                    4 s answered, protected at t0+3 s, expired at t0+5 s.
# Exit 0 pass, 77 skip, anything else fail; the last line is
# "N passed, N failed".
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

scenario=${1:-}
case $scenario in
not_available | handle_wait | directory | delete_on_close | timeout) ;;
*)
	echo "usage: $0 not_available|handle_wait|directory|delete_on_close|timeout" >&2
	exit 2
	;;
esac

addr=127.0.0.35
dir=$(mktemp -d "/var/tmp/samba-ca-psem-$scenario.XXXXXX")
creds="$SCA_USER%$SCA_PASS"
RW=0x12019f
READ=0x120089
RWD=0x13019f # RW + DELETE
NOT_AVAILABLE=0xc0000467
passed=0
failed=0
pst_cleanup "$dir"
trap 'pst_cleanup_now; echo "$passed passed, $failed failed"' EXIT

pst_setup "$dir" "$addr" "	log level = 1 vfs:3
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no" || exit 1
pst_add_stock_share "$dir" stock
mkdir -p "$dir/short"
chmod 777 "$dir/short"
cat >>"$dir/smb.conf" <<CONF

[short]
	path = $dir/short
	read only = no
	vfs objects = persistent
	posix locking = no
	persistent:timeout = 3
	persistent:max timeout = 4
CONF
smbd_start "$dir" "$addr" || exit 1
pst_driver || exit 1

# expect WHAT PATTERN: the driver's last reply matches PATTERN (counted)
expect() {
	local before=$nfail
	check "$@"
	if [ "$nfail" -eq "$before" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
}
ok() {
	echo "  ok: $1"
	passed=$((passed + 1))
}
not_ok() {
	echo "  NOT OK: $1"
	failed=$((failed + 1))
}
# file_is PATH present|gone WHAT
file_is() {
	if { [ "$2" = present ] && [ -e "$1" ]; } ||
		{ [ "$2" = gone ] && [ ! -e "$1" ]; }; then
		ok "$3"
	else
		not_ok "$3 (${1##*/} is $([ -e "$1" ] && echo present || echo gone))"
	fi
}
# sleep_until T0 SECONDS: sleep until SECONDS after the date +%s.%N T0
sleep_until() {
	sleep "$(awk -v t0="$1" -v s="$2" -v now="$(date +%s.%N)" \
		'BEGIN { d = t0 + s - now; printf "%.2f", (d > 0 ? d : 0) }')"
}
since() {
	awk -v t0="$1" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - t0 }'
}
# away EVENT CLIENT...: drop (the clients' connections are lost) or kill
# (kill -9 of every smbd serving a client: no other client may be
# connected); returns 1 if the event could not be made
away() {
	local event=$1 c pids
	shift
	case $event in
	drop)
		for c in "$@"; do
			send drop "$c"
		done
		;;
	kill)
		pids=$(pst_serving_pids "$dir")
		echo "    kill -9 of the smbds serving $*:" ${pids:-none}
		[ -n "$pids" ] || return 1
		kill -KILL $pids || return 1
		;;
	esac
	sleep 1
}

# ---- not_available ----

# In a control run (ctl=1, the [stock] share) the steps before the window
# and the attempts in it are classified by ctl_* (persistent_common.sh)
# instead of counted: stock must fail at the guarantee, not before it.
ctl=0
# step WHAT PATTERN: a step that leads to the window
step() {
	if [ "$ctl" = 1 ]; then
		ctl_step "$1" "$([[ $reply =~ $2 ]] && echo 1 || echo 0)" "$reply"
	else
		expect "$1" "$2"
	fi
}
# contend WHAT: B's contending open just sent: refused with
# STATUS_FILE_NOT_AVAILABLE; a granted open is closed again
contend() {
	if [ "$ctl" = 1 ]; then
		ctl_second "$1" "$(pst_answer "$PST_OPEN_REFUSED")"
	else
		expect "$1: STATUS_FILE_NOT_AVAILABLE" "^ERR $NOT_AVAILABLE"
	fi
	if [[ $reply == OK* ]]; then
		send close b
	fi
}
# owner_back C TEXT: C's DH2C gives back the same file id, C reads TEXT
owner_back() {
	local c=$1 text=$2
	send reconnect "$c"
	if [ "$ctl" = 1 ]; then
		ctl_reconnect "$c: DH2C" "$(pst_answer "$PST_DH2C_REFUSED")"
	else
		expect "$c: DH2C, same file id" "^OK .*same=yes"
	fi
	[[ $reply == OK* ]] || return
	send read "$c" 0 ${#text}
	[ "$ctl" = 1 ] || expect "$c reads back what it wrote" "^OK $text\$"
	send close "$c"
}

# owner_open C SHARE NAME SHARE-MODE LEASE TEXT: C's persistent open
# (a durable one is all stock grants), and C writes TEXT
owner_open() {
	local c=$1 share=$2 name=$3 mode=$4 lease=$5 text=$6 want
	send connect "$c" "//$addr/$share" "$creds"
	send open "$c" "$name" $RW "$mode" 60000 "$lease" 1
	want="^OK .*persistent=1 .*lease=$lease "
	[ "$lease" = - ] && want="^OK .*persistent=1 .*oplock=0x09"
	[ "$ctl" = 1 ] && want="^OK .*durable=1"
	step "$c: open of $name with ${lease/-/batch oplock}, share mode $mode" "$want"
	send write "$c" 0 "$text"
	step "$c wrote" "^OK"
}

not_available_round() {
	local event=$1 p="na-$1"
	echo "== A away ($event): every contending open fails with STATUS_FILE_NOT_AVAILABLE"
	owner_open a1 ca "$p-share.dat" 1 R "a1-$event"
	owner_open a2 ca "$p-lease.dat" 7 RW "a2-$event"
	owner_open a3 ca "$p-batch.dat" 7 - "a3-$event"
	owner_open a4 ca "$p-over.dat" 7 R "a4-$event"
	away "$event" a1 a2 a3 a4 || not_ok "$event: the owners' smbds not found"
	send connect b "//$addr/ca" "$creds"
	expect "B connected" "^OK"
	send plain b "$p-share.dat" $RW 7
	contend "B: open for write, A shares only READ"
	send open b "$p-share.dat" $RW 7 60000 RWH 1
	contend "B: persistent create for write"
	send open b "$p-share.dat" $RW 7 60000 RWH 1 same-guid
	contend "B: the same create again (its create GUID)"
	send plain b "$p-lease.dat" $READ 7
	contend "B: open for read, A's lease RW must break"
	send plain b "$p-batch.dat" $READ 7
	contend "B: open for read, A's batch oplock must break"
	send plain b "$p-over.dat" $RW 7 4
	contend "B: overwrite, A holds lease R"
	send plain b "$p-over.dat" $RW 7 5
	contend "B: overwrite-if, A holds lease R"
	send plain b "$p-over.dat" $RW 7 0
	contend "B: supersede, A holds lease R"
	send drop b
	owner_back a1 "a1-$event"
	owner_back a2 "a2-$event"
	owner_back a3 "a3-$event"
	owner_back a4 "a4-$event"
}

not_available_control() {
	local p=na-stock
	echo "== control on [stock]: the batch oplock path, A's connection dropped"
	ctl=1
	ctl_begin "[stock] drop, batch oplock"
	owner_open a3 stock "$p-batch.dat" 7 - a3-stock
	away drop a3
	send connect b "//$addr/stock" "$creds"
	ctl_step "B connected" "$([[ $reply == OK* ]] && echo 1 || echo 0)" "$reply"
	send plain b "$p-batch.dat" $READ 7
	contend "B: open for read, A's batch oplock must break"
	send plain b "$p-batch.dat" $RW 7 5
	contend "B: overwrite-if"
	send drop b
	owner_back a3 a3-stock
	ctl=0
	if ctl_verdict; then
		ok "the control fails on [stock] at the guarantee"
	else
		not_ok "the control did not fail at the guarantee: it proves nothing"
	fi
}

# ---- handle_wait ----

# handle_wait_reconnect EVENT: EVENT connected is the instrument's
# control: with A connected, B's open must get an interim response and
# wait for A's acknowledgement (the driver can see both)
handle_wait_reconnect() {
	local event=$1 name="hw-$1.dat"
	if [ "$event" = connected ]; then
		echo "== control, A connected: B's open for read gets an interim response and waits for A's acknowledgement"
	else
		echo "== A away ($event): B's open for read waits for the break of A's lease RWH"
	fi
	send connect a "//$addr/ca" "$creds"
	send open a "$name" $RW 7 60000 RWH 1
	expect "A: persistent open with lease RWH" "^OK .*persistent=1 .*lease=RWH "
	send write a 0 "hw-$event"
	if [ "$event" != connected ]; then
		away "$event" a || not_ok "$event: A's smbd not found"
	fi
	send connect b "//$addr/ca" "$creds"
	send plain_async b "$name" $READ 7
	expect "B's open for read sent" "^OK sent"
	send poll b 3000
	expect "B: an interim response (STATUS_PENDING)" "interim=yes"
	expect "B: no answer for 3 s (neither refused nor granted at once)" \
		"answered=no"
	local at_once=0
	if [[ $reply =~ answered=yes ]]; then
		at_once=1
		send wait b
		not_ok "B answered at once (above): no break for A to acknowledge"
		[[ $reply == OK* ]] && send close b
	fi
	if [ "$event" != connected ]; then
		send reconnect a
		expect "A: DH2C while B waits, same file id" "^OK .*same=yes"
	fi
	if [ "$at_once" = 0 ]; then
		send breakack a
		expect "A: the break RWH->RH, acknowledged" \
			"^OK break RWH->RH acked=RH"
		send wait b
		expect "B's open completes after A's acknowledgement" \
			"^OK fid=.* interim=yes"
		[[ $reply == OK* ]] && send close b
	fi
	send read a 0 $((3 + ${#event}))
	expect "A still reads what it wrote" "^OK hw-$event\$"
	send close a
	send drop b
}

handle_wait_expiry() {
	local name=hw-expiry.dat t0
	echo "== A away, its open expires: B's waiting open completes then, not before"
	send connect a "//$addr/ca" "$creds"
	send open a "$name" $RW 7 4000 RWH 1
	expect "A: persistent open, lease RWH, timeout 4 s" \
		"^OK .*persistent=1 timeout=4000 lease=RWH "
	send drop a
	t0=$(date +%s.%N)
	send connect b "//$addr/ca" "$creds"
	send plain_async b "$name" $READ 7
	send poll b 2000
	expect "B: an interim response" "interim=yes"
	expect "B: no answer at t0+2 s" "answered=no"
	send wait b
	local took
	took=$(since "$t0")
	expect "B's open completes" "^OK fid="
	if awk -v t="$took" 'BEGIN { exit !(t >= 3.5 && t <= 12) }'; then
		ok "B's open completed at t0+$took s (A's open expired at t0+4 s)"
	else
		not_ok "B's open completed at t0+$took s, not when A's open expired (t0+4 s)"
	fi
	[[ $reply == OK* ]] && send close b
	sleep_until "$t0" 5.5
	send reconnect a
	expect "t0+5.5 s: A's DH2C refused (expired at t0+4 s)" \
		"^ERR $PST_DH2C_REFUSED"
	send drop b
}

# The control: the same drop on [stock] (durable, no module): B's open
# must not be granted while A is away (granted at once is the breach),
# and A's DH2C must not be refused.
handle_wait_control() {
	local name=hw-stock.dat answer
	echo "== control on [stock]: A's durable open with lease RWH, A's connection dropped"
	ctl=1
	ctl_begin "[stock] drop, lease RWH"
	send connect a "//$addr/stock" "$creds"
	send open a "$name" $RW 7 60000 RWH 1
	step "A: durable open with lease RWH" "^OK .*durable=1.* lease=RWH "
	send write a 0 hw-stock
	step "A wrote" "^OK"
	away drop a
	send connect b "//$addr/stock" "$creds"
	step "B connected" "^OK"
	send plain_async b "$name" $READ 7
	step "B's open for read sent" "^OK sent"
	send poll b 3000
	if [[ $reply =~ answered=yes ]]; then
		send wait b
		answer=$(pst_answer "$PST_OPEN_REFUSED")
		[[ $reply == OK* ]] && send close b
	elif [[ $reply =~ answered=no ]]; then
		answer="refused (no answer for 3 s: it waits)"
	else
		answer="error (${reply:-no reply})"
	fi
	ctl_second "B: open for read while A is away (A's lease RWH)" "$answer"
	send reconnect a
	ctl_reconnect "A: DH2C" "$(pst_answer "$PST_DH2C_REFUSED")"
	[[ $reply == OK* ]] && send close a
	send drop b
	ctl=0
	if ctl_verdict; then
		ok "the control fails on [stock] at the guarantee"
	else
		not_ok "the control did not fail at the guarantee: it proves nothing"
	fi
}

# ---- directory ----

# [MS-SMB2] 3.3.5.9.10: "If Open.FileAttributes includes
# FILE_ATTRIBUTE_DIRECTORY ..., the server MUST skip the rest of the
# processing in this section": a DH2Q on a directory gets no durable
# handle, persistent or not (docs/persistent-semantics.md).  The client is
# told so (no DH2Q response), so nothing of the open outlives its
# connection: no record, no protection, no reconnect.
directory_round() {
	local event=$1 name="pdir-$1"
	echo "== a DH2Q with the persistent flag on a directory: answered without a durable handle, A away ($event)"
	send connect a "//$addr/ca" "$creds"
	send opendir a "$name" 60000 1
	expect "A: the directory opened, neither durable nor persistent ([MS-SMB2] 3.3.5.9.10)" \
		"^OK .*durable=0 persistent=0 "
	away "$event" a || not_ok "$event: A's smbd not found"
	send connect b "//$addr/ca" "$creds"
	# open C NAME: DELETE + read attributes + synchronize, FILE_OPEN,
	# FILE_DIRECTORY_FILE
	send plain b "$name" 0x110080 7 1 1
	expect "B: open of the directory for DELETE granted (A held no open past its connection)" \
		"^OK"
	[[ $reply == OK* ]] && send close b
	send drop b
	send reconnect a
	expect "A: DH2C refused: STATUS_OBJECT_NAME_NOT_FOUND (nothing to reconnect)" \
		"^ERR $PST_DH2C_REFUSED"
	file_is "$dir/ca/$name" present "the directory is still there"
}

# ---- delete_on_close ----

# doc_away EVENT: A away by EVENT: drop, kill (kill -9 of the smbd
# serving A; no other client may be connected) or restart (every smbd
# stopped and started)
doc_away() {
	case $1 in
	restart)
		echo "    every smbd stopped and started"
		smbd_stop "$dir"
		smbd_start "$dir" "$addr" || not_ok "smbd started again"
		;;
	*) away "$1" a || not_ok "$1: A's smbd not found" ;;
	esac
}

# doc_round EVENT HOW NAME: A's persistent open of NAME, to be deleted at
# its close (HOW create: FILE_DELETE_ON_CLOSE; setinfo: a SET_INFO
# FileDispositionInformation after the open), A away by EVENT: the file
# stays, A's DH2C gives back the same file id, A reads what it wrote, and
# A's close deletes the file
doc_round() {
	local event=$1 how=$2 name=$3 variant=
	echo "== A's persistent open, delete on close by $how, A away ($event): it reconnects; A's close deletes"
	[ "$how" = create ] && variant=delete-on-close
	send connect a "//$addr/ca" "$creds"
	send open a "$name" $RWD 7 60000 RWH 1 $variant
	expect "A: persistent open${variant:+ with FILE_DELETE_ON_CLOSE}" \
		"^OK .*persistent=1"
	if [ "$how" = setinfo ]; then
		send setdelete a 1
		expect "A: SET_INFO FileDispositionInformation (delete)" "^OK"
	fi
	send write a 0 "$name"
	doc_away "$event"
	file_is "$dir/ca/$name" present "while A is away ($event) the file is there"
	send reconnect a
	expect "A: DH2C, same file id" "^OK .*same=yes"
	send read a 0 ${#name}
	expect "A reads back what it wrote" "^OK $name\$"
	send close a
	expect "A's close" "^OK"
	file_is "$dir/ca/$name" gone "after A's close the file is gone"
}

delete_on_close_scenario() {
	local t0
	doc_round drop create doc-drop.dat
	doc_round kill create doc-kill.dat
	doc_round restart create doc-restart.dat
	doc_round drop setinfo doc-si-drop.dat
	doc_round kill setinfo doc-si-kill.dat
	doc_round restart setinfo doc-si-restart.dat

	echo "== B also has it open: the file goes with the last handle"
	send connect b "//$addr/ca" "$creds"
	send plain b doc2.dat $RW 7
	expect "B: open (creates doc2.dat)" "^OK"
	send connect a "//$addr/ca" "$creds"
	send open a doc2.dat $RWD 7 60000 RH 1 delete-on-close
	expect "A: persistent open with FILE_DELETE_ON_CLOSE" "^OK .*persistent=1"
	send drop a
	sleep 1
	send reconnect a
	expect "A: DH2C, same file id" "^OK .*same=yes"
	send close a
	expect "A's close" "^OK"
	file_is "$dir/ca/doc2.dat" present "after A's close B's handle keeps it"
	send close b
	expect "B's close" "^OK"
	file_is "$dir/ca/doc2.dat" gone "after B's close, the last, it is gone"

	echo "== A away until its open expires: the file goes then"
	send connect a "//$addr/ca" "$creds"
	send open a doc3.dat $RWD 7 3000 RWH 1 delete-on-close
	expect "A: persistent open with FILE_DELETE_ON_CLOSE, timeout 3 s" \
		"^OK .*persistent=1 timeout=3000"
	send drop a
	t0=$(date +%s.%N)
	sleep_until "$t0" 1
	file_is "$dir/ca/doc3.dat" present "at t0+1 s the file is there"
	sleep_until "$t0" 6
	file_is "$dir/ca/doc3.dat" gone "at t0+6 s (expired at t0+3 s) it is gone"
	send reconnect a
	expect "A's DH2C after the expiry refused" "^ERR $PST_DH2C_REFUSED"
	send drop b

	echo "== SET_INFO delete, A's smbd killed, A away until its open expires"
	send connect a "//$addr/ca" "$creds"
	send open a doc4.dat $RWD 7 3000 RWH 1
	expect "A: persistent open, timeout 3 s" "^OK .*persistent=1 timeout=3000"
	send setdelete a 1
	expect "A: SET_INFO FileDispositionInformation (delete)" "^OK"
	away kill a || not_ok "kill: A's smbd not found"
	t0=$(date +%s.%N)
	# B keeps the share connected: its smbd's expiry timer
	send connect b "//$addr/ca" "$creds"
	sleep_until "$t0" 1
	file_is "$dir/ca/doc4.dat" present "at t0+1 s the file is there"
	sleep_until "$t0" 8
	file_is "$dir/ca/doc4.dat" gone "at t0+8 s (expired at t0+3 s) it is gone"
	send drop b

	echo "== SET_INFO delete, then SET_INFO undelete: the file stays"
	send connect a "//$addr/ca" "$creds"
	send open a doc5.dat $RWD 7 60000 RWH 1
	expect "A: persistent open" "^OK .*persistent=1"
	send setdelete a 1
	send setdelete a 0
	expect "A: SET_INFO FileDispositionInformation (undelete)" "^OK"
	away kill a || not_ok "kill: A's smbd not found"
	send reconnect a
	expect "A: DH2C, same file id" "^OK .*same=yes"
	send close a
	file_is "$dir/ca/doc5.dat" present "after A's close the file stays"
}

# The control on [stock]: A's durable open with FILE_DELETE_ON_CLOSE;
# stock's durable disconnect refuses an open to be deleted, closes it and
# deletes the file, so A's DH2C is refused
delete_on_close_control() {
	echo "== control on [stock]: A's open with FILE_DELETE_ON_CLOSE, A's connection dropped"
	ctl_begin "[stock] drop, delete on close"
	send connect a "//$addr/stock" "$creds"
	ctl_step "A connected" "$([[ $reply == OK* ]] && echo 1 || echo 0)" "$reply"
	send open a doc-stock.dat $RWD 7 60000 RWH 1 delete-on-close
	ctl_step "A's open granted durable (stock grants no persistent handle)" \
		"$([[ $reply =~ ^OK\ .*durable=1 ]] && echo 1 || echo 0)" "$reply"
	send write a 0 doc-stock
	ctl_step "A wrote" "$([[ $reply == OK* ]] && echo 1 || echo 0)" "$reply"
	send drop a
	ctl_step "A's connection dropped" "$([[ $reply == OK* ]] && echo 1 || echo 0)"
	sleep 1
	echo "    the file while A is away: $([ -e "$dir/stock/doc-stock.dat" ] && echo present || echo gone)"
	send reconnect a
	ctl_reconnect "A: DH2C" "$(pst_answer "$PST_DH2C_REFUSED")"
	[[ $reply == OK* ]] && send close a
	if ctl_verdict; then
		ok "the control fails on [stock] at the guarantee"
	else
		not_ok "the control did not fail at the guarantee: it proves nothing"
	fi
}

# ---- timeout ----

# timeout_case SHARE NAME ASKED GRANTED PROTECTED-AT EXPIRED-AT (seconds)
timeout_case() {
	local share=$1 name=$2 asked=$3 granted=$4 at=$5 after=$6 t0
	echo "== [$share] DH2Q timeout $asked ms asked: $granted ms granted and kept"
	send connect a "//$addr/$share" "$creds"
	send connect b "//$addr/$share" "$creds"
	send open a "$name" $RW 1 "$asked" RWH 1
	expect "A: answered timeout $granted ms" \
		"^OK .*persistent=1 timeout=$granted "
	send drop a
	t0=$(date +%s.%N)
	sleep_until "$t0" "$at"
	send plain b "$name" $RW 7
	expect "t0+$at s: B's open for write refused (A's open still held)" \
		"^ERR ($PST_OPEN_REFUSED)"
	[[ $reply == OK* ]] && send close b
	sleep_until "$t0" "$after"
	send reconnect a
	expect "t0+$after s: A's DH2C refused (expired)" "^ERR $PST_DH2C_REFUSED"
	send plain b "$name" $RW 7
	expect "t0+$after s: B's open for write granted (released)" "^OK"
	[[ $reply == OK* ]] && send close b
	send drop b
}

timeout_scenario() {
	timeout_case ca t2.dat 2000 2000 1 3
	echo "== [ca] DH2Q timeout 0: the server's default, 60 s"
	send connect a "//$addr/ca" "$creds"
	send open a t0.dat $RW 7 0 RWH 1
	expect "A: answered timeout 60000 ms" "^OK .*persistent=1 timeout=60000 "
	send close a
	timeout_case short t0-short.dat 0 3000 2 4
	timeout_case short tmax-short.dat 10000 4000 3 5
}

case $scenario in
not_available)
	not_available_round drop
	not_available_round kill
	not_available_control
	;;
handle_wait)
	handle_wait_reconnect connected
	handle_wait_reconnect drop
	handle_wait_reconnect kill
	handle_wait_expiry
	handle_wait_control
	;;
directory)
	directory_round drop
	directory_round kill
	;;
delete_on_close)
	delete_on_close_scenario
	delete_on_close_control
	;;
timeout) timeout_scenario ;;
esac

send quit
if pst_smbd_healthy "$dir"; then
	ok "smbd healthy"
else
	not_ok "smbd healthy"
fi
[ "$failed" -eq 0 ]
