# shellcheck shell=bash
# Shared by the persistent_*.sh tests (sourced, not a test itself).
# Source after selftest/lib/smbd.sh.

# pst_setup DIR ADDR GLOBAL-LINES [CA-SHARE-LINES]: smbd_setup (shares
# [plain] and [ca] with vfs objects = persistent), with "interfaces =
# ADDR/8" so that smbd finds its address through lo's 127.0.0.1/8 even when
# a test's smbd_stop/smbd_start (a full restart) has taken ADDR off lo; and
# a check that the build has the module where its smbd looks for it.
pst_setup() {
	local dir=$1 addr=$2
	smbd_setup "$@" || return 1
	sed -i -e "s|^\(\tinterfaces = $addr\)\$|\1/8|" "$dir/smb.conf"
	if [ ! -e "$SAMBA_BIN/modules/vfs/persistent.so" ]; then
		echo "FAIL: $SAMBA_BIN/modules/vfs/persistent.so missing"
		return 1
	fi
}

# pst_add_stock_share DIR NAME: a share [NAME] without the module that only
# announces CA ("smb3 share cap:CONTINUOUS AVAILABILITY = yes"): the stock
# behaviour every persistence test must also be shown to fail on.
pst_add_stock_share() {
	local dir=$1 name=$2
	mkdir -p "$dir/$name"
	chmod 777 "$dir/$name"
	cat >>"$dir/smb.conf" <<CONF

[$name]
	path = $dir/$name
	read only = no
	posix locking = no
	smb3 share cap:CONTINUOUS AVAILABILITY = yes
CONF
}

# pst_torture SHARE-URL OUT TEST...: run the build's smbtorture as the test
# user; prints nothing, returns smbtorture's status.
pst_torture() {
	local url=$1 out=$2
	shift 2
	timeout 600 "$SAMBA_BIN/smbtorture" "$url" \
		-U "$SCA_USER%$SCA_PASS" "$@" >"$out" 2>&1
}

# pst_results OUT: one line per subtest: "  pass|FAIL|skip name".
pst_results() {
	sed -n -e 's/^success: \(.*\)$/  pass \1/p' \
		-e 's/^failure: \([^ ]*\).*$/  FAIL \1/p' \
		-e 's/^error: \([^ ]*\).*$/  FAIL \1 (error)/p' \
		-e 's/^skip: \([^ ]*\).*$/  skip \1/p' "$1"
}

# pst_result OUT NAME: pass, FAIL, skip or missing for one subtest.
pst_result() {
	local line
	line=$(pst_results "$1" | awk -v n="$2" '$2 == n { print $1; exit }')
	echo "${line:-missing}"
}

# pst_cleanup DIR [COMMAND]: at exit, stop the driver (pst_driver) and
# DIR's smbd, run COMMAND if given, say where the logs are.
pst_cleanup() {
	PST_DIR=$1
	PST_AT_EXIT=${2:-}
	trap pst_cleanup_now EXIT
}
pst_cleanup_now() {
	if [ -n "${D_PID:-}" ]; then
		kill "$D_PID" 2>/dev/null
	fi
	smbd_stop "$PST_DIR"
	if [ -n "$PST_AT_EXIT" ]; then
		eval "$PST_AT_EXIT"
	fi
	echo "logs kept in $PST_DIR"
}

# pst_driver: start smbclient3's scripted client (sca_persistent_driver) as
# the coprocess D (its pid in D_PID, for the caller's cleanup).  Then
#   send CMD...         one command to the driver, its answer in $reply
#                       (both echoed, indented)
#   check WHAT PATTERN  the last reply matches the extended regex PATTERN:
#                       "ok: WHAT", or "NOT OK: WHAT" and nfail+1
pst_driver() {
	local drv="$SAMBA_TREE/bin/sca_persistent_driver"
	if [ ! -x "$drv" ]; then
		echo "FAIL: $drv missing"
		return 1
	fi
	coproc D { "$drv" 2>&1; }
	D_PID=$D_PID
	reply=
	nfail=0
}

send() {
	echo "$*" >&"${D[1]}"
	reply=
	IFS= read -r -t 60 reply <&"${D[0]}"
	echo "    > $* : $reply"
}

