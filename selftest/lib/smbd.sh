# shellcheck shell=bash
# The one smbd launcher of the tests and the demo: a standalone smbd from
# the build on a loopback address.  Source after .build/samba.env
# (SAMBA_BIN, SAMBA_TREE).  Everything lives in one directory DIR (its
# smb.conf, smbd.pid, smbd.out, log.smbd); smbd_stop stops it.  The
# client VM's tests (selftest/vm/smbd-lib.sh) use it too, with SCA_NETNS.
#
#   smbd_setup DIR ADDR [...]  DIR/smb.conf with [plain] and [ca]
#   smbd_start DIR ADDR        start smbd, wait until it answers on ADDR
#   smbd_stop DIR              stop it and every process of DIR/smb.conf
#   sca_smbclient DIR ADDR SHARE COMMANDS   smbclient as the test user
#
# SCA_USER and SCA_PASS name the test user; SCA_NETNS, when set, is the
# network namespace smbd runs and is probed in (empty: this one).

SCA_USER=${SCA_USER:-sambaca}
SCA_PASS=${SCA_PASS:-Samba-CA-test1}
SCA_NETNS=${SCA_NETNS:-}

# sca_inns CMD...: CMD in SCA_NETNS (or here).  ip netns exec execs CMD, so
# a background "sca_inns CMD &" has CMD's own pid in $!.
sca_inns() {
	if [ -n "$SCA_NETNS" ]; then
		ip netns exec "$SCA_NETNS" "$@"
	else
		"$@"
	fi
}

# The build tree's smbd loads modules from bin/modules (its MODULESDIR),
# where waf links vfs_persistent as vfs/persistent.so: the share says
# "vfs objects = persistent" as an admin's would.
sca_module() {
	if [ ! -e "$SAMBA_TREE/bin/modules/vfs/persistent.so" ]; then
		echo "vfs_persistent not built: no $SAMBA_TREE/bin/modules/vfs/persistent.so" >&2
		return 1
	fi
	echo persistent
}

sca_ensure_user() {
	if ! getent passwd "$SCA_USER" >/dev/null; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
			"$SCA_USER" || return 1
	fi
}

# smbd_conf_dirs DIR: makes DIR's state directories and prints the
# [global] lines that keep every file of smbd in DIR (the log in
# DIR/log.smbd).
smbd_conf_dirs() {
	local dir=$1
	mkdir -p "$dir"/{private,lock,state,cache,run,ncalrpc} || return 1
	printf '\t%s\n' \
		"private dir = $dir/private" \
		"lock directory = $dir/lock" \
		"state directory = $dir/state" \
		"cache directory = $dir/cache" \
		"pid directory = $dir/run" \
		"ncalrpc dir = $dir/ncalrpc" \
		"log file = $dir/log.smbd" \
		"max log size = 0"
}

# smbd_setup DIR ADDR [GLOBAL-LINES [SHARE-LINES]]
# Writes DIR/smb.conf with shares [plain] and [ca] (vfs objects = persistent)
# on ADDR (a loopback address), and adds the test user.
smbd_setup() {
	local dir=$1 addr=$2 extra_global=${3:-} extra_ca=${4:-}
	local module dirs
	module=$(sca_module) || return 1
	sca_ensure_user || return 1
	# smbd binds only to addresses an interface has: give lo this one.
	if ! ip -o addr show dev lo | grep -q " $addr/"; then
		ip addr add "$addr/32" dev lo || return 1
		echo "$addr" >"$dir.lo-addr"
	fi
	dirs=$(smbd_conf_dirs "$dir") || return 1
	mkdir -p "$dir"/{plain,ca}
	chmod 755 "$dir"
	chmod 777 "$dir/plain" "$dir/ca"
	cat >"$dir/smb.conf" <<CONF
[global]
	netbios name = SAMBACA
	workgroup = SAMBACA
	server role = standalone server
	interfaces = $addr
	bind interfaces only = yes
	smb ports = 445
	disable netbios = yes
$dirs
	passdb backend = tdbsam:$dir/private/passdb.tdb
	server min protocol = SMB2_02
	load printers = no
	printcap name = /dev/null
	disable spoolss = yes
$extra_global

[plain]
	path = $dir/plain
	read only = no

[ca]
	path = $dir/ca
	read only = no
	vfs objects = $module
$extra_ca
CONF
	printf '%s\n%s\n' "$SCA_PASS" "$SCA_PASS" |
		"$SAMBA_BIN/smbpasswd" -c "$dir/smb.conf" -a -s "$SCA_USER" \
			>"$dir/smbpasswd.log" 2>&1 || {
		cat "$dir/smbpasswd.log" >&2
		return 1
	}
}

# smbd_start DIR ADDR: start smbd and wait until it listens on ADDR:445 and
# answers there (an smbd of another test on 0.0.0.0:445 must not pass for
# ours).
smbd_start() {
	local dir=$1 addr=$2 i pid
	# Own session: smbd signals its whole process group when it stops.
	# A simple command, not sca_inns: a function in the background is a
	# subshell of ours, and $! must be smbd itself (ip netns exec and
	# setsid exec it), in its own session, for smbd.pid and for the tests
	# that kill that session.
	local -a cmd=(setsid "$SAMBA_BIN/smbd" --foreground --no-process-group
		--configfile="$dir/smb.conf")
	[ -z "$SCA_NETNS" ] || cmd=(ip netns exec "$SCA_NETNS" "${cmd[@]}")
	"${cmd[@]}" </dev/null >>"$dir/smbd.out" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/smbd.pid"
	for i in $(seq 1 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "smbd exited at start; see $dir/log.smbd and $dir/smbd.out" >&2
			tail -5 "$dir/smbd.out" "$dir/log.smbd" >&2 2>/dev/null
			return 1
		fi
		if [ -n "$(sca_inns ss -Hltn "src $addr and sport = :445" 2>/dev/null)" ] &&
			sca_inns "$SAMBA_BIN/smbclient" -s "$dir/smb.conf" \
				-U "$SCA_USER%$SCA_PASS" -L "//$addr" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	echo "smbd did not answer on $addr within 20 s; see $dir/log.smbd" >&2
	return 1
}

# smbd_stop DIR: stop the smbd started by smbd_start, its children and the
# helpers it started (samba-dcerpcd, rpcd_*: sessions of their own, but
# they name DIR/smb.conf too), even after a kill -9 of the parent.
smbd_stop() {
	local dir=$1 pid i
	# no pid file once stopped: a second stop (an exit trap after an
	# explicit stop) must not fail a "set -e" caller
	pid=$(cat "$dir/smbd.pid" 2>/dev/null) || pid=
	if [ -n "$pid" ] && [ "$pid" -gt 1 ]; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	pkill -KILL -f -- "--configfile=$dir/smb.conf" 2>/dev/null || true
	rm -f "$dir/smbd.pid"
	if [ -f "$dir.lo-addr" ]; then
		ip addr del "$(cat "$dir.lo-addr")/32" dev lo 2>/dev/null || true
		rm -f "$dir.lo-addr"
	fi
	return 0
}

# sca_smbclient DIR ADDR SHARE COMMANDS: run smbclient as the test user.
sca_smbclient() {
	local dir=$1 addr=$2 share=$3
	shift 3
	sca_inns "$SAMBA_BIN/smbclient" -s "$dir/smb.conf" \
		-U "$SCA_USER%$SCA_PASS" "//$addr/$share" -m SMB3 -c "$*"
}
