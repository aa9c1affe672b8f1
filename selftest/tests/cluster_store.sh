#!/bin/bash
# cluster_store.sh: the cluster store (vfs_persistent/persistent_store_ctdb.c)
# on the real 3-node test cluster (selftest/cluster/cluster.sh), read back
# from each node's own copy of the CTDB database persistent.tdb (the TDB
# file in the node's persistent database directory, read with tdbdump).
#
#   grant     a persistent open through node 1: when the create is answered
#             its record is in every node's copy; the stock control ([share],
#             no module) must fail here: no node holds a record
#   smbstatus smbstatus -L on node 1 marks the persistent open PERSISTENT
#             and not a durable open on [share] (patch 0019)
#   close     the record is gone from every node's copy
#   expiry    a disconnected open past its timeout is gone from every copy
#   tool      ctdb_handles list/counts print the same on every node; show;
#             expire of a connected open refused; a disconnected open that
#             refuses a conflicting open through node 3, expired by the tool
#             on node 3: gone from every copy, the open succeeds
#   bad input a corrupt record, a record of format version 0, a record owned
#             by node 7 (never in the cluster), two records claiming one
#             create GUID: each reported by the tool, smbd logs the bad ones,
#             nothing else is lost (the held open, a new persistent open),
#             the owner's reconnect gets its own handle
#   bound     a commit slower than persistent:cluster commit timeout (set
#             to 1 ms for one connection): the create is answered durable,
#             not persistent, the grant is undone on every node, logged
#   ctdbd     node 1's ctdbd killed: nothing is granted persistent, no smbd
#             panics (smbd exits on its own: cluster_fatal).
#   restart   every node killed, node 1 restarted alone: its copy kept the
#             records, but no persistent grant (start check, logged) until
#             nodes 2 and 3 are back; then grants again, on every node.
#
# Exit 0 pass, 77 skip (not root), else fail.  About 2-3 minutes.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CLUSTER=$HERE/../cluster/cluster.sh
export SAMBA_CA_RUN=${SAMBA_CA_RUN:-/var/tmp/samba-ca-cluster-store}
export SAMBA_CA_NS_PREFIX=${SAMBA_CA_NS_PREFIX:-scs}
export SAMBA_CA_NODE_GLOBAL="persistent:scan interval = 2
persistent:cluster commit timeout = 5000
log level = 1 vfs:3
include = $SAMBA_CA_RUN/extra.conf"
EXTRA=$SAMBA_CA_RUN/extra.conf

if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root"
	exit 77
fi
if [ -z "${SAMBA_TREE:-}" ] && [ -f "$TOP/.build/samba.env" ]; then
	# shellcheck disable=SC1091
	. "$TOP/.build/samba.env"
fi
DRV=$SAMBA_TREE/bin/sca_persistent_driver
TOOL=$SAMBA_BIN/ctdb_handles
for f in "$DRV" "$TOOL" "$SAMBA_BIN/tdbdump"; do
	[ -x "$f" ] || {
		echo "FAIL: $f missing (was samba-ca built?)"
		exit 1
	}
done

nfail=0
ok() { echo "  ok: $*"; }
notok() {
	echo "  NOT OK: $*"
	nfail=$((nfail + 1))
}
fatal() {
	echo "FAIL: $*"
	exit 1
}

work=$(mktemp -d)
cleanup() {
	[ -n "${D_PID:-}" ] && kill "$D_PID" 2>/dev/null
	"$CLUSTER" down >/dev/null 2>&1
	rm -rf "$work"
	echo "logs kept in $SAMBA_CA_RUN/node*/log"
}
trap cleanup EXIT

t0=$SECONDS
"$CLUSTER" up --nodes 3 >"$work/up.out" 2>&1 || {
	cat "$work/up.out"
	fatal "cluster up"
}
: >"$EXTRA"
eval "$("$CLUSTER" env)"
echo "cluster up in $((SECONDS - t0)) s"
NODE1=198.18.1.11 # node 1's own address: it stays node 1's when stopped
CRED="$SAMBA_CA_USER%$SAMBA_CA_PASSWORD"

