# shellcheck shell=bash
# Shared by the persistent_*.sh tests (sourced, not a test itself).
# Source after selftest/lib/smbd.sh.

# pst_setup DIR ADDR GLOBAL-LINES [CA-SHARE-LINES]: smbd_setup, then two
# adjustments for a stock 4.22 smbd:
# - "vfs objects" naming a module by absolute path is refused by 4.22
#   (smb_load_module: "error probing vfs module ... INVALID_PARAMETER");
#   the build tree's bin/modules/vfs/persistent.so is found by name;
# - "interfaces = 127.0.0.N" finds no interface unless N is 1 (lo holds
#   127.0.0.1/8 only); with the /8 mask smbd binds to that address.
pst_setup() {
	local dir=$1 addr=$2
	# mktemp -d makes DIR 0700: the test user must reach the shares
	chmod 755 "$dir"
	smbd_setup "$@" || return 1
	sed -i -e "s|^\(\tvfs objects = \)/.*|\1persistent|" \
		-e "s|^\(\tinterfaces = $addr\)\$|\1/8|" "$dir/smb.conf"
	if [ ! -e "$SAMBA_BIN/modules/vfs/persistent.so" ]; then
		echo "FAIL: $SAMBA_BIN/modules/vfs/persistent.so missing"
		return 1
	fi
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
