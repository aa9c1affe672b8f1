#!/usr/bin/env bash
# smbtorture of the build against vfs_persistent:
# - smb2.durable-v2-open.persistent-open-oplock and -lease pass on [ca];
# - the share really is CA and the server offers persistent handles, so the
#   *_ca_table of those tests is what was checked (replay5 only gets past
#   its two skips when smbtorture sees both capabilities), and the module
#   stored a record for the grants;
# - the same two tests FAIL on a share that only forces the CA bit
#   ("smb3 share cap:CONTINUOUS AVAILABILITY = yes", no module): the test
#   can fail;
# - smb2.replay.replay3..7, smb2.durable-v2-open, smb2.durable-open,
#   smb2.lock and smb2.lease on [ca] and [plain], each suite on a server
#   restarted from empty state (fresh_server), one line per subtest; a
#   subtest that passes on [plain] but fails on [ca] is a regression and
#   fails this test (no reruns: a difference is not forgiven);
# - replay3..7 run (no skip) and pass on [ca]: replay5 needs patch 0008
#   (the replayed create of a persistent open from a new connection).
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.21
dir=$(mktemp -d /var/tmp/samba-ca-pst.XXXXXX)
trap 'smbd_stop "$dir"; echo "logs kept in $dir"' EXIT
fail=0

# "posix locking = no" on [ca] and [plain]: with posix locking smbd
# cannot keep a durable open that holds byte-range locks, and when such an
# open's connection goes (smb2.durable-open and durable-v2-open's
# lock-oplock, lock-lease, lock-noW-lease) its locks stay in brlock.tdb
# under the file's dev:inode, owned by the dead smbd, after the file is
# gone.  A later subtest whose new file gets that inode back then sees a
# byte-range lock and is granted no oplock or Read lease: persistent-open-
# oplock and -lease failed so on [ca] or on [plain], whichever reused the
# inode, and passed when run again.
pst_setup "$dir" "$addr" "	log level = 1 vfs:5
	smb3 global cap:PERSISTENT HANDLES = yes" "	posix locking = no" || exit 1
sed -i "/^\[plain\]/a\\	posix locking = no" "$dir/smb.conf"
mkdir -p "$dir/caoverride"
chmod 777 "$dir/caoverride"
cat >>"$dir/smb.conf" <<CONF

[caoverride]
	path = $dir/caoverride
	read only = no
	smb3 share cap:CONTINUOUS AVAILABILITY = yes
CONF

smbd_start "$dir" "$addr" || exit 1
echo "smbd $("$SAMBA_BIN/smbd" --version) on $addr, config $dir/smb.conf"

echo "== [ca]: persistent-open-oplock, persistent-open-lease (must pass)"
pst_torture "//$addr/ca" "$dir/ca-persistent.out" \
	smb2.durable-v2-open.persistent-open-oplock \
	smb2.durable-v2-open.persistent-open-lease
pst_results "$dir/ca-persistent.out"
for t in persistent-open-oplock persistent-open-lease; do
	if [ "$(pst_result "$dir/ca-persistent.out" "$t")" != pass ]; then
		echo "FAIL: $t did not pass on [ca]"
		fail=1
	fi
done

echo "== [ca] reports CA and the server offers persistent handles"
pst_torture "//$addr/ca" "$dir/ca-replay5-probe.out" smb2.replay.replay5
if grep -q "Replay of Persistent DurableHandleReqV2" \
	"$dir/ca-replay5-probe.out"; then
	echo "  smbtorture saw SMB2_CAP_PERSISTENT_HANDLES and" \
		"SMB2_SHARE_CAP_CONTINUOUS_AVAILABILITY on [ca]" \
		"(replay5 ran its persistent body)"
else
	echo "FAIL: replay5 skipped on [ca]:"
	grep -i "skip" "$dir/ca-replay5-probe.out" | head -3
	fail=1
fi
if grep -q "share \[ca\]: continuously available" "$dir/log.smbd"; then
	echo "  module log: $(grep -m1 -o "share \[ca\]: continuously available.*" "$dir/log.smbd")"
else
	echo "FAIL: no 'continuously available' line for [ca] in the log"
	fail=1