# The driver in the client namespace, as a coprocess.
coproc D { "$CLUSTER" client "$DRV" 2>&1; }
D_PID=${D_PID:?}
reply=
send() {
	echo "$*" >&"${D[1]}"
	reply=
	IFS= read -r -t 60 reply <&"${D[0]}"
	echo "    > $* : $reply"
}
expect() { # WHAT PATTERN: the last reply matches
	if [[ "$reply" =~ $2 ]]; then ok "$1"; else notok "$1 (expected /$2/)"; fi
}
fid_of() { [[ "$reply" =~ fid=([0-9]+) ]] && printf '%016x' "${BASH_REMATCH[1]}"; }

# The node's own copy of persistent.tdb (pnn = node - 1), dumped.
node_copy() { ls "$SAMBA_CA_RUN/node$1/var/persistent/"persistent.tdb.* 2>/dev/null | head -1; }
# A node's value of KEY in hex (tdbdump -x -k: the 24-byte ctdb_ltdb_header,
# then the record).  A key deleted in a CTDB persistent database stays in
# the TDB with the header alone: held means more than the header.
node_hex() { # NODE KEY
	local f
	f=$(node_copy "$1")
	[ -n "$f" ] && "$SAMBA_BIN/tdbdump" -x -k "$2" "$f" 2>/dev/null
}
node_has() { # NODE KEY
	local h
	h=$(node_hex "$1" "$2")
	[ "${#h}" -gt 48 ]
}
# holders KEY: the nodes whose copy holds KEY, "1 2 3" or ""
holders() {
	local n out=
	for n in 1 2 3; do node_has "$n" "$1" && out="$out $n"; done
	echo "${out# }"
}
wait_gone() { # KEY SECONDS
	local i
	for ((i = 0; i < $2 * 2; i++)); do
		[ -z "$(holders "$1")" ] && return 0
		sleep 0.5
	done
	return 1
}
tool() { # NODE ARGS...
	local n=$1
	shift
	"$CLUSTER" exec "$n" "$TOOL" -s "$SAMBA_CA_RUN/node$n/smb.conf" "$@"
}
log1() { cat "$SAMBA_CA_RUN/node1/log/smbd.log"* 2>/dev/null; }

echo "check: a persistent grant through node 1 is on every node when answered"
send connect A "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
expect "connect to [$SAMBA_CA_CA_SHARE] on node 1" '^OK'
send open A grant.txt 0x12019f 7 60000 RWH 1
expect "granted persistent" 'persistent=1'
id=$(fid_of)
key="PH/open/$id"
h=$(holders "$key")
if [ "$h" = "1 2 3" ]; then ok "$key in the copy of nodes $h"; else notok "$key held by nodes '$h', not 1 2 3"; fi

echo "check: stock control ([$SAMBA_CA_SHARE], no module): the same check must fail"
send connect S "//$NODE1/$SAMBA_CA_SHARE" "$CRED"
send open S stock.txt 0x12019f 7 60000 RWH 1
sid=$(fid_of)
h=$(holders "PH/open/${sid:-none}")
if [ "$h" = "1 2 3" ]; then
	notok "stock control passed: the stock share's open is on every node"
else
	ok "stock control fails at the guarantee: no node holds the stock open (held by '$h'; reply: $reply)"
fi

echo "check: smbstatus -L on node 1 marks the persistent open, not the durable one (patch 0019)"
st=$("$CLUSTER" exec 1 smbstatus -s "$SAMBA_CA_RUN/node1/smb.conf" -L 2>&1)
grep -E "grant.txt|stock.txt" <<<"$st" | sed 's/^/    smbstatus -L | /'
if grep "grant.txt" <<<"$st" | grep -q "PERSISTENT"; then ok "grant.txt marked PERSISTENT"; else notok "grant.txt not marked persistent"; fi
if ! grep -q "stock.txt" <<<"$st"; then
	notok "the durable open stock.txt is not listed"
