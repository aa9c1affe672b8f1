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
# Environment: BENCH_CREATES (default 1000), BENCH_LOCKS (2000),
# BENCH_MIB (64); SAMBA_CA_ENV: another samba.env than .build/samba.env.
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
addr=127.0.0.26
dir=$(mktemp -d /var/tmp/samba-ca-pbench.XXXXXX)
trap 'kill "${D_PID:-}" 2>/dev/null; smbd_stop "$dir"; rm -rf "$dir"' EXIT

pst_setup "$dir" "$addr" "	log level = 0
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no" || exit 1
sed -i "/^\[plain\]/a\\	posix locking = no" "$dir/smb.conf"
smbd_start "$dir" "$addr" || exit 1

coproc D { "$SAMBA_TREE/bin/sca_persistent_driver" 2>&1; }
D_PID=$D_PID
reply=
send() {
	echo "$*" >&"${D[1]}"
	IFS= read -r -t 300 reply <&"${D[0]}"
}
rate() { sed -n 's/.*: \([0-9.]*\)\/s$/\1/p; s/.*: \([0-9.]*\) MiB\/s.*/\1/p' <<<"$1"; }

echo "samba-ca persistent benchmark: Samba $SAMBA_VERSION, $(nproc) CPUs," \
	"store and shares on $(df -P "$dir" | awk 'NR==2 { print $1 }')"
declare -A r
for share in ca plain; do
	p=0
	[ "$share" = ca ] && p=1
	send connect "$share" "//$addr/$share" "$SCA_USER%$SCA_PASS"
	send bench_create "$share" cc.dat "$creates" "$p"
	echo "[$share] create+close: $reply"
	r[$share/create]=$(rate "$reply")
	send open "$share" lk.dat 0x12019f 7 60000 RWH "$p"
	send bench_lock "$share" "$locks"
	echo "[$share] lock+unlock: $reply"
	r[$share/lock]=$(rate "$reply")
	send close "$share"
	send bench_write "$share" wr.dat "$mib" "$p"
	echo "[$share] write-through: $reply"
	r[$share/write]=$(rate "$reply")
done
send quit
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "ratios persistent [ca] / durable [plain]:"
echo "  create+close: $(ratio "${r[ca/create]}" "${r[plain/create]}") (target >= 0.5)"
echo "  lock+unlock:  $(ratio "${r[ca/lock]}" "${r[plain/lock]}")"
echo "  write-through throughput: $(ratio "${r[ca/write]}" "${r[plain/write]}") (target >= 0.9)"
