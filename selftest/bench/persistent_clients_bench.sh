#!/usr/bin/env bash
# Persistent handles with several clients at once: N clients (each its
# own sca_persistent_driver, connection and smbd process) run
# create+close on their own files at the same time, on [ca] (persistent)
# and on [plain] (durable) of the same smbd, same run; prints the
# aggregate rates (all operations over the wall time from the first
# client's start to the last one's end) and their ratio.  And the
# machine's own answer to whether concurrent fdatasyncs of one file share
# a flush (selftest/bench/flush_probe.py share).  Prints figures, asserts
# nothing.
# Environment: BENCH_CLIENTS (default "1 4 16"), BENCH_CREATES (per
# client, default 300); SAMBA_CA_ENV: another samba.env.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
set -a
# shellcheck source=/dev/null
. "${SAMBA_CA_ENV:-$top/.build/samba.env}"
set +a
export SAMBA_CA_TOP=$top
. "$top/selftest/lib/smbd.sh"
. "$top/selftest/tests/persistent_common.sh"

clients=${BENCH_CLIENTS:-1 4 16}
creates=${BENCH_CREATES:-300}
addr=127.0.0.44
base=$(mktemp -d /var/tmp/samba-ca-pcbench.XXXXXX)
chmod 755 "$base"
trap 'smbd_stop "$base"; rm -rf "$base"' EXIT
pst_setup "$base" "$addr" "	log level = 0
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no" || exit 1
sed -i "/^\[plain\]/a\\	posix locking = no" "$base/smb.conf"
smbd_start "$base" "$addr" || exit 1
drv="$SAMBA_TREE/bin/sca_persistent_driver"

# run SHARE P N: N clients at once; prints the aggregate rate
run() {
	local share=$1 p=$2 n=$3 i start end ok
	start=$(date +%s.%N)
	for i in $(seq "$n"); do
		printf 'connect c //%s/%s %s\nbench_create c n%s-%s.dat %s %s\nquit\n' \
			"$addr" "$share" "$SCA_USER%$SCA_PASS" "$n" "$i" "$creates" "$p" |
			"$drv" >"$base/out-$share-$n-$i" 2>&1 &
	done
	wait
	end=$(date +%s.%N)
	ok=$(grep -l "^OK $creates create+close" "$base"/out-"$share"-"$n"-* | wc -l)
	awk -v n="$n" -v c="$creates" -v s="$start" -v e="$end" -v ok="$ok" \
		'BEGIN { printf "%.1f %d", ok * c / (e - s), ok }'
}

echo "samba-ca persistent clients benchmark: $(nproc) CPUs, store on" \
	"$(df -P "$base" | awk 'NR==2 { print $1 }'), $creates create+close per" \
	"client, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "append+fdatasync of 200 bytes: $(python3 "$top/selftest/bench/flush_probe.py" latency "$base") us (median of 300)"
echo "concurrent fdatasyncs of one file:"
# shellcheck disable=SC2086 # one argument per count
python3 "$top/selftest/bench/flush_probe.py" share "$base" $clients | sed 's/^/  /'
for n in $clients; do
	read -r ca ca_ok <<<"$(run ca 1 "$n")"
	read -r plain plain_ok <<<"$(run plain 0 "$n")"
	printf '%2d clients: [ca] %7.1f/s  [plain] %7.1f/s  ratio %s  (clients done: %s, %s)\n' \
		"$n" "$ca" "$plain" \
		"$(awk -v a="$ca" -v b="$plain" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')" \
		"$ca_ok/$n" "$plain_ok/$n"
done
echo "target: with 16 clients [ca] at least half of [plain]"
