#!/bin/bash
# baseline.sh: run the build's smbtorture against the test cluster's public
# address and record, per subtest, pass / fail / skip.
#
#   baseline.sh                 full run of all suites, writes
#                               selftest/baseline-stock.txt
#   baseline.sh --ci            the CI-sized subset, compared with the
#                               recorded baseline (a pass that turned into a
#                               fail is an error)
#   baseline.sh --compare FILE  full run, compared with FILE instead of written
# options: --suites "S1 S2"  --out FILE  --no-up (use the running cluster)
#          --timeout SECS (per suite, default 900)
#
# The cluster is brought up (3 nodes) and down unless --no-up is given.
# Raw smbtorture output is kept in $SAMBA_CA_RUN/torture/.

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CLUSTER=$HERE/cluster.sh
RECORDED=$TOP/selftest/baseline-stock.txt

ALL_SUITES="smb2.connect smb2.read smb2.rw smb2.lock smb2.lease smb2.durable-open smb2.durable-v2-open smb2.replay smb2.session"
# CI-sized subset: the suites that take seconds (measured: about 7 s of
# smbtorture, 40 s with cluster up and down); smb2.lease (190 s),
# smb2.durable-v2-open (70 s) and smb2.replay (75 s) are left to the full run
CI_SUITES="smb2.connect smb2.read smb2.rw smb2.lock smb2.durable-open smb2.session"

suites=$ALL_SUITES
out=$RECORDED
compare=""
do_up=1
suite_timeout=900

die() {
	echo "baseline.sh: error: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--ci)
		suites=$CI_SUITES
		out=""
		compare=$RECORDED
		shift
		;;
	--suites)
		suites=${2:?--suites needs a list}
		shift 2
		;;
	--out)
		out=${2:?--out needs a file}
		shift 2
		;;
	--compare)
		compare=${2:?--compare needs a file}
		out=""
		shift 2
		;;
	--no-up)
		do_up=0
		shift
		;;
	--timeout)
		suite_timeout=${2:?--timeout needs seconds}
		shift 2
		;;
	-h | --help)
		sed -n '2,17p' "$0"
		exit 0
		;;
	*) die "unknown argument '$1'" ;;
	esac
done

[ "$(id -u)" = 0 ] || die "must run as root (the cluster lives in network namespaces)"
[ -z "$compare" ] || [ -f "$compare" ] || die "no baseline $compare to compare with"

started=0
finish() {
	local rc=$?
	if [ "$started" = 1 ]; then
		"$CLUSTER" down || rc=1
	fi
	exit "$rc"
}
trap finish EXIT

t_all=$SECONDS
if [ "$do_up" = 1 ]; then
	started=1
	"$CLUSTER" up --nodes 3 || die "cluster up failed"
fi
eval "$("$CLUSTER" env)"
# the build the cluster runs (recorded by cluster.sh up)
# shellcheck disable=SC1090
. "$SAMBA_CA_BUILD_ENV"
read -ra ips <<<"$SAMBA_CA_PUBLIC_IPS"
ip=${ips[0]}
raw=$SAMBA_CA_RUN/torture
mkdir -p "$raw"
results=$raw/results.txt
: >"$results"

for suite in $suites; do
	t=$SECONDS
	echo "== $suite against //$ip/$SAMBA_CA_SHARE"
	rc=0
	"$CLUSTER" client timeout "$suite_timeout" smbtorture \
		--configfile="$SAMBA_CA_CLIENT_CONF" --format=subunit \
		-U "$SAMBA_CA_USER%$SAMBA_CA_PASSWORD" \
		"//$ip/$SAMBA_CA_SHARE" "$suite" >"$raw/$suite.subunit" 2>&1 || rc=$?
	# subunit v1: "test: NAME", then "success:|failure:|error:|skip:|xfail: NAME [...]"
	awk -v suite="$suite" '
		function full(n) { return (index(n, suite ".") == 1 || n == suite) ? n : suite "." n }
		/^test: / { n = full(substr($0, 7)); sub(/ \[$/, "", n); started[n] = 1; order[++k] = n; next }
		/^(success|successful|failure|error|skip|xfail|uxsuccess): / {
			kind = $1; sub(/:$/, "", kind)
			n = $0; sub(/^[a-z]+: /, "", n); sub(/ \[.*$/, "", n); n = full(n)
			if (kind == "success" || kind == "successful" || kind == "xfail") r = "pass"
			else if (kind == "skip") r = "skip"
			else r = "fail"
			if (!(n in started)) order[++k] = n
			res[n] = r
			next
		}
		END {
			for (i = 1; i <= k; i++) {
				n = order[i]
				if (n in seen) continue
				seen[n] = 1
				print n, ((n in res) ? res[n] : "fail")
			}
		}' "$raw/$suite.subunit" >"$raw/$suite.results"
	if [ ! -s "$raw/$suite.results" ]; then
		echo "$suite fail" >"$raw/$suite.results"
	fi
	# the suite itself is a "test" of smbtorture: keep only its subtests
	# when it has any
	if [ "$(wc -l <"$raw/$suite.results")" -gt 1 ]; then
		grep -v "^$suite " "$raw/$suite.results" >>"$results" || true
	else
		cat "$raw/$suite.results" >>"$results"
	fi
	[ "$rc" != 124 ] || echo "   (smbtorture timed out after $suite_timeout s)"
	printf '   %s: %d pass, %d fail, %d skip in %d s\n' "$suite" \
		"$(grep -c "^${suite}[. ].* pass$" "$results" || true)" \
		"$(grep -c "^${suite}[. ].* fail$" "$results" || true)" \
		"$(grep -c "^${suite}[. ].* skip$" "$results" || true)" \
		$((SECONDS - t))
done

echo "== total: $(grep -c ' pass$' "$results" || true) pass, $(grep -c ' fail$' "$results" || true) fail, $(grep -c ' skip$' "$results" || true) skip; $((SECONDS - t_all)) s including cluster up/down"

if [ -n "$out" ]; then
	{
		echo "# smbtorture baseline on the stock 3-node samba-ca test cluster"
		echo "# Samba ${SAMBA_UPSTREAM:-?} (${SAMBA_VERSION:-?}), share //public-address/$SAMBA_CA_SHARE, SMB3 via CTDB"
		echo "# recorded $(date -u +%Y-%m-%d) by selftest/cluster/baseline.sh; one line per subtest: NAME pass|fail|skip"
		echo "# build tree $(basename "${SAMBA_TREE:-?}"); share options: see selftest/cluster/cluster.sh"
		echo "# rule: a later change may turn a fail or skip into a pass, never a pass into anything else."
		sort "$results"
	} >"$out"
	echo "wrote $out"
fi

if [ -n "$compare" ]; then
	regress=0
	while read -r name result; do
		was=$(awk -v n="$name" '$1 == n {print $2}' "$compare")
		if [ "$was" = pass ] && [ "$result" != pass ]; then
			echo "REGRESSION: $name was pass, now $result"
			regress=1
		elif [ -n "$was" ] && [ "$was" != "$result" ]; then
			echo "changed: $name $was -> $result"
		elif [ -z "$was" ]; then
			echo "new: $name $result"
		fi
	done <"$results"
	# a recorded pass of a suite we ran that is missing now is a regression
	for suite in $suites; do
		while read -r name _; do
			grep -q "^$name " "$results" || {
				echo "REGRESSION: $name was pass, now missing"
				regress=1
			}
		done < <(grep "^${suite}[. ].* pass$" "$compare" || true)
	done
	[ "$regress" = 0 ] || die "pass -> fail regressions against $compare"
	echo "no regressions against $compare"
fi
