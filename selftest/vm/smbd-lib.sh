# shellcheck shell=bash
# samba-ca selftest: the set-up of the client VM tests around the one smbd
# launcher (selftest/lib/smbd.sh), run in a network namespace of the
# test's own.  Sourced by selftest/tests/vm_*.sh; they call
#
#   smbd_lib_init NAME      checks, temp dir $tmp, namespace $ns (unless
#                           VM_NETNS=0), user $user with password $pass,
#                           $tmp/smb.conf with [share] at $tmp/share;
#                           installs the EXIT trap that undoes all of it
#   smbd_start "$tmp" ADDR  (selftest/lib/smbd.sh) starts smbd in $ns and
#                           waits until it answers on ADDR (127.0.0.1,
#                           or another address of the namespace's lo)
#   smbd_stop "$tmp"        stops it and everything it started
#   sca_smbclient "$tmp" 127.0.0.1 share COMMANDS   the built smbclient
#   smbd_client_pids        pids of smbd processes with a client connection
#   inns CMD...             CMD in the test's namespace (or here)
#   secs START [END]        seconds between two "date +%s.%N" values
#
# Needs root and the Samba build named by .build/samba.env.

smbd_lib_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
user=sambaca-vm
pass=
tmp=
ns=
smbd_lib_created_user=0
smbd_lib_name=

fail() { echo "$smbd_lib_name: FAIL: $*" >&2; exit 1; }
secs() { awk -v a="$1" -v b="${2:-$(date +%s.%N)}" 'BEGIN { printf "%.1f", b - a }'; }

inns() { sca_inns "$@"; }

smbd_lib_cleanup() {
	local rc=$? p
	[ -z "$tmp" ] || smbd_stop "$tmp" || true
	if [ -n "$ns" ]; then
		# anything still running in the namespace is ours
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	fi
	if [ "$smbd_lib_created_user" = 1 ]; then
		# userdel refuses while a (just killed) process of the user remains
		local n=0
		until userdel "$user" 2>/dev/null || [ "$n" -ge 20 ]; do
			sleep 0.3
			n=$((n + 1))
		done
		! id "$user" >/dev/null 2>&1 || echo "$smbd_lib_name: warning: could not remove user $user" >&2
	fi
	if [ -n "${SAMBA_CA_TEST_LOGS:-}" ] && [ -d "$SAMBA_CA_TEST_LOGS" ]; then
		cp "$tmp/console.log" "$SAMBA_CA_TEST_LOGS/$smbd_lib_name.console.log" 2>/dev/null || true
		cp "$tmp/log.smbd" "$SAMBA_CA_TEST_LOGS/$smbd_lib_name.smbd.log" 2>/dev/null || true
	fi
	if [ "$rc" != 0 ] && [ -f "$tmp/log.smbd" ]; then
		echo "--- last lines of the smbd log ($tmp/log.smbd):" >&2
		tail -n 30 "$tmp/log.smbd" >&2
		echo "--- keeping $tmp for inspection" >&2
	elif [ -n "$tmp" ]; then
		rm -rf "$tmp"
	fi
	exit "$rc"
}

smbd_lib_init() {
	smbd_lib_name=$1
	local env_file=${SAMBA_ENV:-$smbd_lib_top/.build/samba.env} b
	[ "$(id -u)" = 0 ] || fail "needs root (smbd on port 445, a network namespace, a local user)"
	[ -f "$env_file" ] || fail "no Samba build: $env_file missing (build Samba first)"
	# shellcheck source=/dev/null
	. "$env_file"
	: "${SAMBA_BIN:?SAMBA_BIN not set by $env_file}"
	# shellcheck source=../lib/smbd.sh
	. "$smbd_lib_top/selftest/lib/smbd.sh"
	for b in smbd smbclient pdbedit; do
		[ -x "$SAMBA_BIN/$b" ] || fail "$SAMBA_BIN/$b missing: the Samba build is not finished"
	done
	pass=Vm-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	# the launcher's test user (selftest/lib/smbd.sh)
	# shellcheck disable=SC2034
	SCA_USER=$user
	# shellcheck disable=SC2034
	SCA_PASS=$pass
	tmp=$(mktemp -d "/tmp/samba-ca-$smbd_lib_name.XXXXXX")
	chmod 755 "$tmp"
	trap smbd_lib_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	if [ "${VM_NETNS:-1}" = 1 ]; then
		ns=sambaca-$smbd_lib_name-$$
		ns=${ns:0:40}
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		SCA_NETNS=$ns
	fi
	if ! id "$user" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
		smbd_lib_created_user=1
	fi
	local dirs
	dirs=$(smbd_conf_dirs "$tmp") || fail "cannot make the directories in $tmp"
	mkdir -p "$tmp/share"
	chown "$user" "$tmp/share"
	cat >"$tmp/smb.conf" <<-EOF
		[global]
			workgroup = SAMBACA
			netbios name = SAMBACA-VMT
			server role = standalone server
			server min protocol = SMB2_02
			server max protocol = SMB3_11
			passdb backend = tdbsam
		$dirs
			log level = ${SMBD_LOG_LEVEL:-1}
			smb ports = 445
			interfaces = lo
			bind interfaces only = yes
			load printers = no
			printcap name = /dev/null
			disable spoolss = yes
			map to guest = never

		[share]
			path = $tmp/share
			read only = no
			valid users = $user
	EOF
	printf '%s\n%s\n' "$pass" "$pass" |
		"$SAMBA_BIN/pdbedit" -s "$tmp/smb.conf" -a -t -u "$user" >"$tmp/pdbedit.log" 2>&1 ||
		{ cat "$tmp/pdbedit.log" >&2; fail "pdbedit -a $user failed"; }
}

smbd_client_pids() {
	inns ss -tnpH state established '( sport = :445 )' 2>/dev/null |
		grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}
