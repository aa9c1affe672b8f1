# shellcheck shell=bash
# Shared by the persistent_*.sh tests (sourced, not a test itself).
# Source after selftest/lib/smbd.sh.

# pst_setup DIR ADDR GLOBAL-LINES [CA-SHARE-LINES]: smbd_setup (shares
# [plain] and [ca] with vfs objects = persistent), with "interfaces =
# ADDR/8" so that smbd finds its address through lo's 127.0.0.1/8 even when
# a test's smbd_stop/smbd_start (a full restart) has taken ADDR off lo; and
# a check that the build has the module where its smbd looks for it.
pst_setup() {
	local dir=$1 addr=$2
	smbd_setup "$@" || return 1
	sed -i -e "s|^\(\tinterfaces = $addr\)\$|\1/8|" "$dir/smb.conf"
	if [ ! -e "$SAMBA_BIN/modules/vfs/persistent.so" ]; then
		echo "FAIL: $SAMBA_BIN/modules/vfs/persistent.so missing"
		return 1
	fi
}

# pst_add_stock_share DIR NAME: a share [NAME] without the module that only
# announces CA ("smb3 share cap:CONTINUOUS AVAILABILITY = yes"): the stock
# behaviour every persistence test must also be shown to fail on.
pst_add_stock_share() {
	local dir=$1 name=$2
	mkdir -p "$dir/$name"
	chmod 777 "$dir/$name"
	cat >>"$dir/smb.conf" <<CONF

[$name]
	path = $dir/$name
	read only = no
	posix locking = no
	smb3 share cap:CONTINUOUS AVAILABILITY = yes
CONF
}

# pst_torture SHARE-URL OUT TEST...: run the build's smbtorture as the test
# user; prints nothing, returns smbtorture's status.
pst_torture() {
	local url=$1 out=$2
	shift 2
	timeout 600 "$SAMBA_BIN/smbtorture" "$url" \
		-U "$SCA_USER%$SCA_PASS" "$@" >"$out" 2>&1
}

# pst_results OUT: one line per subtest: "  pass|FAIL|skip name".
pst_results() {
	sed -n -e 's/^success: \(.*\)$/  pass \1/p' \
		-e 's/^failure: \([^ ]*\).*$/  FAIL \1/p' \
		-e 's/^error: \([^ ]*\).*$/  FAIL \1 (error)/p' \
		-e 's/^skip: \([^ ]*\).*$/  skip \1/p' "$1"
}

# pst_result OUT NAME: pass, FAIL, skip or missing for one subtest.
pst_result() {
	local line
	line=$(pst_results "$1" | awk -v n="$2" '$2 == n { print $1; exit }')
	echo "${line:-missing}"
}

# pst_cleanup DIR [COMMAND]: at exit, stop the driver (pst_driver) and
# DIR's smbd, run COMMAND if given, say where the logs are.
pst_cleanup() {
	PST_DIR=$1
	PST_AT_EXIT=${2:-}
	trap pst_cleanup_now EXIT
}
pst_cleanup_now() {
	if [ -n "${D_PID:-}" ]; then
		kill "$D_PID" 2>/dev/null
	fi
	smbd_stop "$PST_DIR"
	if [ -n "$PST_AT_EXIT" ]; then
		eval "$PST_AT_EXIT"
	fi
	echo "logs kept in $PST_DIR"
}

# pst_driver: start smbclient3's scripted client (sca_persistent_driver) as
# the coprocess D (its pid in D_PID, for the caller's cleanup).  Then
#   send CMD...         one command to the driver, its answer in $reply
#                       (both echoed, indented)
#   check WHAT PATTERN  the last reply matches the extended regex PATTERN:
#                       "ok: WHAT", or "NOT OK: WHAT" and nfail+1
pst_driver() {
	local drv="$SAMBA_TREE/bin/sca_persistent_driver"
	if [ ! -x "$drv" ]; then
		echo "FAIL: $drv missing"
		return 1
	fi
	coproc D { "$drv" 2>&1; }
	D_PID=$D_PID
	reply=
	nfail=0
}

send() {
	echo "$*" >&"${D[1]}"
	reply=
	IFS= read -r -t 60 reply <&"${D[0]}"
	echo "    > $* : $reply"
}

check() {
	if [[ "$reply" =~ $2 ]]; then
		echo "  ok: $1"
	else
		echo "  NOT OK: $1 (expected /$2/)"
		nfail=$((nfail + 1))
	fi
}

# pst_smbd_healthy DIR: DIR's smbd still runs (with ALIVE=yes, the default)
# and its log has no panic; says what is wrong, returns 1 then.
pst_smbd_healthy() {
	local dir=$1 rc=0
	if [ "${ALIVE:-yes}" = yes ] &&
		! kill -0 "$(cat "$dir/smbd.pid" 2>/dev/null)" 2>/dev/null; then
		echo "FAIL: smbd is gone"
		rc=1
	fi
	if grep -q "PANIC\|INTERNAL ERROR" "$dir/log.smbd"; then
		echo "FAIL: smbd panicked:"
		grep -m3 "PANIC\|INTERNAL ERROR" "$dir/log.smbd"
		rc=1
	fi
	return $rc
}
