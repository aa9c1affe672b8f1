#!/usr/bin/env bash
# cluster_persistent_reclaim_race.sh: a second client asking for a
# persistent open's locked range over and over, from the failure of the
# node serving it until after its DH2C, never gets it (the failover demo's
# "one grant inside the window", docs/cluster-failover.md), on the 3-node
# test cluster with the project's scripted client in the client namespace.
#
# Per share ([ca], then the stock [share] as the control):
#   A connects to the first public address (node X), opens F with DH2Q
#     (persistent, 60 s) and lease RWH, and locks [0,4096);
#   B, through the other public address (node Y), opens F for attributes
#     only and from now on asks for [0,10) every 5 ms without a pause
#     (lockloop, 1 s at a time, until the end);
#   node X is disabled (ctdb disable); A notices its connection gone (a
#     read every 20 ms fails) and reclaims at once, as Windows does: new
#     connection to the same address, DH2C (RECLAIM_CYCLES more DH2Cs
#     follow: A drops its connection and reconnects, each one a moment in
#     which the open's disconnected locks are taken over);
#   B must have been refused every time, and A's unlock must find the
#     range still locked.
# Stock control: on [share] (a durable handle, no module) it must fail at
# the guarantee: B got A's range (or A's DH2C was refused, or A's lock is
# gone); failing earlier is an error of this test.
# Prints B's tries and refusals, and how many of them fell between the
# failure and A's (first) DH2C.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CLUSTER=$HERE/../cluster/cluster.sh
CYCLES=${RECLAIM_CYCLES:-5}

ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1000 }'; }

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: must run as root (network namespaces)"
	exit 77
fi
if ! [[ "$CYCLES" =~ ^[0-9]+$ ]] || [ "$CYCLES" -gt 100 ]; then
	echo "FAIL: RECLAIM_CYCLES must be a number from 0 to 100, not '$CYCLES'"
	exit 1
fi
if [ -z "${SAMBA_TREE:-}" ]; then
	. "$TOP/.build/samba.env" || exit 1
fi
drv="$SAMBA_TREE/bin/sca_persistent_driver"
if [ ! -x "$drv" ]; then
	echo "FAIL: $drv missing"
	exit 1
fi

work=$(mktemp -d)
cluster_up=0
nfail=0
A_PID=
B_PID=
POLLER=
cleanup() {
	local rc=$?
	[ -n "$POLLER" ] && kill "$POLLER" 2>/dev/null
	[ -n "$A_PID" ] && kill "$A_PID" 2>/dev/null
	[ -n "$B_PID" ] && kill "$B_PID" 2>/dev/null
	if [ "$cluster_up" = 1 ]; then
		"$CLUSTER" down >/dev/null 2>&1 || rc=1
	fi
	rm -rf "$work"
	[ "$nfail" = 0 ] && [ "$rc" = 0 ] || rc=1
	if [ "$rc" = 0 ]; then
		echo "PASS: cluster_persistent_reclaim_race"
	else
		echo "FAIL: cluster_persistent_reclaim_race (logs: ${SAMBA_CA_RUN:-/var/tmp/samba-ca-cluster})"
	fi
	exit "$rc"
}
trap cleanup EXIT

t=$(ms)
cluster_up=1
"$CLUSTER" up --nodes 3 || {
	nfail=1
	exit 1
}
echo "time: up $(secs "$t" "$(ms)") s"
eval "$("$CLUSTER" env)"
read -ra ips <<<"$SAMBA_CA_PUBLIC_IPS"
creds="$SAMBA_CA_USER%$SAMBA_CA_PASSWORD"

# one scripted client process each for A and B (B's lock loop runs while
# A reconnects), on a pair of FIFOs
start_driver() {
	local name=$1
	mkfifo "$work/$name.in" "$work/$name.out"
	"$CLUSTER" client "$drv" <"$work/$name.in" >"$work/$name.out" 2>&1 &
	eval "${name}_PID=$!"
	eval "exec {${name}_IN}>\"$work/$name.in\""
	eval "exec {${name}_OUT}<\"$work/$name.out\""
}
start_driver A
start_driver B
reply=
send() {
	local fd_in fd_out
	eval "fd_in=\$${1}_IN fd_out=\$${1}_OUT"
	echo "${*:2}" >&"$fd_in"
	reply=
	IFS= read -r -t 120 reply <&"$fd_out"
	[ "${QUIET:-0}" = 1 ] || echo "    $1> ${*:2} : $reply"
}


