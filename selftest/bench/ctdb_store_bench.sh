#!/usr/bin/env bash
# CTDB as the cluster store (issue 16): what one small update costs when it
# must be on every active node before the answer.  Prints figures, asserts
# nothing.  Runs on the test cluster (selftest/cluster/cluster.sh): uses the
# one that is up under SAMBA_CA_RUN, or brings one up and down itself.
#
#   local       append 200 bytes + fdatasync, on the disk the nodes' databases
#               are on (the single-server journal's unit of cost); measured
#               before and after the cluster figures
#   dbwrap      a PERSISTENT database through dbwrap_ctdb, the path smbd
#               takes (dbwrap_torture: g_lock, fetch_locked, store,
#               TRANS3_COMMIT, g_lock release; one key, 4-12 byte value):
#               1 writer on node 1, then 1 writer on every node at once
#   ctdb-tool   `ctdb pstore` of a 200-byte value, one process per update
#               (ctdb's own client library, the only client write path to a
#               REPLICATED database in 4.22), on a PERSISTENT and on a
#               REPLICATED database; `ctdb pfetch` of the same key is the
#               process+attach overhead printed beside it
#   ptrans      `ctdb ptrans` of 1, 100 and 1000 records in one transaction:
#               what a commit costs as the batch grows (group commit)
#
# Latencies are per update, in microseconds: median, p90, max over the run.
# Environment: BENCH_CTDB_SECS (dbwrap run length, default 10),
# BENCH_CTDB_OPS (ctdb-tool updates per writer, default 200),
# BENCH_LOCAL_OPS (local appends, default 500), SAMBA_CA_RUN,
# SAMBA_CA_NS_PREFIX (as for cluster.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cluster="$top/selftest/cluster/cluster.sh"
secs=${BENCH_CTDB_SECS:-10}
ops=${BENCH_CTDB_OPS:-200}
local_ops=${BENCH_LOCAL_OPS:-500}
run=${SAMBA_CA_RUN:-/var/tmp/samba-ca-cluster}
export SAMBA_CA_RUN=$run
db_p=cabench_persistent.tdb
db_r=cabench_replicated.tdb

if [ "$(id -u)" != 0 ]; then
	echo "ctdb_store_bench: needs root (the test cluster does)" >&2
	exit 1
fi

own_cluster=
if ! "$cluster" exec 1 ctdb nodestatus all >/dev/null 2>&1; then
	echo "== bringing the test cluster up (run dir $run)"
	"$cluster" up || exit 1
	own_cluster=1
fi
work=$(mktemp -d /var/tmp/samba-ca-ctdbbench.XXXXXX)
cleanup() {
	rm -rf "$work"
	if [ -n "$own_cluster" ]; then
		"$cluster" down
	fi
}
trap cleanup EXIT
nodes=$("$cluster" env | sed -n "s/^SAMBA_CA_NODES='\(.*\)'/\1/p")

# Reads numbers (one a line) and prints "median p90 max n" of them.
stats() {
	python3 -c '
import sys
v = sorted(float(x) for x in sys.stdin.read().split())
if not v:
    print("no samples")
    sys.exit(0)
q = lambda p: v[min(len(v) - 1, int(p * len(v)))]
print("median %8.0f  p90 %8.0f  max %8.0f  n %d" % (q(0.5), q(0.9), v[-1], len(v)))
'
}

median() {
	python3 -c '
import sys
v = sorted(float(x) for x in sys.stdin.read().split())
print("%.0f" % v[len(v) // 2] if v else "0")
'
}

# Local: 200-byte O_APPEND write + fdatasync, one file, us per update.
local_fsync() {
	python3 - "$1" "$local_ops" <<'EOF'
import os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
rec = b"r" * 200
for _ in range(n):
    t = time.perf_counter()
    os.write(fd, rec)
    os.fdatasync(fd)
    print("%.1f" % ((time.perf_counter() - t) * 1e6))
os.close(fd)
os.unlink(path)
EOF
}

# Turns the lines of dbwrap_torture -v (one "Counters:" line per committed
# transaction) into the time each commit took since the one before, in us.
# With $1 = skip, the first two (start-up, attach) are dropped; else the
# first counts from the reader's start (a writer that waits for the lock
# from the start shows that wait).
intervals() {
	python3 -u -c '
import sys, time
skip = sys.argv[1] == "skip"
last = None if skip else time.perf_counter()
k = 0
for line in sys.stdin:
    if "Counters:" not in line:
        continue
    now = time.perf_counter()
    if last is not None:
        k += 1
        if not skip or k > 2:
            print("%.1f" % ((now - last) * 1e6))
    last = now
' "$1"
}

# dbwrap_torture on node $1 for $secs seconds; intervals to $2 ($3: skip).
dbwrap_writer() {
	"$cluster" exec "$1" stdbuf -oL dbwrap_torture \
		-s "$run/node$1/smb.conf" -N "$db_p" -t "$secs" -v 2>/dev/null |
		intervals "${3:-}" >"$2"
}

# $ops `ctdb pstore` (200-byte value) then as many `ctdb pfetch` on node
# $1, database $2; us per process to $3.pstore and $3.pfetch.
ctdb_tool_writer() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	"$cluster" exec "$1" bash -c '
		db=$1 n=$2 out=$3 node=$4
		for i in $(seq "$n"); do
			t0=$EPOCHREALTIME
			# a new value each time: an unchanged one commits nothing
			printf -v val "%-200s" "$t0-$node-$i"
			val=${val// /x}
			ctdb pstore "$db" "n$node-k$i" "$val" || exit 1
			t1=$EPOCHREALTIME
			echo "$(( (${t1/./} - ${t0/./}) ))"
		done >"$out.pstore"
		for i in $(seq "$n"); do
			t0=$EPOCHREALTIME
			ctdb pfetch "$db" "n$node-k$i" >/dev/null || exit 1
			t1=$EPOCHREALTIME
			echo "$(( (${t1/./} - ${t0/./}) ))"
		done >"$out.pfetch"
	' _ "$2" "$ops" "$3" "$1"
}

load() { cut -d' ' -f1-3 /proc/loadavg; }

# 20 `ctdb ptrans` on node 1, database $1, each one transaction of $2
# records of 200 bytes (new values each time); us per process to $3.
ctdb_batch() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	"$cluster" exec 1 bash -c '
		db=$1 k=$2 out=$3 dir=$4
		for r in $(seq 20); do
			for i in $(seq "$k"); do
				printf -v val "%-200s" "$EPOCHREALTIME-$r-$i"
				printf "\"b%s\" \"%s\"\n" "$i" "${val// /x}"
			done >"$dir/ptrans.in"
			t0=$EPOCHREALTIME
			ctdb ptrans "$db" "$dir/ptrans.in" || exit 1
			t1=$EPOCHREALTIME
			echo "$(( (${t1/./} - ${t0/./}) ))"
		done >"$out"
	' _ "$1" "$2" "$3" "$work"
}

# CTDB's own figure for the per-node write of a commit (ctdb_childwrite:
# fork, TDB transaction, commit), since the last reset_childwrite.
reset_childwrite() {
	for n in $(seq "$nodes"); do
		"$cluster" exec "$n" ctdb statisticsreset >/dev/null
	done
}
print_childwrite() {
	for n in $(seq "$nodes"); do
		"$cluster" exec "$n" ctdb statistics |
			awk -v n="$n" '/childwrite_latency/ {
				split($3, a, "/")
				printf "    node %s: ctdb childwrite_latency avg %.0f us, max %.0f us, n %s\n",
					n, a[2] * 1e6, a[3] * 1e6, $7 }'
	done
}

