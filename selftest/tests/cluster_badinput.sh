#!/bin/bash
# cluster_badinput.sh: cluster.sh refuses bad input with one clear message
# and leaves nothing behind: not root, ctdbd missing, a namespace name taken
# by someone else, a node that fails to start; `down` twice is harmless.
# Uses its own namespace prefix and run directory, so it does not touch a
# cluster that is up.  Exit 0 pass, 77 skip (not root), else fail.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CLUSTER=$HERE/../cluster/cluster.sh
export SAMBA_CA_NS_PREFIX=scbad
export SAMBA_CA_RUN=/var/tmp/samba-ca-cluster-badinput
export SAMBA_CA_UP_TIMEOUT=60

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
check() { echo "check: $*"; }
indent() { printf '%s\n' "$1" | while IFS= read -r l; do echo "    $l"; done; }
if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root"
	exit 77
fi

ours_left() {
	ip netns list | grep -q "^$SAMBA_CA_NS_PREFIX-" && return 0
	findmnt -rn -o TARGET | grep -q "^$SAMBA_CA_RUN/" && return 0
	[ -f "$SAMBA_CA_RUN/state/netns" ] && return 0
	return 1
}
# run cluster.sh, expect failure with a message matching $1
expect_fail() {
	local pattern=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	indent "$out"
	[ "$rc" != 0 ] || fail "expected failure from: $*"
	echo "$out" | grep -qE -e "$pattern" || fail "message does not match /$pattern/"
	! ours_left || fail "something left behind after: $*"
}
cleanup() {
	ip netns del "$SAMBA_CA_NS_PREFIX-n2" 2>/dev/null
	"$CLUSTER" down >/dev/null 2>&1
	rm -rf "$work"
}
work=$(mktemp -d)
trap cleanup EXIT

check "not root: refused"
expect_fail "must run as root" setpriv --reuid=nobody --regid=nogroup --clear-groups "$CLUSTER" up

check "ctdbd missing: refused, names the file"
mkdir -p "$work/tree/bin"
printf 'SAMBA_TREE=%s\nSAMBA_BIN=%s\n' "$work/tree" "$work/tree/bin" >"$work/samba.env"
expect_fail "ctdbd missing" env SAMBA_CA_ENV="$work/samba.env" "$CLUSTER" up

check "a namespace name taken by something else: refused, not touched"
ip netns add "$SAMBA_CA_NS_PREFIX-n2"
out=$("$CLUSTER" up 2>&1)
rc=$?
indent "$out"
[ "$rc" != 0 ] || fail "up succeeded over a foreign namespace"
echo "$out" | grep -q "$SAMBA_CA_NS_PREFIX-n2 exists and is not recorded" || fail "message does not name the namespace"
[ -e "/run/netns/$SAMBA_CA_NS_PREFIX-n2" ] || fail "the foreign namespace was removed"
ip netns del "$SAMBA_CA_NS_PREFIX-n2"
! ours_left || fail "something left behind"

check "a node that fails to start: named, everything removed, logs kept"
t=$SECONDS
expect_fail "node 2: ctdbd" env SAMBA_CA_TEST_BREAK_NODE=2 "$CLUSTER" up
[ -f "$SAMBA_CA_RUN/node2/log/ctdbd.log" ] || [ -f "$SAMBA_CA_RUN/node2/log/ctdbd.out" ] || fail "node 2's logs were not kept"
echo "    (took $((SECONDS - t)) s)"

check "down with nothing up, twice: harmless"
"$CLUSTER" down || fail "down"
"$CLUSTER" down || fail "second down"

check "bad arguments: refused"
expect_fail "--nodes must be" "$CLUSTER" up --nodes 0
expect_fail "no cluster is up" "$CLUSTER" disable 1
expect_fail "unknown command" "$CLUSTER" frobnicate
echo "PASS: cluster_badinput"
