#!/usr/bin/env bash
# Persistent handles on [ca] (vfs_persistent) against durable handles on
# [plain], same build, same smbd, same run; prints figures and ratios,
# asserts nothing.  Client: smbclient3's scripted driver (SMB 3.1.1,
# signing on), one connection per share, one request in flight.
#   create+close: DH2Q (persistent on [ca], durable v2 on [plain]) with a
#                 lease RWH, then close; N times
#   lock+unlock:  exclusive lock and unlock of [0,10) on such a handle
#   write:        sequential write of M MiB on a handle opened with
#                 FILE_WRITE_THROUGH on both shares
# Three store settings, each its own smbd, [ca] and [plain] measured back
# to back in each, every ratio against the [plain] of the same smbd and
# round; the median over the rounds is printed:
#   default       the journal (one synced append per update), close not
#                 synced (persistent:sync close = no)
#   sync-close    the journal, every close synced as well
#   no-journal    persistent:journal = no: the TDB's own synced commits
# Environment: BENCH_CREATES (default 1000), BENCH_LOCKS (2000),
# BENCH_MIB (64), BENCH_ROUNDS (3); SAMBA_CA_ENV: another samba.env than
# .build/samba.env; BENCH_STRACE=1: afterwards, strace -c of the smbd
# serving the driver during 200 create+close and 200 lock+unlock of the
# default variant, printed as system calls per operation (the profile of
# docs/persistent-performance.md; the timings under strace mean nothing).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
set -a
. "${SAMBA_CA_ENV:-$top/.build/samba.env}"
set +a
export SAMBA_CA_TOP=$top
. "$top/selftest/lib/smbd.sh"
. "$top/selftest/tests/persistent_common.sh"

creates=${BENCH_CREATES:-1000}
locks=${BENCH_LOCKS:-2000}
mib=${BENCH_MIB:-64}
rounds=${BENCH_ROUNDS:-3}
variants="default sync-close no-journal"
declare -A addr=([default]=127.0.0.26 [sync-close]=127.0.0.29
	[no-journal]=127.0.0.30)
declare -A extra=([default]="" [sync-close]="persistent:sync close = yes"
	[no-journal]="persistent:journal = no")
base=$(mktemp -d /var/tmp/samba-ca-pbench.XXXXXX)
chmod 755 "$base"
trap 'kill "${D_PID:-}" 2>/dev/null; for v in $variants; do smbd_stop "$base/$v"; done; rm -rf "$base"' EXIT

for v in $variants; do
	mkdir -p "$base/$v"
	pst_setup "$base/$v" "${addr[$v]}" "	log level = 0
	smb3 global cap:PERSISTENT HANDLES = yes
	${extra[$v]}" "	posix locking = no" || exit 1
	sed -i "/^\[plain\]/a\\	posix locking = no" "$base/$v/smb.conf"
	smbd_start "$base/$v" "${addr[$v]}" || exit 1
done