check() {
	if [[ "$reply" =~ $2 ]]; then
		echo "  ok: $1"
	else
		echo "  NOT OK: $1 (expected /$2/)"
		nfail=$((nfail + 1))
	fi
}

# pst_smbd_healthy DIR: DIR's smbd still runs (with ALIVE=yes, the default)
# and its log has no panic; says what is wrong, returns 1 then.
pst_smbd_healthy() {
	local dir=$1 rc=0
	if [ "${ALIVE:-yes}" = yes ] &&
		! kill -0 "$(cat "$dir/smbd.pid" 2>/dev/null)" 2>/dev/null; then
		echo "FAIL: smbd is gone"
		rc=1
	fi
	if grep -q "PANIC\|INTERNAL ERROR" "$dir/log.smbd"; then
		echo "FAIL: smbd panicked:"
		grep -m3 "PANIC\|INTERNAL ERROR" "$dir/log.smbd"
		rc=1
	fi
	return $rc
}

# The stock control.  Every persistence test also runs on the stock
# configuration (the same build, the share only announcing CA, no module)
# and must fail there at the guarantee: in the window the second client
# was granted the lock or the conflicting open, or the owner's reconnect
# (DH2C) was refused.  A run that fails earlier (the owner got no grant,
# the outage did not happen, the VM did not start, a client errored)
# proves nothing, nor does one that passes: either is an error of the
# test.  Stock smbd grants no persistent handle, only what it has (a
# durable handle), so a control asks for what the test asks for, takes
# what it gets and goes on to the window.  Also sourced by
# vm_persistent_lib.sh (only the ctl_* functions are used there).
#
#   ctl_begin NAME            a new control run, named in every line
#   ctl_step WHAT OK [DETAIL] a step the run needs to reach the window
#                             (OK 1 or 0): the owner's grant, its lock,
#                             the outage, the second client's session
#   ctl_second WHAT ANSWER    the second client's attempt in the window;
#                             ANSWER granted (the guarantee broke),
#                             refused (STATUS) (it held) or error (...)
#   ctl_reconnect WHAT ANSWER the owner's DH2C after the window: refused
#                             (STATUS) broke the guarantee, granted held
#   ctl_verdict               one line, "CONTROL OK    NAME: fails at the
#                             guarantee ..." (returns 0) or "CONTROL
#                             ERROR NAME: <why> ..." (returns 1)
ctl_begin() {
	ctl_name=$1
	ctl_early=
	ctl_error=
	ctl_breaches=
	ctl_held=
	ctl_attempts=0
	echo "  control $ctl_name: must fail at the guarantee"
}

ctl_step() {
	local what=$1 ok=$2 detail=${3:-}
	if [ "$ok" = 1 ]; then
		echo "  control step ok: $what${detail:+ ($detail)}"
	else
		echo "  control step NOT reached: $what${detail:+ ($detail)}"
		[ -n "$ctl_early" ] || ctl_early="$what${detail:+ ($detail)}"
	fi
}

# ctl_window_ WHAT ANSWER BREACH-IF: BREACH-IF granted or refused
ctl_window_() {
	local what=$1 answer=$2 breach_if=$3
	ctl_attempts=$((ctl_attempts + 1))
	case $answer in
	granted | refused*)
		if [ "${answer%% *}" = "$breach_if" ]; then
			echo "  control window: $what: $answer: the guarantee broke"
			ctl_breaches="${ctl_breaches:+$ctl_breaches; }$what: $answer"
		else
			echo "  control window: $what: $answer: held"
			ctl_held="${ctl_held:+$ctl_held; }$what"
		fi
		;;
	*)
		echo "  control window: $what: $answer: no answer"
		[ -n "$ctl_error" ] || ctl_error="$what: $answer"
		;;
	esac
}
ctl_second() { ctl_window_ "$1" "$2" granted; }
ctl_reconnect() { ctl_window_ "$1" "$2" refused; }