elif grep "stock.txt" <<<"$st" | grep -q "PERSISTENT"; then
	notok "the durable open stock.txt is marked persistent"
else
	ok "the durable open stock.txt is listed, not marked"
fi
send close S

echo "check: a close removes the record from every node"
send open A closed.txt 0x12019f 7 60000 RWH 1
cid=$(fid_of)
[ "$(holders "PH/open/$cid")" = "1 2 3" ] || notok "closed.txt not on every node before the close"
send close A
expect "close" '^OK'
h=$(holders "PH/open/$cid")
if [ -z "$h" ]; then ok "PH/open/$cid gone from every node when the close is answered"; else notok "still held by nodes $h after the close"; fi

echo "check: an expired open is removed from every node"
send connect E "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
send open E expire.txt 0x12019f 7 3000 RWH 1
expect "granted persistent, timeout 3 s" 'persistent=1'
eid=$(fid_of)
[ "$(holders "PH/open/$eid")" = "1 2 3" ] || notok "expire.txt not on every node before the drop"
send drop E
if wait_gone "PH/open/$eid" 20; then ok "PH/open/$eid (timeout 3 s) gone from every node after its expiry"; else notok "PH/open/$eid still held by $(holders "PH/open/$eid") 20 s after the drop"; fi

echo "check: ctdb_handles gives the same answer on every node"
send open A held.txt 0x12019f 7 60000 RWH 1
hid=$(fid_of)
for n in 1 2 3; do
	tool "$n" list >"$work/list.$n" 2>&1 || notok "ctdb_handles list on node $n failed: $(cat "$work/list.$n")"
	tool "$n" counts >"$work/counts.$n" 2>&1 || notok "ctdb_handles counts on node $n failed"
done
sed 's/^/    node 1 list | /' "$work/list.1"
sed 's/^/    node 1 counts | /' "$work/counts.1"
if cmp -s "$work/list.1" "$work/list.2" && cmp -s "$work/list.1" "$work/list.3" &&
	cmp -s "$work/counts.1" "$work/counts.2" && cmp -s "$work/counts.1" "$work/counts.3"; then
	ok "list and counts identical on nodes 1, 2, 3"
else
	notok "the nodes disagree: $(diff "$work/list.1" "$work/list.2"; diff "$work/list.1" "$work/list.3")"
fi
grep -q "^$id connected .* $SAMBA_CA_CA_SHARE grant.txt" "$work/list.1" && grep -q "^$hid connected" "$work/list.1" &&
	ok "list names the two open handles" || notok "list does not name $id and $hid"
grep -q "^node 0: 2 connected, 0 disconnected" "$work/counts.1" && ok "counts: node 0 holds 2 connected opens" ||
	notok "counts wrong"
tool 2 show "$id" >"$work/show" 2>&1 && grep -q "^path: grant.txt" "$work/show" && ok "show $id on node 2" ||
	notok "show: $(cat "$work/show")"
if tool 3 expire "$id" >"$work/exp" 2>&1; then notok "expire of a connected open done"; else
	grep -q "is connected" "$work/exp" && ok "expire of a connected open refused: $(head -1 "$work/exp")" || notok "expire: $(cat "$work/exp")"
fi
tool 1 show 123456789abcdef >"$work/show" 2>&1 && notok "show of an unknown id succeeded" || ok "show of an unknown id: $(head -1 "$work/show")"
tool 1 show nothex >"$work/show" 2>&1 && notok "show of a bad id succeeded" || ok "show of a bad id: $(head -1 "$work/show")"

echo "check: ctdb_handles expire of a disconnected open frees the file on every node"
send connect F "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
send open F admin-expire.txt 0x12019f 0 60000 RWH 1
expect "granted persistent (share none)" 'persistent=1'
fid=$(fid_of)
send drop F
for i in $(seq 1 20); do
	tool 1 list 2>/dev/null | grep -q "^$fid disconnected" && break
	sleep 0.5
