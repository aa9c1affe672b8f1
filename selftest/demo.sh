#!/usr/bin/env bash
# The main job, for now: one smbd from the build with a continuously
# available share ([ca], vfs objects = persistent) on a loopback address;
# a file is copied in and out with smbclient and its checksum printed both
# ways.  The cluster failover demo replaces this once the cluster store
# lands (see README.md, "Status").
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
set -a
# shellcheck source=/dev/null
. "$top/.build/samba.env"
set +a
. "$top/selftest/lib/smbd.sh"

addr=127.0.0.12
dir=$(mktemp -d /var/tmp/samba-ca-demo.XXXXXX)
trap 'smbd_stop "$dir"' EXIT

echo "samba-ca demo on Samba $SAMBA_VERSION ($SAMBA_TREE)"
smbd_setup "$dir" "$addr" "	log level = 1 vfs:3"
smbd_start "$dir" "$addr"
echo "smbd running on $addr, share //$addr/ca with vfs objects = persistent"

size=${DEMO_MB:-64}
head -c "${size}M" /dev/urandom >"$dir/source.bin"
src=$(sha256sum <"$dir/source.bin" | cut -d' ' -f1)
echo "source      ${size} MiB  sha256 $src"
sca_smbclient "$dir" "$addr" ca "put $dir/source.bin demo.bin" >"$dir/put.out" 2>&1 || { cat "$dir/put.out"; exit 1; }
on_server=$(sha256sum <"$dir/ca/demo.bin" | cut -d' ' -f1)
echo "on server            sha256 $on_server"
sca_smbclient "$dir" "$addr" ca "get demo.bin $dir/back.bin" >"$dir/get.out" 2>&1 || { cat "$dir/get.out"; exit 1; }
back=$(sha256sum <"$dir/back.bin" | cut -d' ' -f1)
echo "read back            sha256 $back"
grep -m1 "share \[ca\]: samba-ca-core" "$dir/log.smbd" | sed 's/^ */module log: /'
if [ "$src" = "$on_server" ] && [ "$src" = "$back" ]; then
	echo "demo OK: checksums match (logs: $dir)"
else
	echo "demo FAILED: checksums differ (logs: $dir)"
	exit 1
fi