ctl_verdict() {
	if [ -n "$ctl_early" ]; then
		echo "CONTROL ERROR $ctl_name: failed before the window, at:" \
			"$ctl_early: it proves nothing"
		return 1
	fi
	if [ "$ctl_attempts" -eq 0 ]; then
		echo "CONTROL ERROR $ctl_name: no attempt in the window:" \
			"it proves nothing"
		return 1
	fi
	if [ -n "$ctl_error" ]; then
		echo "CONTROL ERROR $ctl_name: a client errored in the window:" \
			"$ctl_error: it proves nothing"
		return 1
	fi
	if [ -z "$ctl_breaches" ]; then
		echo "CONTROL ERROR $ctl_name: passed on stock (held: $ctl_held):" \
			"the test cannot fail, it proves nothing"
		return 1
	fi
	echo "CONTROL OK    $ctl_name: fails at the guarantee, as it must:" \
		"$ctl_breaches"
	return 0
}

# pst_answer REFUSALS: the driver's last $reply as a window answer:
# granted, refused (STATUS) when the server answered an NTSTATUS that
# matches the extended regex REFUSALS (what refuses the attempt: a
# SHARING_VIOLATION, not a USER_SESSION_DELETED), else error (...): no
# reply, a transport or client error, another status.
pst_answer() {
	local status
	case $reply in
	OK*) echo granted ;;
	ERR\ 0x*)
		status=${reply:4:10}
		if [[ $status =~ ^($1)$ ]]; then
			echo "refused ($status)"
		else
			echo "error ($reply)"
		fi
		;;
	*) echo "error (${reply:-no reply})" ;;
	esac
}

# pst_serving_pids DIR: the smbd processes of DIR's server that serve a
# client (smbstatus -p).  Callers ask while a client is connected; an
# empty answer (smbstatus racing a busy machine) is asked again, for up to
# 5 s, rather than taken for "no smbd".
pst_serving_pids() {
	local pids i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		pids=$("$SAMBA_BIN/smbstatus" -s "$1/smb.conf" -p 2>/dev/null |
			awk '$1 ~ /^[0-9]+$/ { print $1 }' | sort -u)
		[ -n "$pids" ] && break
		sleep 0.5
	done
	echo "$pids"
}

# The statuses that refuse a conflicting open (SHARING_VIOLATION,
# FILE_NOT_AVAILABLE), a lock (FILE_LOCK_CONFLICT, LOCK_NOT_GRANTED) and a
# DH2C (OBJECT_NAME_NOT_FOUND, [MS-SMB2] 3.3.5.9.12)
PST_OPEN_REFUSED='0xc0000043|0xc0000467'
PST_LOCK_REFUSED='0xc0000054|0xc0000055'
PST_DH2C_REFUSED='0xc0000034'

