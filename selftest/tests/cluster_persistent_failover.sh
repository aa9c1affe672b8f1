#!/usr/bin/env bash
# cluster_persistent_failover.sh: a persistent open with a byte-range lock
# and an RWH lease survives the failure of the node that serves it
# (issue 16, the failure matrix, CI-sized), on the 3-node test cluster with
# the project's scripted client (smbclient3/persistent_driver.cc) in the
# client namespace.
#
# For each failure kind (disable, stop, kill, cut; FAILOVER_KINDS to
# choose; cut: the node's link and its view of the shared directory with
# the cluster lock, cluster.sh cut):
#   A connects to the first public address (node X), opens F on [ca] with a
#     persistent handle (DH2Q) and lease RWH, locks [0,100) with
#     LockSequence index 1 number 1, writes "acked" at 0 (answered), and
#     sends "inflight" at 100 without waiting for the answer;
#   node X fails (ctdb disable / ctdb stop / kill -9 of all its processes);
#   in the window, B, through the other public address (another node),
#     opens F for attributes only and asks for [0,10): must be refused;
#     asks for F with write access and no sharing: must not be granted
#     (refused, or waiting for A's Handle lease, within 2 s);
#   A reconnects to the same address (now on a survivor) with DH2C and its
#     create GUID: the same handle, lease RWH; replays its lock with the
#     same LockSequence: success; replays the in-flight write with the
#     replay flag and ChannelSequence 1: success;
#   B's lock is still refused; one unlock by A frees the range (the replay
#     did not lock twice); A closes; C reads F back through the other
#     address: "acked" at 0, "inflight" at 100.
# Stock control: the same steps on the stock [share] (no module; it grants
# a durable handle, not a persistent one) must fail at the guarantee (B got
# the lock or the open, or A's DH2C or replay was refused); a stock run
# that fails earlier is an error of this test.
# Prints per kind the pause (A's last answered request before the failure
# to its DH2C accepted after; it includes B's window checks, printed too).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CLUSTER=$HERE/../cluster/cluster.sh
KINDS=${FAILOVER_KINDS:-disable stop kill cut}
RECLAIM_MS=${RECLAIM_MS:-90000}

ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1000 }'; }

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: must run as root (network namespaces)"
	exit 77
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
D_PID=
cleanup() {
	local rc=$?
	[ -n "$D_PID" ] && kill "$D_PID" 2>/dev/null
	if [ "$cluster_up" = 1 ]; then
		"$CLUSTER" down >/dev/null 2>&1 || rc=1
	fi
	rm -rf "$work"
	[ "$nfail" = 0 ] && [ "$rc" = 0 ] || rc=1
	if [ "$rc" = 0 ]; then
		echo "PASS: cluster_persistent_failover"
	else
		echo "FAIL: cluster_persistent_failover (logs: ${SAMBA_CA_RUN:-/var/tmp/samba-ca-cluster})"
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

coproc D { "$CLUSTER" client "$drv" 2>&1; }
D_PID=$D_PID
reply=
send() {
	echo "$*" >&"${D[1]}"
	reply=
	IFS= read -r -t 120 reply <&"${D[0]}"
	echo "    > $* : $reply"
}

# fail KIND NODE / recover KIND NODE
fail_node() {
	case "$1" in
	disable) "$CLUSTER" disable "$2" ;;
	stop) "$CLUSTER" stop "$2" ;;
	kill) "$CLUSTER" kill "$2" ;;
	cut) "$CLUSTER" cut "$2" ;;
	esac
}
recover_node() {
	case "$1" in
	disable) "$CLUSTER" enable "$2" ;;
	stop) "$CLUSTER" continue "$2" ;;
	kill) "$CLUSTER" restart "$2" ;;
	# the cut node, alone without the cluster lock, banned itself (300 s):
	# a restart brings it back at once
	cut) "$CLUSTER" heal "$2" && "$CLUSTER" restart "$2" ;;
	esac
}

RW=0x12019f
READ=0x120089