coproc D { "$SAMBA_TREE/bin/sca_persistent_driver" 2>&1; }
D_PID=$D_PID
reply=
send() {
	echo "$*" >&"${D[1]}"
	IFS= read -r -t 300 reply <&"${D[0]}"
}
rate() { sed -n 's/.*: \([0-9.]*\)\/s$/\1/p; s/.*: \([0-9.]*\) MiB\/s.*/\1/p' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# The extra time of one persistent operation over a durable one, in us:
# 1e6/rate[ca] - 1e6/rate[plain].
extra_us() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.0f", 1e6 / a - 1e6 / b; else print "n/a" }'; }
# The machine's own flush: median microseconds of a 200-byte append plus
# fdatasync, on the disk of the store, 300 times (flush_probe.py).
flush_us() { python3 "$top/selftest/bench/flush_probe.py" latency "$1"; }

echo "samba-ca persistent benchmark: Samba $SAMBA_VERSION, $(nproc) CPUs," \
	"store and shares on $(df -P "$base" | awk 'NR==2 { print $1 }')," \
	"$rounds rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A ratios extras
flushes=
for round in $(seq "$rounds"); do
	f=$(flush_us "$base")
	flushes+=" $f"
	echo "round $round append+fdatasync of 200 bytes: $f us (median of 300)"
	for v in $variants; do
		declare -A r=()
		for share in ca plain; do
			p=0
			[ "$share" = ca ] && p=1
			send connect "$share" "//${addr[$v]}/$share" "$SCA_USER%$SCA_PASS"
			send bench_create "$share" "cc$round.dat" "$creates" "$p"
			echo "round $round $v [$share] create+close: $reply"
			r[$share/create]=$(rate "$reply")
			send open "$share" "lk$round.dat" 0x12019f 7 60000 RWH "$p"
			send bench_lock "$share" "$locks"
			echo "round $round $v [$share] lock+unlock: $reply"
			r[$share/lock]=$(rate "$reply")
			send close "$share"
			send bench_write "$share" "wr$round.dat" "$mib" "$p"
			echo "round $round $v [$share] write-through: $reply"
			r[$share/write]=$(rate "$reply")
			send drop "$share"
		done
		for m in create lock write; do
			ratios[$v/$m]+=" $(ratio "${r[ca/$m]}" "${r[plain/$m]}")"
		done
		for m in create lock; do
			e=$(extra_us "${r[ca/$m]}" "${r[plain/$m]}")
			extras[$v/$m]+=" $(awk -v e="$e" -v f="$f" 'BEGIN { if (e != "n/a" && f > 0) printf "%.1f", e / f; else print "n/a" }')"
		done
	done
done
# profile SHARE P: system calls per create+close and per lock+unlock of
# the smbd child serving the driver's connection to SHARE
profile() {
	local share=$1 p=$2 master child out op
	master=$(cat "$base/default/smbd.pid")
	send connect "$share" "//${addr[default]}/$share" "$SCA_USER%$SCA_PASS"
	child=$(pgrep -n -P "$master")
	for op in create lock; do
		out="$base/strace-$share-$op"
		strace -c -S calls -p "$child" -o "$out" 2>/dev/null &
		local st=$!
		sleep 1
		if [ "$op" = create ]; then
			send bench_create "$share" "prof.dat" 200 "$p"
		else
			send open "$share" "proflk.dat" 0x12019f 7 60000 RWH "$p"
			send bench_lock "$share" 200
			send close "$share"
		fi
		kill -INT "$st"
		wait "$st" 2>/dev/null
		echo "  [$share] $op (per operation): $(awk '
			$NF ~ /^(fdatasync|fsync|msync|fcntl|mmap|munmap|pwrite64|pread64|write|newfstatat|fstat|fallocate|ftruncate)$/ {
				printf "%s %.1f  ", $NF, $4 / 200
			}' "$out")"
	done
	send drop "$share"
}
if [ -n "${BENCH_STRACE:-}" ] && command -v strace >/dev/null; then
	echo "system calls of the serving smbd (strace -c, 200 operations each):"
	profile ca 1
	profile plain 0
fi

send quit
echo "ratios persistent [ca] / durable [plain], median of $rounds (each round's):"
for v in $variants; do
	printf '  %-10s create+close %s (%s)  lock+unlock %s (%s)  write-through %s (%s)\n' \
		"$v" \
		"$(median <<<"${ratios[$v/create]}")" "${ratios[$v/create]# }" \
		"$(median <<<"${ratios[$v/lock]}")" "${ratios[$v/lock]# }" \
		"$(median <<<"${ratios[$v/write]}")" "${ratios[$v/write]# }"
done
flush=$(median <<<"$flushes")
echo "append+fdatasync of 200 bytes: median $flush us (each round's:$flushes)"
echo "extra cost of a persistent operation over a durable one, in flushes" \
	"(1/rate[ca] - 1/rate[plain], over that round's flush), median of $rounds:"
for v in $variants; do
	printf '  %-10s create+close %s (%s)  lock+unlock %s (%s)\n' \
		"$v" \
		"$(median <<<"${extras[$v/create]}")" "${extras[$v/create]# }" \
		"$(median <<<"${extras[$v/lock]}")" "${extras[$v/lock]# }"
done
echo "targets (default): create+close >= 0.5, write-through >= 0.9;" \
	"create+close at most 2 flushes over durable, lock+unlock at most 2" \
	"(one per lock, one per unlock)"