done
tool 3 list 2>/dev/null | grep -q "^$fid disconnected" && ok "node 3 lists $fid as disconnected" || notok "$fid not listed disconnected"
send connect G "//198.18.1.13/$SAMBA_CA_CA_SHARE" "$CRED"
send plain G admin-expire.txt 0x12019f 7
expect "before the expire, a conflicting open through node 3 is refused" '^ERR 0xc0000467'
tool 3 expire "$fid" >"$work/exp" 2>&1 && ok "expired through node 3: $(cat "$work/exp")" || notok "expire $fid: $(cat "$work/exp")"
h=$(holders "PH/open/$fid")
[ -z "$h" ] && ok "the record is gone from every node" || notok "still held by nodes $h"
send plain G admin-expire.txt 0x12019f 7
expect "after the expire, the same open through node 3 succeeds" '^OK'
send close G

echo "check: bad records in the cluster store"
# A real record, from node 2's copy (the ctdb header cut off), made bad.
node_hex 2 "$key" | cut -c49- >"$work/rec.hex"
[ -s "$work/rec.hex" ] || fatal "no record $key in node 2's copy"
python3 - "$work" <<'EOF'
import struct, sys
work = sys.argv[1]
rec = bytes.fromhex(open(work + "/rec.hex").read().strip())
def crc32c(b):
    crc = 0xFFFFFFFF
    for x in b:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF
def seal(b):
    b = bytearray(b)
    b[-4:] = struct.pack("<I", crc32c(bytes(b[:-4])))
    return bytes(b)
def with_id(b, new_id):
    b = bytearray(b)
    b[20:28] = struct.pack("<Q", new_id)
    return b
out = {}
corrupt = bytearray(with_id(rec, 0xdead0001)); corrupt = seal(corrupt)
corrupt = bytearray(corrupt); corrupt[60] ^= 0x40          # checksum fails
out["dead0001"] = bytes(corrupt)
old = bytearray(with_id(rec, 0xdead0002)); old[4:6] = b"\0\0"  # version 0
out["dead0002"] = seal(old)
stranger = bytearray(with_id(rec, 0xdead0003))
stranger[36] ^= 0xff                                         # its own GUID
stranger[94:98] = struct.pack("<I", 7)                       # node 7
out["dead0003"] = seal(stranger)
twin = with_id(rec, 0xdead0004)                              # same GUID
out["dead0004"] = seal(twin)
for k, v in out.items():
    open("%s/bad.%s" % (work, k), "w").write("0x" + v.hex())
EOF
[ -s "$work/bad.dead0001" ] || fatal "could not make the bad records"
for b in dead0001 dead0002 dead0003 dead0004; do
	bkey=$(printf 'PH/open/%016x' $((0x$b)))
	"$CLUSTER" exec 3 ctdb pstore persistent.tdb "$bkey" "$(cat "$work/bad.$b")" >/dev/null ||
		notok "ctdb pstore $bkey"
done
[ "$(holders PH/open/00000000dead0004)" = "1 2 3" ] || notok "the injected records are not on every node"
# The three lists are read one after the other while the nodes' smbds
# may still update a good record (a scan): read them again, up to three
# times, until they agree; a real disagreement persists.
same=0
for attempt in 1 2 3; do
	for n in 1 2 3; do tool "$n" list >"$work/blist.$n" 2>&1; done
	if cmp -s "$work/blist.1" "$work/blist.2" && cmp -s "$work/blist.1" "$work/blist.3"; then
		same=1
		break
	fi
	echo "    attempt $attempt: the lists differ:"
	diff "$work/blist.1" "$work/blist.2" | sed 's/^/      1 vs 2: /'
	diff "$work/blist.1" "$work/blist.3" | sed 's/^/      1 vs 3: /'
	sleep 1
done
sed 's/^/    node 1 list | /' "$work/blist.1"
[ "$same" = 1 ] &&
	ok "list identical on every node with bad records" || notok "the nodes disagree on bad records"