# scenario SHARE KIND NAME: prints "result: guarantee-held",
# "result: guarantee-broken WHY" or "result: error WHY" last, and
# "pause: ..." before it when A reclaimed its handle.
scenario() {
	local share=$1 kind=$2 name=$3 x y t_ack t_fail t_window t_dh2c
	"$CLUSTER" healthy 60 || {
		echo "result: error the cluster is not healthy before the failure"
		return
	}
	x=$("$CLUSTER" whohas "${ips[0]}")
	y=$("$CLUSTER" whohas "${ips[1]}")
	if [ "$x" = "$y" ]; then
		echo "result: error both public addresses on node $x"
		return
	fi
	echo "== [$share] $kind of node $x (serving ${ips[0]}); B through ${ips[1]} (node $y): $name"
	send connect a "//${ips[0]}/$share" "$creds"
	send open a "$name" $RW 7 60000 RWH 1
	if [[ ! "$reply" =~ ^OK.*durable=1 ]]; then
		echo "result: error no durable or persistent open: $reply"
		return
	fi
	send lock a 0 100 0x11
	[[ "$reply" =~ ^OK ]] || {
		echo "result: error A's lock failed: $reply"
		return
	}
	send write a 0 acked
	[[ "$reply" =~ ^OK\ 5 ]] || {
		echo "result: error A's write failed: $reply"
		return
	}
	t_ack=$(ms)
	send write_send a 100 inflight 0
	# when the address is hosted elsewhere (ctdb ip), watched meanwhile
	rm -f "$work/moved"
	(
		for _ in $(seq 2400); do
			n=$("$CLUSTER" whohas "${ips[0]}" 2>/dev/null) || n=none
			if [ "$n" != "$x" ] && [ "$n" != none ]; then
				ms >"$work/moved"
				exit 0
			fi
			sleep 0.05
		done
	) &
	local poller=$!
	echo "$poller" >"$work/poller"
	t_fail=$(ms)
	fail_node "$kind" "$x" || {
		echo "result: error $kind of node $x failed"
		return
	}
	echo "  $kind of node $x done in $(secs "$t_fail" "$(ms)") s"
	# the window: once the cluster has recovered (the address moved: until
	# then the databases are frozen and every request waits, after a cut
	# until the cut node is found gone), B through the other address;
	# B's connection is tried again while it times out, for 90 s at most
	local tries
	for tries in $(seq 1200); do
		[ -f "$work/moved" ] && break
		sleep 0.1
	done
	[ -f "$work/moved" ] || {
		echo "result: error ${ips[0]} did not move off node $x in 120 s"
		return
	}
	echo "  ${ips[0]} moved $(secs "$t_fail" "$(cat "$work/moved")") s after the failure"
	for tries in $(seq 10); do
		send connect b "//${ips[1]}/$share" "$creds"
		[[ "$reply" =~ ^ERR\ 0x00000000 ]] || break
		(($(ms) - t_fail < 90000)) || break
	done
	[[ "$reply" =~ ^OK ]] || {
		echo "result: error B cannot connect through ${ips[1]}: $reply"
		return
	}
	send plain b "$name" 0x80 7
	[[ "$reply" =~ ^OK ]] || {
		echo "result: error B's attribute-only open failed: $reply"
		return
	}
	send lock b 0 10
	if [[ "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken B got A's range in the window"
		return
	fi
	send plain_async b "$name" $RW 0
	send poll b 2000
	if [[ "$reply" =~ answered=yes ]]; then
		send wait b
		if [[ "$reply" =~ ^OK ]]; then
			echo "result: guarantee-broken B got the conflicting open in the window"
			return
		fi
	fi
	send drop b
	t_window=$(ms)
	echo "  window checks done $(secs "$t_fail" "$t_window") s after the failure"
	send reclaim a "$RECLAIM_MS"
	t_dh2c=$(ms)
	if [[ ! "$reply" =~ ^OK.*same=yes ]]; then
		echo "result: guarantee-broken A's DH2C refused: $reply"
		return
	fi
	echo "  served by node $("$CLUSTER" whohas "${ips[0]}") now"
	wait "$poller"
	local moved dh2c_ms
	moved=$(cat "$work/moved" 2>/dev/null) || moved=$t_dh2c
	dh2c_ms=$(sed -n 's/.* ms=\([0-9]*\).*/\1/p' <<<"$reply")
	# the pause a client that reconnects at once sees: the address move
	# plus its reconnect (TCP, negotiate, session, tree, DH2C); the test
	# reconnects only after B's window checks
	echo "pause: $kind [$share] $(secs "$t_ack" "$((moved + ${dh2c_ms:-0}))") s (last answer -> address moved $(secs "$t_ack" "$moved") s, + reconnect with DH2C ${dh2c_ms:-?} ms; in this test DH2C accepted $(secs "$t_ack" "$t_dh2c") s after, window checks first)"
	[[ "$reply" =~ lease=RWH ]] || {
		echo "result: guarantee-broken A's lease not RWH after the DH2C: $reply"
		return
	}
	send lock a 0 100 0x11
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken A's lock replay refused: $reply"
		return
	fi
	send write a 100 inflight 1 replay
	if [[ ! "$reply" =~ ^OK\ 8 ]]; then
		echo "result: guarantee-broken A's write replay refused: $reply"
		return
	fi
	send connect c "//${ips[1]}/$share" "$creds"
	send plain c "$name" 0x80 7
	send lock c 0 10
	if [[ "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken C got A's range after the reclaim"
		return
	fi
	send unlock a 0 100
	[[ "$reply" =~ ^OK ]] || {
		echo "result: guarantee-broken A's unlock failed: $reply"
		return
	}
	send lock c 0 10
	if [[ ! "$reply" =~ ^OK ]]; then
		echo "result: guarantee-broken one unlock did not free the range (the replay locked twice): $reply"
		return
	fi
	send unlock c 0 10
	send close c
	send close a
	[[ "$reply" =~ ^OK ]] || {
		echo "result: guarantee-broken A's close failed: $reply"
		return
	}
	send plain c "$name" $READ 7
	send read c 0 5
	[ "$reply" = "OK acked" ] || {
		echo "result: guarantee-broken the answered write is not there: $reply"
		return
	}
	send read c 100 8
	[ "$reply" = "OK inflight" ] || {
		echo "result: guarantee-broken the replayed write is not there: $reply"
		return
	}
	send close c
	send drop c
	send drop a
	echo "result: guarantee-held"
}

for kind in $KINDS; do
	for share in "$SAMBA_CA_CA_SHARE" "$SAMBA_CA_SHARE"; do
		scenario "$share" "$kind" "fo-$kind.dat" >"$work/out" 2>&1
		cat "$work/out"
		grep '^pause:' "$work/out" >>"$work/pauses"
		if [ -f "$work/poller" ]; then
			kill "$(cat "$work/poller")" 2>/dev/null
			rm -f "$work/poller"
		fi
		verdict=$(grep '^result:' "$work/out" | tail -1)
		x=$(sed -n 's/^== .* of node \([0-9]*\) .*/\1/p' "$work/out")
		if [ "$share" = "$SAMBA_CA_CA_SHARE" ]; then
			if [ "$verdict" = "result: guarantee-held" ]; then
				echo "ok: [$share] $kind"
			else
				echo "NOT OK: [$share] $kind: ${verdict#result: }"
				nfail=$((nfail + 1))
			fi
		else
			case "$verdict" in
			"result: guarantee-broken"*)
				echo "ok: stock control [$share] $kind failed at the guarantee: ${verdict#result: guarantee-broken }"
				;;
			*)
				echo "NOT OK: stock control [$share] $kind: ${verdict:-no result} (it must fail at the guarantee)"
				nfail=$((nfail + 1))
				;;
			esac
		fi
		send drop a >/dev/null
		send drop b >/dev/null
		send drop c >/dev/null
		if [ -n "$x" ]; then
			t=$(ms)
			# a restart that fails (seen once under load: "ctdbd is not
			# running") is tried once more, and said
			recover_node "$kind" "$x" >"$work/recover.out" 2>&1 || {
				cat "$work/recover.out"
				echo "node $x did not recover from $kind: restarting it again"
				"$CLUSTER" restart "$x" || {
					echo "NOT OK: node $x did not recover from $kind"
					nfail=$((nfail + 1))
				}
			}
			echo "time: node $x back from $kind in $(secs "$t" "$(ms)") s"
		fi
	done
done
echo "== pauses"
cat "$work/pauses" 2>/dev/null
