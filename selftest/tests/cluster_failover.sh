#!/bin/bash
# cluster_failover.sh: a public address moves when its node is disabled,
# and a file written through it reads back, unchanged, from the new node.
#
# up a 3-node cluster; write a file via smbclient to a public address from
# the client namespace; `disable` the node hosting that address; check the
# address moved to another node (ctdb ip, and the kernel's view); read the
# file back via smbclient with the same sha256; down.  Prints the time up,
# the move and down took.  Exit 0: pass, else fail.

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CLUSTER=$HERE/../cluster/cluster.sh
MOVE_TIMEOUT=${MOVE_TIMEOUT:-30}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
check() { echo "check: $*"; }
ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1000 }'; }

[ "$(id -u)" = 0 ] || fail "must run as root (network namespaces)"

work=$(mktemp -d)
cluster_up=0
cleanup() {
	local rc=$?
	if [ "$cluster_up" = 1 ]; then
		local t=$(($(ms)))
		"$CLUSTER" down || rc=1
		echo "time: down $(secs "$t" "$(ms)") s"
	fi
	rm -rf "$work"
	[ "$rc" = 0 ] && echo "PASS: cluster_failover" || echo "FAIL: cluster_failover (logs: ${SAMBA_CA_RUN:-/var/tmp/samba-ca-cluster})"
	exit "$rc"
}
trap cleanup EXIT

t=$(ms)
cluster_up=1
"$CLUSTER" up --nodes 3 || fail "cluster up"
echo "time: up $(secs "$t" "$(ms)") s"

eval "$("$CLUSTER" env)"
read -ra ips <<<"$SAMBA_CA_PUBLIC_IPS"
ip=${ips[0]}
smb() {
	"$CLUSTER" client smbclient -s "$SAMBA_CA_CLIENT_CONF" -m SMB3 \
		-U "$SAMBA_CA_USER%$SAMBA_CA_PASSWORD" "//$ip/$SAMBA_CA_SHARE" -c "$1"
}

head -c 4M /dev/urandom >"$work/in"
sum=$(sha256sum <"$work/in" | cut -d' ' -f1)

check "write a 4 MiB file to //$ip/$SAMBA_CA_SHARE from the client namespace"
smb "put $work/in failover.bin" >"$work/put.out" 2>&1 || {
	cat "$work/put.out"
	fail "smbclient put"
}
[ "$(sha256sum <"$SAMBA_CA_SHARE_DIR/failover.bin" | cut -d' ' -f1)" = "$sum" ] ||
	fail "the file on the shared directory differs from what was written"

old=$("$CLUSTER" whohas "$ip") || fail "$ip is not hosted"
check "$ip is hosted by node $old; disable node $old"
t=$(ms)
"$CLUSTER" disable "$old" || fail "ctdb disable on node $old"
new=$old
deadline=$(($(ms) + MOVE_TIMEOUT * 1000))
while :; do
	new=$("$CLUSTER" whohas "$ip" 2>/dev/null) || new=none
	if [ "$new" != "$old" ] && [ "$new" != none ]; then
		break
	fi
	(($(ms) < deadline)) || fail "$ip did not move off node $old within $MOVE_TIMEOUT s (ctdb ip says: $new)"
	sleep 0.05
done
move=$(secs "$t" "$(ms)")
echo "time: address move (disable -> ctdb ip shows node $new) $move s"

check "node $new has $ip on its interface, node $old does not"
"$CLUSTER" exec "$new" ip -br addr show dev eth0 | grep -qw "$ip/24" ||
	fail "node $new does not have $ip on eth0"
for _ in $(seq 100); do
	"$CLUSTER" exec "$old" ip -br addr show dev eth0 | grep -qw "$ip/24" || break
	sleep 0.1
done
! "$CLUSTER" exec "$old" ip -br addr show dev eth0 | grep -qw "$ip/24" ||
	fail "node $old still has $ip on eth0"

check "read the file back through $ip (now node $new) with the same sha256"
t=$(ms)
smb "get failover.bin $work/out" >"$work/get.out" 2>&1 || {
	cat "$work/get.out"
	fail "smbclient get after the move"
}
echo "time: read back after the move $(secs "$t" "$(ms)") s"
[ "$(sha256sum <"$work/out" | cut -d' ' -f1)" = "$sum" ] || fail "checksum differs after the move"
check "sha256 $sum matches"

"$CLUSTER" enable "$old" >/dev/null || fail "ctdb enable on node $old"