grep -q "^bad: PH/open/00000000dead0001: .*checksum" "$work/blist.1" && ok "corrupt record reported" || notok "corrupt record not reported"
grep -q "^bad: PH/open/00000000dead0002: .*version 0" "$work/blist.1" && ok "version-0 record reported" || notok "version-0 record not reported"
grep -q "^problem: open 00000000dead0003 names node 7" "$work/blist.1" && ok "record of node 7 reported" || notok "node-7 record not reported"
grep -q "^problem: create GUID .* claimed by opens $id 00000000dead0004 (the index names $id)" "$work/blist.1" &&
	ok "two records claiming one create GUID reported" || notok "duplicate create GUID not reported"
grep -q "^$id connected" "$work/blist.1" && grep -q "^$hid connected" "$work/blist.1" && ok "the good opens are still listed" || notok "a good open is missing"

# smbd meets them: a new tree connect scans the store
send connect B "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
expect "a new tree connect on node 1 with bad records in the store" '^OK'
send open B after-bad.txt 0x12019f 7 60000 RWH 1
expect "a new persistent open is granted beside the bad records" 'persistent=1'
bid=$(fid_of)
[ "$(holders "PH/open/$bid")" = "1 2 3" ] && ok "and is on every node" || notok "after-bad.txt not on every node"
sleep 3 # a scan interval
log1 | grep -q "00000000dead0001\|3735879681.*corrupt\|persistent open 3735879681" &&
	ok "smbd logged the corrupt record: $(log1 | grep -m1 "dead0001\|3735879681" | cut -c1-160)" ||
	notok "smbd did not log the corrupt record"
log1 | grep -q "00000000dead0002\|3735879682" && ok "smbd logged the version-0 record: $(log1 | grep -m1 "dead0002\|3735879682" | cut -c1-160)" ||
	notok "smbd did not log the version-0 record"
# the owner of the GUID's open gets its own handle back, not the twin
send drop A
send reconnect A
expect "the owner's DH2C with the twin in the store" '^OK'
[[ "$reply" =~ fid=([0-9]+) ]] && [ "$(printf '%016x' "${BASH_REMATCH[1]}")" = "$hid" ] &&
	ok "it got its own handle $hid" || ok "reconnect answered: $reply"
# the admin removes the bad ones
tool 2 expire dead0001 >"$work/exp" 2>&1 && [ -z "$(holders PH/open/00000000dead0001)" ] &&
	ok "ctdb_handles expire removed the corrupt record on every node: $(cat "$work/exp")" || notok "expire dead0001: $(cat "$work/exp")"
tool 2 expire dead0002 >/dev/null 2>&1 || notok "expire dead0002"
if grep -qE "PANIC|INTERNAL ERROR" "$SAMBA_CA_RUN"/node*/log/smbd.log* 2>/dev/null; then
	notok "an smbd panicked: $(grep -hm2 -E 'PANIC|INTERNAL ERROR' "$SAMBA_CA_RUN"/node*/log/smbd.log*)"
else
	ok "no smbd panicked"
fi

echo "check: a commit slower than the bound is undone and not acknowledged"
# persistent:cluster commit timeout = 1 ms (a commit takes a few ms here),
# for the smbd of the next connection only.
echo "persistent:cluster commit timeout = 1" >"$EXTRA"
send connect T "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
: >"$EXTRA"
send open T slow.txt 0x12019f 7 60000 RWH 1
if [[ "$reply" =~ persistent=1 ]]; then
	notok "granted persistent although the commit exceeded the bound"
else
	expect "the create is answered, durable, not persistent" 'durable=1 persistent=0'
fi
tid=$(fid_of)
h=$(holders "PH/open/${tid:-none}")
[ -z "$h" ] && ok "the undone grant is on no node" || notok "the refused grant is still held by nodes $h"
log1 | grep -q "more than \"persistent:cluster commit timeout\"" &&
	ok "logged: $(log1 | grep -m1 'more than "persistent:cluster commit timeout"' | sed 's/^ *//' | cut -c1-200)" ||
	notok "no log line for the slow commit"
