#!/usr/bin/env bash
# The benchmarks: each prints figures and ratios against a baseline measured
# in the same run; none asserts a speed (targets are judged by reading them).
#   signing: our SMB3 signing vs raw OpenSSL EVP vs GnuTLS (64 KiB, 1 MiB)
#   persistent: create+close, lock+unlock, write-through on [ca] (persistent)
#               vs [plain] (durable), same build, same run, with the
#               machine's append+fdatasync latency; then 1, 4 and 16
#               clients at once
#   ctdb store: one update through a CTDB PERSISTENT / REPLICATED database
#               on the 3-node test cluster vs a local append+fdatasync
#               (root only: the test cluster needs it)
#   cluster store: create+close and lock+unlock on the 3-node test cluster,
#               persistent [ca] vs durable [share] (root only)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
set -a
# shellcheck source=/dev/null
. "$top/.build/samba.env"
set +a
export SAMBA_CA_TOP="$top"
export SAMBA_CA_OUT="$SAMBA_TREE/bin/default/samba-ca"
echo "samba-ca benchmarks on Samba $SAMBA_VERSION ($(nproc) cores)"
rc=0
echo "== signing"
"$SAMBA_CA_OUT/signing/samba_ca_signing_bench" || rc=1
echo "== persistent handles"
bash "$top/selftest/bench/persistent_bench.sh" || rc=1
echo "== persistent handles, several clients at once"
bash "$top/selftest/bench/persistent_clients_bench.sh" || rc=1
echo "== CTDB cluster store"
if [ "$(id -u)" = 0 ]; then
	bash "$top/selftest/bench/ctdb_store_bench.sh" || rc=1
	echo "== cluster store: persistent vs durable on the test cluster"
	bash "$top/selftest/bench/cluster_store_bench.sh" || rc=1
else
	echo "skipped: the test cluster needs root"
fi
exit $rc
