#!/usr/bin/env bash
# The cluster store's per-operation cost on the 3-node test cluster:
# persistent handles on [ca] (vfs_persistent, the CTDB persistent store)
# against durable handles on the stock [share], same cluster, same node,
# same run; prints figures and ratios, asserts nothing.  Client:
# smbclient3's scripted driver in the client namespace, one connection per
# share to node 1's own address, one request in flight.
#   create+close: DH2Q (persistent on [ca], durable v2 on [share]) with a
#                 lease RWH, then close; N times (two cluster commits each
#                 on [ca]: the grant and the close)
#   lock+unlock:  exclusive lock and unlock of [0,10) on such a handle (two
#                 cluster commits each on [ca])
# Both also on a third connection to [ca] whose smbd runs without the
# ctdbd probe before each transaction (persistent:cluster probe = no).
# [ca] and [share] measured back to back in each round; each ratio is
# against the [share] of the same round; the median over the rounds is
# printed.  Also per round, as the unit of the store's cost: raw commits to
# a CTDB persistent database through dbwrap (dbwrap_torture, 3 s, node 1),
# and the commits each [ca] operation made (the database sequence number
# of persistent.tdb, ctdb getdbseqnum, before and after).  Environment: BENCH_CREATES (default 300), BENCH_LOCKS (300),
# BENCH_ROUNDS (3); SAMBA_CA_RUN / SAMBA_CA_NS_PREFIX as for cluster.sh.
# Needs root.  Brings a cluster up and down unless one is up already.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
set -a
# shellcheck source=/dev/null
. "${SAMBA_CA_ENV:-$top/.build/samba.env}"
set +a
CLUSTER=$top/selftest/cluster/cluster.sh
export SAMBA_CA_RUN=${SAMBA_CA_RUN:-/var/tmp/samba-ca-cluster-bench}
export SAMBA_CA_NS_PREFIX=${SAMBA_CA_NS_PREFIX:-scb}
export SAMBA_CA_NODE_GLOBAL="log level = 0
include = $SAMBA_CA_RUN/extra.conf"
creates=${BENCH_CREATES:-300}
locks=${BENCH_LOCKS:-300}
rounds=${BENCH_ROUNDS:-3}

if [ "$(id -u)" != 0 ]; then
	echo "cluster_store_bench: needs root (the test cluster)"
	exit 1
fi
ours=0
status=$("$CLUSTER" status 2>/dev/null)
if ! grep -q "^node 1 .* OK" <<<"$status"; then
	ours=1
	"$CLUSTER" up --nodes 3 >/dev/null 2>&1 || {
		echo "cluster_store_bench: cluster up failed (logs in $SAMBA_CA_RUN)"
		exit 1
	}
fi
eval "$("$CLUSTER" env)"
trap 'kill "${D_PID:-}" 2>/dev/null; [ "$ours" = 1 ] && "$CLUSTER" down >/dev/null 2>&1' EXIT