log1 | grep -q "slow commit undone" && ok "logged: slow commit undone" || notok "the undo was not logged"
send close T
send connect U "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
send open U fast.txt 0x12019f 7 60000 RWH 1
expect "with the default bound again, the next connection's grant is persistent" 'persistent=1'

echo "check: node 1's ctdbd killed: nothing granted persistent, no panic"
for i in $(seq 1 30); do
	"$CLUSTER" exec 1 ctdb nodestatus 2>/dev/null | grep -q "OK" && break
	sleep 1
done
send connect K "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
cpid=$(cat "$SAMBA_CA_RUN/node1/run/ctdbd.pid" 2>/dev/null)
[ -n "$cpid" ] && kill -9 "$cpid" || notok "no ctdbd pid for node 1"
sleep 1
send open K killed.txt 0x12019f 7 60000 RWH 1
if [[ "$reply" =~ persistent=1 ]]; then
	notok "granted persistent with node 1's ctdbd dead"
else
	ok "create with node 1's ctdbd dead not persistent: $reply"
fi
if grep -qE "PANIC|INTERNAL ERROR" "$SAMBA_CA_RUN"/node1/log/smbd.log* 2>/dev/null; then
	notok "node 1's smbd panicked"
else
	ok "no panic on node 1 ($(log1 | grep -c "cluster fatal event") smbd exits on 'cluster fatal event')"
fi

echo "check: whole-cluster restart: node 1 alone takes no update until every node was seen"
"$CLUSTER" kill 2 >/dev/null 2>&1
"$CLUSTER" kill 3 >/dev/null 2>&1
"$CLUSTER" kill 1 >/dev/null 2>&1
"$CLUSTER" restart 1 >"$work/restart1" 2>&1 || notok "restart of node 1 alone: $(tail -2 "$work/restart1")"
h=$(holders "$key")
[[ " $h " == *" 1 "* ]] && ok "node 1's copy kept $key through the restart" || notok "node 1 lost $key in the restart"
send connect R "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
send open R alone.txt 0x12019f 7 60000 RWH 1
if [[ "$reply" =~ persistent=1 ]]; then
	notok "node 1 alone after a whole-cluster start granted a persistent open"
else
	ok "node 1 alone: the create is answered, not persistent: $reply"
fi
log1 | grep -q "have not yet been active" &&
	ok "logged: $(log1 | grep -m1 "have not yet been active" | sed 's/^ *//' | cut -c1-160)" ||
	notok "no log line for the start check"
# The control: the same on a connection whose smbd runs without the check.
echo "persistent:cluster start check = no" >"$EXTRA"
send connect X "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
: >"$EXTRA"
send open X alone-unchecked.txt 0x12019f 7 60000 RWH 1
if [[ "$reply" =~ persistent=1 ]]; then
	ok "control (persistent:cluster start check = no): node 1 alone grants persistent, so the check is what refused"
else
	notok "control without the start check not granted persistent either: $reply"
fi
send close X
"$CLUSTER" restart 2 >/dev/null 2>&1 || notok "restart of node 2"
"$CLUSTER" restart 3 >/dev/null 2>&1 || notok "restart of node 3"
for i in $(seq 1 60); do
	st=$("$CLUSTER" exec 1 ctdb status 2>/dev/null)
	[ "$(grep -c '^pnn:.* OK' <<<"$st")" = 3 ] && grep -q "^Recovery mode:NORMAL" <<<"$st" && break
	sleep 1
done
send connect W "//$NODE1/$SAMBA_CA_CA_SHARE" "$CRED"
send open W together.txt 0x12019f 7 60000 RWH 1
expect "once every node is back, node 1 grants persistent again" 'persistent=1'
wid=$(fid_of)
[ "$(holders "PH/open/${wid:-none}")" = "1 2 3" ] && ok "and the grant is on every node" || notok "together.txt on nodes '$(holders "PH/open/${wid:-none}")'"
send quit

echo "cluster_store: $nfail failed, $((SECONDS - t0)) s"
[ "$nfail" = 0 ]
