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
# [ca] and [share] measured back to back in each round; each ratio is
# against the [share] of the same round; the median over the rounds is
# printed.  Environment: BENCH_CREATES (default 300), BENCH_LOCKS (300),
# BENCH_ROUNDS (3); SAMBA_CA_RUN / SAMBA_CA_NS_PREFIX as for cluster.sh.
# Needs root.  Brings a cluster up and down unless one is up already.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
set -a
. "${SAMBA_CA_ENV:-$top/.build/samba.env}"
set +a
CLUSTER=$top/selftest/cluster/cluster.sh
export SAMBA_CA_RUN=${SAMBA_CA_RUN:-/var/tmp/samba-ca-cluster-bench}
export SAMBA_CA_NS_PREFIX=${SAMBA_CA_NS_PREFIX:-scb}
export SAMBA_CA_NODE_GLOBAL="smb3 global cap:PERSISTENT HANDLES = yes
log level = 0"
creates=${BENCH_CREATES:-300}
locks=${BENCH_LOCKS:-300}
rounds=${BENCH_ROUNDS:-3}

if [ "$(id -u)" != 0 ]; then
	echo "cluster_store_bench: needs root (the test cluster)"
	exit 1
fi
ours=0
if ! "$CLUSTER" status 2>/dev/null | grep -q "OK"; then
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
rate() { sed -n 's/.*: \([0-9.]*\)\/s$/\1/p' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }
ms_per() { awk -v r="$1" 'BEGIN { if (r > 0) printf "%.2f", 1000 / r; else print "n/a" }'; }

cred="$SAMBA_CA_USER%$SAMBA_CA_PASSWORD"
send connect P "//$node1/$SAMBA_CA_CA_SHARE" "$cred"
[[ "$reply" == OK* ]] || { echo "connect [ca]: $reply"; exit 1; }
send connect Q "//$node1/$SAMBA_CA_SHARE" "$cred"
[[ "$reply" == OK* ]] || { echo "connect [share]: $reply"; exit 1; }
send open P lockfile rw rw 60000 RWH 1
[[ "$reply" == *persistent=1* ]] || { echo "persistent open on [ca]: $reply"; exit 1; }
send open Q lockfile rw rw 60000 RWH 0
[[ "$reply" == *durable=1* ]] || { echo "durable open on [share]: $reply"; exit 1; }

echo "cluster store: 3-node test cluster, node 1, $creates create+close and $locks lock+unlock per share, $rounds rounds"
printf '%-14s %-6s %12s %12s %12s\n' op round "ca/s" "share/s" "ca/share"
cc_r=() ll_r=() cc_p=() cc_d=() ll_p=() ll_d=()
for ((r = 1; r <= rounds; r++)); do
	send bench_create P bench_cc "$creates" 1
	p=$(rate "$reply")
	[ -n "$p" ] || { echo "bench_create [ca]: $reply"; exit 1; }
	send bench_create Q bench_cc "$creates" 0
	d=$(rate "$reply")
	[ -n "$d" ] || { echo "bench_create [share]: $reply"; exit 1; }
	printf '%-14s %-6s %12s %12s %12s\n' create+close "$r" "$p" "$d" "$(ratio "$p" "$d")"
	cc_p+=("$p") cc_d+=("$d") cc_r+=("$(ratio "$p" "$d")")
	send bench_lock P "$locks"
	p=$(rate "$reply")
	[ -n "$p" ] || { echo "bench_lock [ca]: $reply"; exit 1; }
	send bench_lock Q "$locks"
	d=$(rate "$reply")
	[ -n "$d" ] || { echo "bench_lock [share]: $reply"; exit 1; }
	printf '%-14s %-6s %12s %12s %12s\n' lock+unlock "$r" "$p" "$d" "$(ratio "$p" "$d")"
	ll_p+=("$p") ll_d+=("$d") ll_r+=("$(ratio "$p" "$d")")
done
mp=$(printf '%s\n' "${cc_p[@]}" | median) md=$(printf '%s\n' "${cc_d[@]}" | median)
echo "median create+close: persistent $mp/s ($(ms_per "$mp") ms), durable $md/s ($(ms_per "$md") ms), ratio $(printf '%s\n' "${cc_r[@]}" | median)"
mp=$(printf '%s\n' "${ll_p[@]}" | median) md=$(printf '%s\n' "${ll_d[@]}" | median)
echo "median lock+unlock: persistent $mp/s ($(ms_per "$mp") ms), durable $md/s ($(ms_per "$md") ms), ratio $(printf '%s\n' "${ll_r[@]}" | median)"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
send quit