node1=198.18.1.11
coproc D { "$CLUSTER" client "$SAMBA_TREE/bin/sca_persistent_driver" 2>&1; }
D_PID=$D_PID
reply=
send() {
	echo "$*" >&"${D[1]}"
	IFS= read -r -t 600 reply <&"${D[0]}"
}
seqnum() { printf '%d' "$("$CLUSTER" exec 1 ctdb getdbseqnum persistent.tdb 2>/dev/null)"; }
raw_commit_rate() {
	local n
	n=$("$CLUSTER" exec 1 dbwrap_torture -s "$SAMBA_CA_RUN/node1/smb.conf" \
		-N cs_bench_raw.tdb -t 3 -v 2>/dev/null | grep -c Counters)
	awk -v n="$n" 'BEGIN { printf "%.1f", n / 3 }'
}
per_op() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n > 0) printf "%.2f", (b - a) / n; else print "n/a" }'; }
rate() { sed -n 's/.*: \([0-9.]*\)\/s$/\1/p' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
ms_per() { awk -v r="$1" 'BEGIN { if (r > 0) printf "%.2f", 1000 / r; else print "n/a" }'; }

cred="$SAMBA_CA_USER%$SAMBA_CA_PASSWORD"
send connect P "//$node1/$SAMBA_CA_CA_SHARE" "$cred"
[[ "$reply" == OK* ]] || { echo "connect [ca]: $reply"; exit 1; }
send connect Q "//$node1/$SAMBA_CA_SHARE" "$cred"
[[ "$reply" == OK* ]] || { echo "connect [share]: $reply"; exit 1; }
lockfile=lock.$$.$RANDOM # not a persistent open an earlier run left
send open P "$lockfile" rw rw 60000 RWH 1
[[ "$reply" == *persistent=1* ]] || { echo "persistent open on [ca]: $reply"; exit 1; }
send open Q "$lockfile" rw rw 60000 RWH 0
[[ "$reply" == *durable=1* ]] || { echo "durable open on [share]: $reply"; exit 1; }
# A third connection, to [ca] with the ctdbd probe before each transaction
# off (persistent:cluster probe = no for its smbd only): what the probe
# costs.
echo "persistent:cluster probe = no" >"$SAMBA_CA_RUN/extra.conf"
send connect N "//$node1/$SAMBA_CA_CA_SHARE" "$cred"
: >"$SAMBA_CA_RUN/extra.conf"
[[ "$reply" == OK* ]] || { echo "connect [ca] without probe: $reply"; exit 1; }
send open N "$lockfile.n" rw rw 60000 RWH 1
[[ "$reply" == *persistent=1* ]] || { echo "persistent open on [ca] without probe: $reply"; exit 1; }

echo "cluster store: 3-node test cluster, node 1, $creates create+close and $locks lock+unlock per share, $rounds rounds"
printf '%-14s %-6s %10s %10s %9s %12s %14s %14s\n' op round "ca/s" "share/s" "ca/share" "commits/op" "raw commits/s" "ca no probe/s"
cc_r=() ll_r=() cc_p=() cc_d=() ll_p=() ll_d=() raw=() cc_c=() ll_c=() cc_n=() ll_n=()
for ((r = 1; r <= rounds; r++)); do
	rc=$(raw_commit_rate)
	raw+=("$rc")
	s0=$(seqnum)
	send bench_create P "cc.$lockfile" "$creates" 1
	p=$(rate "$reply")
	[ -n "$p" ] || { echo "bench_create [ca]: $reply"; exit 1; }
	s1=$(seqnum)
	send bench_create Q "cc.$lockfile" "$creates" 0
	d=$(rate "$reply")
	[ -n "$d" ] || { echo "bench_create [share]: $reply"; exit 1; }
	c=$(per_op "$s0" "$s1" "$creates")
	send bench_create N "cc.$lockfile.n" "$creates" 1
	n=$(rate "$reply")
	printf '%-14s %-6s %10s %10s %9s %12s %14s %14s\n' create+close "$r" "$p" "$d" "$(ratio "$p" "$d")" "$c" "$rc" "$n"
	cc_p+=("$p") cc_d+=("$d") cc_r+=("$(ratio "$p" "$d")") cc_c+=("$c") cc_n+=("$n")
	s0=$(seqnum)
	send bench_lock P "$locks"
	p=$(rate "$reply")
	[ -n "$p" ] || { echo "bench_lock [ca]: $reply"; exit 1; }
	s1=$(seqnum)
	send bench_lock Q "$locks"
	d=$(rate "$reply")
	[ -n "$d" ] || { echo "bench_lock [share]: $reply"; exit 1; }
	c=$(per_op "$s0" "$s1" "$locks")
	send bench_lock N "$locks"
	n=$(rate "$reply")
	printf '%-14s %-6s %10s %10s %9s %12s %14s %14s\n' lock+unlock "$r" "$p" "$d" "$(ratio "$p" "$d")" "$c" "$rc" "$n"
	ll_p+=("$p") ll_d+=("$d") ll_r+=("$(ratio "$p" "$d")") ll_c+=("$c") ll_n+=("$n")
done
mr=$(printf '%s\n' "${raw[@]}" | median)
echo "median raw dbwrap commit: $mr/s ($(ms_per "$mr") ms)"
mp=$(printf '%s\n' "${cc_p[@]}" | median) md=$(printf '%s\n' "${cc_d[@]}" | median)
echo "median create+close: persistent $mp/s ($(ms_per "$mp") ms), durable $md/s ($(ms_per "$md") ms), ratio $(printf '%s\n' "${cc_r[@]}" | median), $(printf '%s\n' "${cc_c[@]}" | median) commits each"
mp=$(printf '%s\n' "${ll_p[@]}" | median) md=$(printf '%s\n' "${ll_d[@]}" | median)
echo "median lock+unlock: persistent $mp/s ($(ms_per "$mp") ms), durable $md/s ($(ms_per "$md") ms), ratio $(printf '%s\n' "${ll_r[@]}" | median), $(printf '%s\n' "${ll_c[@]}" | median) commits each"
mn=$(printf '%s\n' "${cc_n[@]}" | median)
echo "median create+close on [ca] without the ctdbd probe: $mn/s ($(ms_per "$mn") ms)"
mn=$(printf '%s\n' "${ll_n[@]}" | median)
echo "median lock+unlock on [ca] without the ctdbd probe: $mn/s ($(ms_per "$mn") ms)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
send close P
send close Q
send close N
send quit
