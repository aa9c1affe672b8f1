#!/bin/bash
# cluster_baseline_ci.sh: the CI-sized part of the smbtorture baseline.
# Brings up the 3-node test cluster, runs the CI subset of smbtorture suites
# (selftest/cluster/baseline.sh --ci) against its public address and checks
# that nothing recorded as pass in selftest/baseline-stock.txt fails now.
# Exit 0 pass, 77 skip (not root), else fail.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root (network namespaces)"
	exit 77
fi
echo "check: smbtorture CI subset against the cluster's public address, no pass -> fail against selftest/baseline-stock.txt"
exec "$HERE/../cluster/baseline.sh" --ci