# B asks for [0,10) in 1 s lock loops until $work/stop exists; each loop's
# answer goes to $work/bloops
b_poll() {
	rm -f "$work/stop" "$work/bloops"
	(
		while [ ! -f "$work/stop" ]; do
			QUIET=1 send B lockloop b 0 10 1000
			echo "$reply" >>"$work/bloops"
			[[ "$reply" =~ ^OK ]] || exit 0
		done
	) &
	POLLER=$!
}
b_stop() {
	touch "$work/stop"
	wait "$POLLER"
	POLLER=
}

RW=0x12019f

# scenario SHARE NAME: prints "result: guarantee-held",
# "result: guarantee-broken WHY" or "result: error WHY" last
scenario() {
	local share=$1 name=$2 x y t_fail t_gone t_dh2c t_end i n
	"$CLUSTER" healthy 60 || {
		echo "result: error the cluster is not healthy"
		return
	}
	x=$("$CLUSTER" whohas "${ips[0]}")
	y=$("$CLUSTER" whohas "${ips[1]}")
	if [ "$x" = "$y" ]; then
		echo "result: error both public addresses on node $x"
		return
	fi
	echo "== [$share] disable of node $x (serving ${ips[0]}); B through ${ips[1]} (node $y)"
	send A connect a "//${ips[0]}/$share" "$creds"
	send A open a "$name" $RW 7 60000 RWH 1
	if [[ ! "$reply" =~ ^OK.*durable=1 ]]; then
		echo "result: error no durable or persistent open: $reply"
		return
	fi
	send A lock a 0 4096 0x11
	[[ "$reply" =~ ^OK ]] || {
		echo "result: error A's lock failed: $reply"
		return
	}
	send B connect b "//${ips[1]}/$share" "$creds"
	[[ "$reply" =~ ^OK ]] || {
		echo "result: error B cannot connect: $reply"
		return
	}
	send B plain b "$name" 0x80 7
	[[ "$reply" =~ ^OK ]] || {
		echo "result: error B's attribute-only open failed: $reply"
		return
	}
	b_poll
	t_fail=$(ms)
	"$CLUSTER" disable "$x" >"$work/disable.out" 2>&1 &
	local dis=$!
	# A notices the failure as a client does: its next request fails
	t_gone=
	for i in $(seq 1500); do
		QUIET=1 send A read a 0 1
		if [[ ! "$reply" =~ ^OK ]]; then
			t_gone=$(ms)
			break
		fi
		sleep 0.02
	done
	if [ -z "$t_gone" ]; then
		b_stop
		echo "result: error A's connection still served 30 s after the disable"
		return
	fi
	echo "  A's connection gone $(secs "$t_fail" "$t_gone") s after the disable ($reply)"
	send A reclaim a 90000
	t_dh2c=$(ms)
	wait "$dis" || {
		b_stop
		cat "$work/disable.out"
		echo "result: error ctdb disable of node $x failed"
		return
	}
	# a refused DH2C is reported after B's grants (the first guarantee)
	local broken=
	if [[ ! "$reply" =~ ^OK.*same=yes ]]; then
		broken="A's DH2C refused: $reply"
	else
		echo "  A's DH2C accepted $(secs "$t_fail" "$t_dh2c") s after the disable, by node $("$CLUSTER" whohas "${ips[0]}")"
	fi
	# more moments of the same kind: the open disconnected and reclaimed
	for i in $(seq "$CYCLES"); do
		[ -z "$broken" ] || break
		send A drop a
		sleep 0.3
		for n in 1 2 3; do
			send A reconnect a
			[[ "$reply" =~ ^OK.*same=yes ]] && break
			sleep 0.5
		done
		if [[ ! "$reply" =~ ^OK.*same=yes ]]; then
			broken="A's DH2C $i after the failover refused: $reply"
		fi
	done
	t_end=$(ms)
	b_stop
	# B's answers: tries, refusals, grants (epoch ms)
	local tries=0 refused=0 granted=0 in_window=0 grants="" r last=0
	while IFS= read -r r; do
		if [[ ! "$r" =~ ^OK\ tries=([0-9]+)\ refused=([^ ]*)\ granted=([^ ]*)$ ]]; then
			echo "result: error B's lock loop failed: $r"
			return
		fi
		tries=$((tries + BASH_REMATCH[1]))
		[ "${BASH_REMATCH[2]}" = - ] || {
			refused=$((refused + $(tr ',' '\n' <<<"${BASH_REMATCH[2]}" | wc -l)))
			in_window=$((in_window + $(tr ',' '\n' <<<"${BASH_REMATCH[2]}" | awk -v a="$t_fail" -v b="$t_dh2c" '$1 >= a && $1 <= b' | wc -l)))
			last=$(tr ',' '\n' <<<"${BASH_REMATCH[2]}" | tail -1)
		}
		[ "${BASH_REMATCH[3]}" = - ] || {
			granted=$((granted + $(tr ',' '\n' <<<"${BASH_REMATCH[3]}" | wc -l)))
			grants+="${grants:+,}${BASH_REMATCH[3]}"
		}
	done <"$work/bloops"
	echo "  B asked $tries times: refused $refused ($in_window between the disable and A's first DH2C), granted $granted"
	if [ "$granted" -gt 0 ]; then
		local rel_grants
		rel_grants=$(tr ',' '\n' <<<"$grants" | head -5 | awk -v a="$t_fail" '{ printf "%s%+.3f s", (NR > 1 ? ", " : ""), ($1 - a) / 1000 }')
		[ "$granted" -gt 5 ] && rel_grants+=", ..."
		echo "result: guarantee-broken B got A's range $granted times (at $rel_grants from the disable; A's first DH2C at +$(secs "$t_fail" "$t_dh2c") s)"
		return
	fi
	if [ -n "$broken" ]; then
		echo "result: guarantee-broken $broken"
		return
	fi
	if [ "$in_window" = 0 ] || [ "$last" -lt "$t_end" ]; then
		echo "result: error B did not ask throughout (refusals in the window: $in_window; last refusal $(secs "$t_fail" "${last:-0}") s, A done $(secs "$t_fail" "$t_end") s)"
		return
	fi
	send A unlock a 0 4096
	[[ "$reply" =~ ^OK ]] || {
		echo "result: guarantee-broken A's lock was lost: its unlock: $reply"
		return
	}
	send A close a
	echo "result: guarantee-held"
}

