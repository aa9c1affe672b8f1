#!/bin/sh
# Builds smbdirect/'s unit tests, the rdma probe and the decoders' fuzz
# target (standalone driver) with plain g++ (ASan + UBSan) and runs them:
# a quick loop outside waf.
# Usage: smbdirect/run_tests_local.sh [build-dir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${1:-$(mktemp -d)}
mkdir -p "$out"
flags="-std=c++17 -fno-exceptions -fno-rtti -fPIC -Wall -Wextra -Werror -g -O1"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
inc="-I$here -I$root/signing"
srcs="status.cc wire.cc connection.cc transport.cc loopback_transport.cc driver.cc"
cd "$here"
for t in wire connection loopback; do
	# shellcheck disable=SC2086
	g++ $flags $san $inc -I"$root/selftest/fuzz" -o "$out/${t}_test" \
		${t}_test.cc $srcs -lcmocka
done
# shellcheck disable=SC2086
g++ $flags $san $inc -o "$out/rdma_probe" rdma_probe.cc rdma_transport.cc \
	$srcs -libverbs -lrdmacm
# shellcheck disable=SC2086
g++ $flags $san $inc -DSMBDIRECT_FUZZ_STANDALONE -I"$root/selftest/fuzz" \
	-o "$out/smbdirect_fuzz" "$root/selftest/fuzz/smbdirect_fuzz.cc" $srcs
rc=0
for t in wire_test connection_test loopback_test smbdirect_fuzz; do
	"$out/$t" || rc=1
done
"$out/rdma_probe" || [ $? -eq 77 ] || rc=1
exit $rc