echo "CTDB cluster store bench: $nodes nodes, $(nproc) cores, load $(load)"
echo "databases under $run/node*/var (same disk as the local file)"
"$cluster" exec 1 ctdb attach "$db_p" persistent >/dev/null || exit 1
"$cluster" exec 1 ctdb attach "$db_r" replicated >/dev/null || exit 1

echo "== local: append 200 B + fdatasync (us per update)"
local_fsync "$run/shared/.bench-fsync" >"$work/local1"
printf '  before  %s\n' "$(stats <"$work/local1")"

echo "== dbwrap PERSISTENT transaction, smbd's path (us per update, ${secs} s)"
reset_childwrite
dbwrap_writer 1 "$work/dbwrap1" skip
printf '  1 writer (node 1)      %s  %s/s\n' "$(stats <"$work/dbwrap1")" \
	"$(awk -v s="$secs" 'END { printf "%.0f", NR / s }' "$work/dbwrap1")"
print_childwrite
for n in $(seq "$nodes"); do
	dbwrap_writer "$n" "$work/dbwrapN.$n" &
done
wait
total=0
for n in $(seq "$nodes"); do
	printf '  %s writers, node %s: %5s commits  %s\n' "$nodes" "$n" \
		"$(wc -l <"$work/dbwrapN.$n")" "$(stats <"$work/dbwrapN.$n")"
	total=$((total + $(wc -l <"$work/dbwrapN.$n")))
done
printf '  %s writers: aggregate %s updates/s\n' "$nodes" \
	"$(awk -v t="$total" -v s="$secs" 'BEGIN { printf "%.0f", t / s }')"

echo "== ctdb tool, one process per update (us per process, $ops each)"
for kind in persistent replicated; do
	db=$db_p
	[ "$kind" = replicated ] && db=$db_r
	reset_childwrite
	ctdb_tool_writer 1 "$db" "$work/tool1.$kind" || exit 1
	ps=$(median <"$work/tool1.$kind.pstore")
	pf=$(median <"$work/tool1.$kind.pfetch")
	printf '  %-10s 1 writer   pstore %s\n' "$kind" \
		"$(stats <"$work/tool1.$kind.pstore")"
	printf '  %-10s            pfetch %s\n' "$kind" \
		"$(stats <"$work/tool1.$kind.pfetch")"
	printf '  %-10s            pstore - pfetch (medians) %s\n' "$kind" \
		"$((ps - pf))"
	print_childwrite
	for n in $(seq "$nodes"); do
		ctdb_tool_writer "$n" "$db" "$work/toolN.$kind.$n" &
	done
	wait
	cat "$work"/toolN."$kind".*.pstore >"$work/toolN.$kind.all"
	printf '  %-10s %s writers  pstore %s\n' "$kind" "$nodes" \
		"$(stats <"$work/toolN.$kind.all")"
done

echo "== ctdb ptrans: one commit of k records (us per process, 20 each)"
for kind in persistent replicated; do
	db=$db_p
	[ "$kind" = replicated ] && db=$db_r
	for k in 1 100 1000; do
		ctdb_batch "$db" "$k" "$work/batch.$kind.$k" || exit 1
		printf '  %-10s k=%-5s %s\n' "$kind" "$k" \
			"$(stats <"$work/batch.$kind.$k")"
	done
done

echo "== local again"
local_fsync "$run/shared/.bench-fsync" >"$work/local2"
printf '  after   %s\n' "$(stats <"$work/local2")"
cat "$work/local1" "$work/local2" >"$work/local"
lf=$(median <"$work/local")
d1=$(median <"$work/dbwrap1")
echo "== ratios (same run)"
printf '  dbwrap PERSISTENT update, 1 writer / local append+fdatasync: %s\n' \
	"$(awk -v a="$d1" -v b="$lf" 'BEGIN { printf "%.1f", a / b }')"
echo "load at the end $(load)"