for share in "$SAMBA_CA_CA_SHARE" "$SAMBA_CA_SHARE"; do
	scenario "$share" "race-$share.dat" >"$work/out" 2>&1
	cat "$work/out"
	[ -n "$POLLER" ] && {
		touch "$work/stop"
		wait "$POLLER"
		POLLER=
	}
	verdict=$(grep '^result:' "$work/out" | tail -1)
	x=$(sed -n 's/^== .* of node \([0-9]*\) .*/\1/p' "$work/out")
	if [ "$share" = "$SAMBA_CA_CA_SHARE" ]; then
		if [ "$verdict" = "result: guarantee-held" ]; then
			echo "ok: [$share] B never got A's range through the failover and $CYCLES more reclaims"
		else
			echo "NOT OK: [$share]: ${verdict#result: }"
			nfail=$((nfail + 1))
		fi
	else
		case "$verdict" in
		"result: guarantee-broken"*)
			echo "ok: stock control [$share] failed at the guarantee: ${verdict#result: guarantee-broken }"
			;;
		*)
			echo "NOT OK: stock control [$share]: ${verdict:-no result} (it must fail at the guarantee)"
			nfail=$((nfail + 1))
			;;
		esac
	fi
	QUIET=1 send A drop a
	QUIET=1 send B drop b
	if [ -n "$x" ]; then
		"$CLUSTER" enable "$x" >"$work/enable.out" 2>&1 || {
			cat "$work/enable.out"
			echo "NOT OK: node $x not enabled again"
			nfail=$((nfail + 1))
		}
	fi
done