fi
stored=$(grep -c "persistent open [0-9]* stored" "$dir/log.smbd")
echo "  module log: $stored persistent grants stored in the store"
if [ "$stored" -lt 40 ]; then
	echo "FAIL: expected a stored record for each of the 40+ table rows"
	fail=1
fi
# Every grant is stored: since patch 0008 replay5's reuse of the create
# GUID of its disconnected open is answered before any grant.
if grep "not stored, so not persistent" "$dir/log.smbd" | grep -q .; then
	echo "FAIL: a grant was not stored:"
	grep -m3 "not stored" "$dir/log.smbd"
	fail=1
fi

echo "== [caoverride] (CA bit forced, no module): the same tests must FAIL"
pst_torture "//$addr/caoverride" "$dir/override-persistent.out" \
	smb2.durable-v2-open.persistent-open-oplock \
	smb2.durable-v2-open.persistent-open-lease
pst_results "$dir/override-persistent.out"
if [ "$(pst_result "$dir/override-persistent.out" persistent-open-oplock)" != FAIL ]; then
	echo "FAIL: persistent-open-oplock did not fail without the module"
	fail=1
else
	echo "  as expected: without the module the CA table is not met"
	grep -A1 "^failure: persistent-open-oplock" \
		"$dir/override-persistent.out" | tail -1 | sed 's/^/    /'
fi

# fresh_server: the next smbtorture suite starts from what the first one
# found.  Besides the locks above, subtests leave state behind: files with
# fixed names (lease_timeout_logoff.dat, replaytestdir/...), disconnected
# durable opens (smb2.lease.timeout-disconnect keeps an RH lease with
# share mode NONE: a second run finds the file and gets OPENED, not
# CREATED), their entries in the volatile databases (shared by both
# shares' directories on one file system, keyed by dev:inode), and on
# [ca] disconnected persistent opens that refuse others for up to 300 s.
# So each (share, suite) runs on a server restarted from empty databases
# (the persistent store included) and empty share directories, and [ca]
# and [plain] run the same test.
fresh_server() {
	smbd_stop "$dir"
	find "$dir/ca" "$dir/plain" -mindepth 1 -delete
	rm -f "$dir"/state/persistent.tdb*
	smbd_start "$dir" "$addr"
}

declare -A res
for share in ca plain; do
	for suite in smb2.replay.replay3 smb2.replay.replay4 \
		smb2.replay.replay5 smb2.replay.replay6 smb2.replay.replay7 \
		smb2.durable-v2-open smb2.durable-open smb2.lock smb2.lease; do
		out="$dir/$share-$suite.out"
		if ! fresh_server; then
			echo "FAIL: smbd did not start again before $suite on [$share]"
			fail=1
			continue
		fi
		pst_torture "//$addr/$share" "$out" "$suite"
		echo "== [$share] $suite"
		pst_results "$out"
		while read -r r name _; do
			res["$share/$suite/$name"]=$r
		done < <(pst_results "$out")
		pst_smbd_healthy "$dir" || fail=1
	done
done

echo "== replay3..replay7 on [ca] (must run and pass)"
for n in 3 4 5 6 7; do
	r=${res["ca/smb2.replay.replay$n/replay$n"]:-missing}
	echo "  $r replay$n"
	if [ "$r" != pass ]; then
		echo "FAIL: replay$n: $r on [ca]"
		fail=1
	fi
done

# A subtest that passes on [plain] and does not on [ca], both run from
# the same fresh state, is a regression.
echo "== regressions ([plain] pass, [ca] not pass)"
regressions=0
for key in "${!res[@]}"; do
	case "$key" in
	plain/*) ;;
	*) continue ;;
	esac
	rest=${key#plain/}
	if [ "${res[$key]}" = pass ] && [ "${res["ca/$rest"]:-missing}" != pass ]; then
		echo "  $rest: plain pass, ca ${res["ca/$rest"]:-missing}"
		regressions=$((regressions + 1))
	fi
done
echo "  $regressions regressions"
[ "$regressions" -eq 0 ] || fail=1

pst_smbd_healthy "$dir" || fail=1

[ $fail -eq 0 ] && echo "PASS" || echo "FAILED"
exit $fail