# pst_stock_window DIR ADDR SHARE EVENT LEASE NAME: the window of the
# persistence tests, run as a control on the stock share SHARE of DIR's
# server on ADDR with the driver (pst_driver): client A opens NAME as the
# tests do (DH2Q with the persistent flag, timeout 60 s, lease LEASE or
# "-" for a batch oplock, share mode READ), writes and locks [0,100);
# then EVENT: drop (A's connection is lost), kill (kill -9 of the smbd
# serving A; no other client may be connected) or restart (every smbd
# stopped and started); while A is away client B tries an open for write
# (a share-mode conflict), an open for read (a break of A's caching) and,
# on an attribute-only open, a lock of [0,10); then A's DH2C.  Classified
# by ctl_verdict (its status is returned).
pst_stock_window() {
	local dir=$1 addr=$2 share=$3 event=$4 lease=$5 name=$6
	local creds="$SCA_USER%$SCA_PASS" pids ok answer
	local rw=0x12019f read=0x120089 attr=0x80 caching="lease $lease"
	[ "$lease" = - ] && caching="batch oplock"
	echo "== [$share] control: $event, A's open with a $caching"
	ctl_begin "[$share] $event, $caching"
	send connect a "//$addr/$share" "$creds"
	ctl_step "A connected" "$([[ $reply == OK* ]] && echo 1 || echo 0)" "$reply"
	send open a "$name" $rw 1 60000 "$lease" 1
	# stock grants a durable handle, not a persistent one: the window is
	# what the control is about, so a durable grant is enough here
	ctl_step "A's open granted durable (stock grants no persistent handle)" \
		"$([[ $reply =~ ^OK\ .*durable=1 ]] && echo 1 || echo 0)" "$reply"
	send write a 0 "payload-$event"
	ctl_step "A wrote" "$([[ $reply == OK* ]] && echo 1 || echo 0)"
	send lock a 0 100
	ctl_step "A locked [0,100)" "$([[ $reply == OK* ]] && echo 1 || echo 0)" "$reply"
	case $event in
	drop)
		send drop a
		ctl_step "A's connection dropped" "$([[ $reply == OK* ]] && echo 1 || echo 0)"
		;;
	kill)
		pids=$(pst_serving_pids "$dir")
		ok=0
		if [ -n "$pids" ] && kill -KILL $pids; then
			ok=1
		fi
		ctl_step "kill -9 of the smbd serving A" "$ok" "${pids:-no smbd serves A}"
		;;
	restart)
		ok=0
		smbd_stop "$dir"
		smbd_start "$dir" "$addr" && ok=1
		ctl_step "every smbd stopped and started" "$ok"
		;;
	*)
		ctl_step "event $event" 0 "unknown event"
		;;
	esac
	sleep 1
	send connect b "//$addr/$share" "$creds"
	ctl_step "B connected" "$([[ $reply == OK* ]] && echo 1 || echo 0)" "$reply"
	send plain b "$name" $rw 7
	answer=$(pst_answer "$PST_OPEN_REFUSED")
	ctl_second "B: open for write (A shares only READ)" "$answer"
	[ "$answer" = granted ] && send close b
	send plain b "$name" $read 7
	answer=$(pst_answer "$PST_OPEN_REFUSED")
	ctl_second "B: open for read (a break of A's caching)" "$answer"
	[ "$answer" = granted ] && send close b
	send plain b "$name" $attr 7
	ctl_step "B: attribute-only open (for its lock)" \
		"$([[ $reply == OK* ]] && echo 1 || echo 0)" "$reply"
	send lock b 0 10
	answer=$(pst_answer "$PST_LOCK_REFUSED")
	ctl_second "B: lock [0,10) inside A's [0,100)" "$answer"
	[ "$answer" = granted ] && send unlock b 0 10
	send close b
	send reconnect a
	answer=$(pst_answer "$PST_DH2C_REFUSED")
	ctl_reconnect "A: DH2C" "$answer"
	[ "$answer" = granted ] && send close a
	send drop b
	sleep 0.5
	ctl_verdict
}

# pst_control_verdict NAME FILE: the stock control of a scenario function
# that ends its output (in FILE) with one line "result: guarantee-held",
# "result: guarantee-broken WHY" or "result: error WHY", classified by
# ctl_verdict like every other control (its status is returned).
pst_control_verdict() {
	local last
	last=$(tail -1 "$2")
	ctl_begin "$1"
	case $last in
	"result: guarantee-broken "*)
		ctl_second "${last#result: guarantee-broken }" granted
		;;
	"result: guarantee-held")
		ctl_second "every attempt of the scenario" "refused (held)"
		;;
	"result: error "*)
		ctl_step "${last#result: error }" 0
		;;
	*)
		ctl_step "the scenario's result line" 0 "${last:-none}"
		;;
	esac
	ctl_verdict
}

# Sections of a suite: pst_section NAME counts the section just run as
# passed, or as failed when PST_FAIL is not 0 (then resets it);
# pst_sections_done prints the closing line and returns the suite's status.
pst_passed=0
pst_failed=0
PST_FAIL=0
pst_section() {
	if [ "$PST_FAIL" -eq 0 ]; then
		pst_passed=$((pst_passed + 1))
	else
		pst_failed=$((pst_failed + 1))
		echo "  FAILED: $1"
	fi
	PST_FAIL=0
}
pst_sections_done() {
	echo "$pst_passed passed, $pst_failed failed"
	[ "$pst_failed" -eq 0 ]
}

# pst_kill_serving DIR: kill -9 of every smbd of DIR's server that serves
# a client, then a second for the parent to notice
pst_kill_serving() {
	local pids
	pids=$(pst_serving_pids "$1")
	echo "  kill -9 of the smbds serving clients:" $pids
	[ -n "$pids" ] && kill -KILL $pids
	sleep 1
}
