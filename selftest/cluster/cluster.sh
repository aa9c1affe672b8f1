#!/bin/bash
# cluster.sh: a real N-node Samba+CTDB cluster in network namespaces on one
# machine, for samba-ca's tests.  See selftest/cluster/README.md.
#
# Every node is a network namespace plus a private mount namespace in which
# CTDB's compiled-in etc/run/var directories are bind mounts of per-node
# directories under the run directory; its ctdbd and smbd come from the
# build named by .build/samba.env.  A bridge namespace joins the nodes and a
# client namespace; the root namespace gets no address and no link.

set -euo pipefail

PROG=cluster.sh
SELF=$(readlink -f "$0")
TOP=$(cd "$(dirname "$SELF")/../.." && pwd)
ENVFILE=${SAMBA_CA_ENV:-$TOP/.build/samba.env}
RUN=${SAMBA_CA_RUN:-/var/tmp/samba-ca-cluster}
UP_TIMEOUT=${SAMBA_CA_UP_TIMEOUT:-120}
NSP=${SAMBA_CA_NS_PREFIX:-sca}

BR_NS=$NSP-br
CL_NS=$NSP-cl
PRIV_NET=198.18.1
PUBLIC_IPS=(198.18.2.1 198.18.2.2)
PUBLIC_MASK=24
CLIENT_ADDRS=(198.18.1.200/24 198.18.2.200/24)
TEST_USER=catest
TEST_PASS=CA-test-pw1
TEST_UID=20001
SHARE=share
# the continuously available share: the same settings plus the module
CA_SHARE=ca
OWNER_MARK="samba-ca-cluster"

STATE=$RUN/state
MNTNS=$RUN/mntns
SHARED=$RUN/shared
CLIENT_DIR=$RUN/client

say() { echo "$PROG: $*"; }
warn() { echo "$PROG: $*" >&2; }
die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

usage() {
	cat <<EOF
usage: $PROG COMMAND [ARGS]
  up [--nodes N]        start an N-node cluster (default 3)
  down                  stop everything this tool started (idempotent)
  status                daemons, links, ctdb status and public addresses
  env                   shell assignments for tests (eval "\$($PROG env)")
  exec NODE CMD...      run CMD in node NODE (1..N): its net+mount namespace
  client CMD...         run CMD in the client namespace
  logs NODE [-f]        show NODE's ctdbd/smbd logs
  disable|enable NODE   ctdb disable / enable on NODE
  stop|continue NODE    ctdb stop / continue on NODE
  kill NODE [--keep-ips]  SIGKILL NODE's smbd, ctdbd and helpers; drops its
                        public addresses unless --keep-ips (a crashed node)
  restart NODE          (re)start NODE's ctdbd and smbd, wait until it is OK
  cut|heal NODE         take NODE's link to the bridge down / up
  whohas IP             the node (1..N) hosting public address IP (ctdb ip)
  healthy [SECONDS]     wait (default 60 s) until every node is OK and every
                        public address hosted; exit 1 naming what is not
environment: SAMBA_CA_RUN (run dir, now $RUN), SAMBA_CA_ENV (samba.env),
  SAMBA_CA_UP_TIMEOUT (s, default 120), SAMBA_CA_NS_PREFIX (default sca),
  SAMBA_CA_NODE_GLOBAL (smb.conf lines added to every node's [global])
EOF
}

need_root() {
	[ "$(id -u)" = 0 ] || die "must run as root (it creates network and mount namespaces)"
}

# --- the build --------------------------------------------------------------

# The cluster keeps running the build it was brought up with: `up` records
# samba.env in the state directory and every later command reads that copy
# (a rebuild that moves .build/samba.env does not pull the rug).
load_build() {
	local f=$ENVFILE
	if [ "${1:-}" != fresh ] && [ -f "$STATE/samba.env" ]; then
		f=$STATE/samba.env
	fi
	[ -f "$f" ] || die "no $f: build Samba first (buildtools/samba-base.sh)"
	# shellcheck disable=SC1090
	. "$f"
	BUILD_ENV=$f
	: "${SAMBA_TREE:?SAMBA_TREE not set in $ENVFILE}" "${SAMBA_BIN:?SAMBA_BIN not set in $ENVFILE}"
	HELPERS=$SAMBA_TREE/bin/default/ctdb
	local f
	for f in "$SAMBA_BIN/ctdbd" "$SAMBA_BIN/ctdb" "$SAMBA_BIN/smbd" \
		"$SAMBA_BIN/smbpasswd" "$HELPERS/ctdb-eventd" \
		"$HELPERS/ctdb_mutex_fcntl_helper" "$HELPERS/ctdb-path"; do
		[ -x "$f" ] || die "$f missing: the build in $SAMBA_TREE is incomplete or has no cluster support (--with-cluster-support)"
	done
	[ -f "$HELPERS/functions" ] || die "$HELPERS/functions missing (ctdb event script functions of the build)"
	EVENTS_SRC=$SAMBA_TREE/ctdb/config/events/legacy
	[ -f "$EVENTS_SRC/10.interface.script" ] || die "$EVENTS_SRC/10.interface.script missing"
	command -v ethtool >/dev/null || die "ethtool not installed (CTDB's 10.interface needs it)"
	command -v iptables >/dev/null || die "iptables not installed (CTDB's 10.interface needs it)"
	# the compiled-in CTDB directories, outside test mode
	CTDB_ETC=$(env -u CTDB_TEST_MODE "$HELPERS/ctdb-path" etcdir)
	CTDB_RUNDIR=$(env -u CTDB_TEST_MODE "$HELPERS/ctdb-path" rundir)
	CTDB_VARDIR=$(env -u CTDB_TEST_MODE "$HELPERS/ctdb-path" vardir)
	set_node_env
}

# environment every process inside a node gets (NODE_ENV, set by load_build)
set_node_env() {
	NODE_ENV=(env -u CTDB_TEST_MODE -u CTDB_BASE
		"PATH=$SAMBA_BIN:/usr/sbin:/usr/bin:/sbin:/bin"
		"CTDB=$SAMBA_BIN/ctdb"
		"CTDB_HELPER_BINDIR=$HELPERS"
		"CTDB_EVENTD=$HELPERS/ctdb-eventd"
		"CTDB_EVENT_HELPER=$HELPERS/ctdb-event"
		"CTDB_LOCK_HELPER=$HELPERS/ctdb_lock_helper"
		"CTDB_RECOVERY_HELPER=$HELPERS/ctdb_recovery_helper"
		"CTDB_TAKEOVER_HELPER=$HELPERS/ctdb_takeover_helper"
		"CTDB_CLUSTER_MUTEX_HELPER=$HELPERS/ctdb_mutex_fcntl_helper")
}

# --- state ------------------------------------------------------------------

node_ns() { echo "$NSP-n$1"; }
node_dir() { echo "$RUN/node$1"; }
node_ip() { echo "$PRIV_NET.$((10 + $1))"; }
nodes_count() { cat "$STATE/nodes" 2>/dev/null || echo 0; }

ns_exists() { [ -e "/run/netns/$1" ]; }
ns_recorded() { grep -qxF "$1" "$STATE/netns" 2>/dev/null; }

record_ns() {
	echo "$1" >>"$STATE/netns"
}

check_node_arg() {
	local n=${1:-}
	[[ $n =~ ^[0-9]+$ ]] || die "NODE must be a number 1..$(nodes_count), got '${n}'"
	[ -f "$STATE/nodes" ] || die "no cluster is up (no $STATE/nodes); run: $PROG up"
	((n >= 1 && n <= $(nodes_count))) || die "no node $n (the cluster has $(nodes_count))"
	ns_exists "$(node_ns "$n")" || die "node $n's namespace $(node_ns "$n") is gone; run: $PROG down; $PROG up"
}

# run a command inside node N (network + mount namespace)
in_node() {
	local n=$1
	shift
	nsenter --mount="$MNTNS/node$n" --net="/run/netns/$(node_ns "$n")" -- "${NODE_ENV[@]}" "$@"
}

in_client() {
	ip netns exec "$CL_NS" env "PATH=$SAMBA_BIN:/usr/sbin:/usr/bin:/sbin:/bin" "$@"
}

# a live process (not a zombie waiting for an init that is slow to reap)
pid_alive() {
	local st
	[ -n "${1:-}" ] || return 1
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
ctdbd_pid() { cat "$(node_dir "$1")/run/ctdbd.pid" 2>/dev/null || true; }
smbd_pid() { cat "$(node_dir "$1")/samba/pid/smbd.pid" 2>/dev/null || true; }

# --- teardown ---------------------------------------------------------------

# kill every process in a network namespace of ours (they are all ours)
kill_ns_procs() {
	local ns=$1 sig i
	ns_exists "$ns" || return 0
	for sig in TERM KILL; do
		ns_pids_signal "$ns" "$sig" || return 0
		for ((i = 0; i < 20; i++)); do
			[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] || return 0
			sleep 0.1
		done
	done
	warn "processes left in $ns: $(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
}

# send a signal to every process in namespace $1; false if there are none
ns_pids_signal() {
	local p
	p=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
	[ -n "${p// /}" ] || return 1
	# shellcheck disable=SC2086
	kill -s "$2" $p 2>/dev/null || true
}

do_down() {
	local ns f
	if [ ! -f "$STATE/netns" ] && [ ! -d "$MNTNS" ]; then
		return 0
	fi
	if [ -f "$STATE/netns" ]; then
		# daemons first (node namespaces), then the client, then the bridge
		while read -r ns; do
			[ -n "$ns" ] || continue
			kill_ns_procs "$ns"
		done <"$STATE/netns"
	fi
	if [ -d "$MNTNS" ]; then
		for f in "$MNTNS"/node*; do
			[ -e "$f" ] || continue
			umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null || true
			rm -f "$f"
		done
		if mountpoint -q "$MNTNS"; then
			umount "$MNTNS" 2>/dev/null || umount -l "$MNTNS" || true
		fi
		rmdir "$MNTNS" 2>/dev/null || true
	fi
	if [ -f "$STATE/netns" ]; then
		tac "$STATE/netns" | while read -r ns; do
			[ -n "$ns" ] || continue
			if ns_exists "$ns"; then
				ip netns del "$ns" 2>/dev/null || warn "could not delete namespace $ns"
			fi
		done
		rm -f "$STATE/netns"
	fi
	rm -f "$STATE/nodes" "$STATE/cut" "$STATE/up" "$STATE/samba.env"
}

cmd_down() {
	if [ ! -f "$STATE/netns" ] && [ ! -d "$MNTNS" ]; then
		say "nothing to stop (no cluster recorded in $RUN)"
		return 0
	fi
	local t0=$SECONDS
	do_down
	say "down in $((SECONDS - t0)) s (logs kept in $RUN)"
}

# --- up ---------------------------------------------------------------------

# internal: runs inside node N's fresh mount namespace; makes CTDB's
# compiled-in directories that node's own, and gives it an /etc with the
# test user.
setup_mounts() {
	local n=$1 d t src
	d=$(node_dir "$n")
	load_build recorded
	for t in "$CTDB_ETC:$d/etc" "$CTDB_RUNDIR:$d/run" "$CTDB_VARDIR:$d/var"; do
		src=${t#*:}
		t=${t%%:*}
		[ -e "$t" ] || make_room "$t" "$d"
		mount --bind "$src" "$t"
	done
	# /etc: a tmpfs with copies of its files (a bind mount of a single file
	# would vanish when the host replaces it, as useradd does) and bind
	# mounts of its directories; then the test user is added to the copies
	cover "/etc" "$d/mnt/saved_etc" copy
	cat "$d/passwd.add" >>/etc/passwd
	cat "$d/group.add" >>/etc/group
}

# create directory $1 inside this mount namespace only: the nearest
# existing ancestor is covered by a tmpfs that holds bind mounts of what it
# had, so nothing is created on the host's file system.
make_room() {
	local t=$1 d=$2 a
	a=$(dirname "$t")
	while [ ! -e "$a" ]; do a=$(dirname "$a"); done
	if [ "$(findmnt -n -o SOURCE --target "$a" 2>/dev/null || true)" != "$OWNER_MARK" ]; then
		[ "$a" != / ] || die "cannot make room for $t"
		cover "$a" "$d/mnt/saved${a//\//_}" bind
	fi
	mkdir -p "$t"
}

# cover directory $1 with a tmpfs that shows what it had: directories as
# bind mounts, symlinks copied, files bind mounted or copied ($3)
cover() {
	local a=$1 save=$2 files=$3 e name
	mkdir -p "$save"
	mount --rbind "$a" "$save"
	mount -t tmpfs -o mode=0755 "$OWNER_MARK" "$a"
	for e in "$save"/* "$save"/.[!.]* "$save"/..?*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		name=$a/$(basename "$e")
		if [ -L "$e" ]; then
			cp -P "$e" "$name"
		elif [ -d "$e" ]; then
			mkdir "$name"
			mount --rbind "$e" "$name"
		elif [ "$files" = copy ]; then
			cp -p "$e" "$name"
		else
			touch "$name"
			mount --bind "$e" "$name"
		fi
	done
}

write_node_config() {
	local n=$1 nodes=$2 d i ip
	d=$(node_dir "$n")
	mkdir -p "$d/etc/events/legacy" "$d/run" "$d/var/volatile" \
		"$d/var/persistent" "$d/var/state" "$d/mnt" "$d/log" \
		"$d/samba/private" "$d/samba/lock" "$d/samba/state" \
		"$d/samba/cache" "$d/samba/pid" "$d/samba/ncalrpc"
	chmod 700 "$d/samba/private"
	cat >"$d/etc/ctdb.conf" <<EOF
# node $n of the samba-ca test cluster (generated by $PROG)
[logging]
	location = file:$d/log/ctdbd.log
	log level = NOTICE

[cluster]
	node address = $(node_ip "$n")
	cluster lock = !$HELPERS/ctdb_mutex_fcntl_helper $SHARED/.ctdb.lock

[database]
	volatile database directory = $d/var/volatile
	persistent database directory = $d/var/persistent
	state database directory = $d/var/state

[legacy]
	realtime scheduling = false
	script log level = NOTICE
EOF
	if [ "${SAMBA_CA_TEST_BREAK_NODE:-}" = "$n" ]; then
		# for the tool's own test: a node whose ctdbd refuses to start
		printf '[cluster]\n\ttransport = nonsense\n' >>"$d/etc/ctdb.conf"
	fi
	: >"$d/etc/nodes"
	for ((i = 1; i <= nodes; i++)); do
		node_ip "$i" >>"$d/etc/nodes"
	done
	: >"$d/etc/public_addresses"
	for ip in "${PUBLIC_IPS[@]}"; do
		echo "$ip/$PUBLIC_MASK eth0" >>"$d/etc/public_addresses"
	done
	cp "$HELPERS/functions" "$d/etc/functions"
	if [ -f "$SAMBA_TREE/ctdb/config/notify.sh" ]; then
		cp "$SAMBA_TREE/ctdb/config/notify.sh" "$d/etc/notify.sh"
		chmod +x "$d/etc/notify.sh"
	fi
	# the scripts a Samba install enables by default
	for i in 00.ctdb 01.reclock 05.system 10.interface 95.database; do
		[ -f "$EVENTS_SRC/$i.script" ] || continue
		ln -s "$EVENTS_SRC/$i.script" "$d/etc/events/legacy/$i.script"
	done
	# samba-ca's own (ctdb_handles/events): marks this node's copy of the
	# persistent-handle store current once every node has been active
	ln -s "$TOP/ctdb_handles/events/52.samba-ca.script" \
		"$d/etc/events/legacy/52.samba-ca.script"
	echo "CTDB_SAMBA_CA_STORES=$d/samba/state/persistent.tdb" \
		>"$d/etc/events/legacy/52.samba-ca.options"
	echo "$TEST_USER:x:$TEST_UID:$TEST_UID:samba-ca test user:/nonexistent:/usr/sbin/nologin" >"$d/passwd.add"
	echo "$TEST_USER:x:$TEST_UID:" >"$d/group.add"
	cat >"$d/smb.conf" <<EOF
# node $n of the samba-ca test cluster (generated by $PROG)
[global]
	netbios name = SAMBA-CA-CL
	workgroup = SAMBA-CA
	server role = standalone server
	clustering = yes
	ctdbd socket = $d/run/ctdbd.socket
	passdb backend = tdbsam
	private dir = $d/samba/private
	lock directory = $d/samba/lock
	state directory = $d/samba/state
	cache directory = $d/samba/cache
	pid directory = $d/samba/pid
	ncalrpc dir = $d/samba/ncalrpc
	log file = $d/log/smbd.log
	max log size = 0
	log level = 1
	disable netbios = yes
	smb ports = 445
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes
	usershare path =
	server min protocol = SMB2_02
	# SMB2_CAP_PERSISTENT_HANDLES in NEGOTIATE (patch 0002): without it
	# vfs_persistent leaves [$CA_SHARE] a plain share (no CA bit, durable
	# handles only); [$SHARE] has no module and stays stock
	smb3 global cap:PERSISTENT HANDLES = yes
${SAMBA_CA_NODE_GLOBAL:+$(printf '%s\n' "$SAMBA_CA_NODE_GLOBAL" | sed 's/^/\t/')}

[$SHARE]
	path = $SHARED/$SHARE
	read only = no
	# what durable (and later persistent) handles need, as in Samba's own
	# selftest shares; streams kept in xattrs
	vfs objects = streams_xattr
	kernel oplocks = no
	kernel share modes = no
	posix locking = no

[$CA_SHARE]
	path = $SHARED/$CA_SHARE
	read only = no
	# [$SHARE] plus persistent handles (vfs_persistent); its own directory,
	# so that [$SHARE] stays the stock control
	vfs objects = persistent streams_xattr
	kernel oplocks = no
	kernel share modes = no
	posix locking = no
EOF
}

write_client_config() {
	mkdir -p "$CLIENT_DIR/lock" "$CLIENT_DIR/state" "$CLIENT_DIR/cache" \
		"$CLIENT_DIR/private" "$CLIENT_DIR/pid" "$CLIENT_DIR/ncalrpc"
	cat >"$CLIENT_DIR/smb.conf" <<EOF
# client side of the samba-ca test cluster (generated by $PROG)
[global]
	workgroup = SAMBA-CA
	private dir = $CLIENT_DIR/private
	lock directory = $CLIENT_DIR/lock
	state directory = $CLIENT_DIR/state
	cache directory = $CLIENT_DIR/cache
	pid directory = $CLIENT_DIR/pid
	ncalrpc dir = $CLIENT_DIR/ncalrpc
	log file = $CLIENT_DIR/client.log
	client min protocol = SMB2_02
EOF
}

ns_add() {
	local ns=$1
	record_ns "$ns"
	ip netns add "$ns"
	# IPv6 off before links appear: no link-local addresses, only
	# loopback and 198.18.0.0/15 inside our namespaces
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv6.conf.all.disable_ipv6=1
	ip -n "$ns" link set lo up
}

# a veth from the bridge (name $2 there) to eth0 in namespace $1
wire() {
	local ns=$1 port=$2
	ip -n "$BR_NS" link add "$port" type veth peer name eth0 netns "$ns"
	ip -n "$BR_NS" link set "$port" alias "$OWNER_MARK"
	ip -n "$BR_NS" link set "$port" master br0 up
	ip -n "$ns" link set eth0 up
}

make_mount_ns() {
	local n=$1 holder i
	ip netns exec "$(node_ns "$n")" unshare --mount --propagation private \
		sleep 300 </dev/null >/dev/null 2>&1 &
	holder=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(cat "/proc/$holder/comm" 2>/dev/null)" = sleep ] && break
		sleep 0.05
	done
	[ "$(cat "/proc/$holder/comm" 2>/dev/null)" = sleep ] || die "could not create node $n's mount namespace"
	touch "$MNTNS/node$n"
	mount --bind "/proc/$holder/ns/mnt" "$MNTNS/node$n"
	kill "$holder" 2>/dev/null || true
	wait "$holder" 2>/dev/null || true
	nsenter --mount="$MNTNS/node$n" --net="/run/netns/$(node_ns "$n")" -- \
		"$SELF" _setup-mounts "$n" ||
		die "could not set up node $n's mount namespace"
	# check it: CTDB's etc dir inside the node is this node's
	[ "$(nsenter --mount="$MNTNS/node$n" cat "$CTDB_ETC/nodes" 2>/dev/null | head -1)" = "$(node_ip 1)" ] ||
		die "node $n's mount namespace does not show its own $CTDB_ETC"
	nsenter --mount="$MNTNS/node$n" getent passwd "$TEST_USER" >/dev/null ||
		die "node $n's mount namespace has no user $TEST_USER"
}

start_ctdbd() {
	local n=$1 d
	d=$(node_dir "$n")
	rm -f "$d/run/ctdbd.pid" "$d/run/ctdbd.socket"
	in_node "$n" "$SAMBA_BIN/ctdbd" </dev/null >>"$d/log/ctdbd.out" 2>&1 ||
		die "node $n: ctdbd failed to start (see $d/log/ctdbd.log and $d/log/ctdbd.out)"
}

start_smbd() {
	local n=$1 d i
	d=$(node_dir "$n")
	rm -f "$d/samba/pid/smbd.pid"
	in_node "$n" "$SAMBA_BIN/smbd" -D -s "$d/smb.conf" </dev/null >>"$d/log/smbd.out" 2>&1 ||
		die "node $n: smbd failed to start (see $d/log/smbd.log)"
	for ((i = 0; i < 100; i++)); do
		if ip netns exec "$(node_ns "$n")" ss -Hltn 'sport = :445' 2>/dev/null | grep -q LISTEN; then
			return 0
		fi
		pid_alive "$(smbd_pid "$n")" || [ "$i" -lt 20 ] ||
			die "node $n: smbd exited (see $d/log/smbd.log)"
		sleep 0.1
	done
	die "node $n: smbd does not listen on port 445 after 10 s (see $d/log/smbd.log)"
}

# node N's flags as its own ctdbd sees them: OK, DISABLED, ... or "down"
node_state() {
	local n=$1 out
	pid_alive "$(ctdbd_pid "$n")" || {
		echo down
		return
	}
	out=$(in_node "$n" timeout 5 ctdb -X nodestatus 2>/dev/null) || true
	# |Node|IP|Disconnected|Unknown|Banned|Disabled|Unhealthy|Stopped|Inactive|PartiallyOnline|ThisNode|
	echo "$out" | awk -F'|' 'NR==2 {
		s="";
		if ($4==1) s=s "DISCONNECTED,"; if ($5==1) s=s "UNKNOWN,";
		if ($6==1) s=s "BANNED,"; if ($7==1) s=s "DISABLED,";
		if ($8==1) s=s "UNHEALTHY,"; if ($9==1) s=s "STOPPED,";
		if (s=="") s="OK,"; print substr(s, 1, length(s)-1); found=1 }
		END { if (!found) print "unreachable" }'
}

# public address -> pnn as node N's ctdbd sees them ("IP PNN" lines)
ctdb_ips() {
	local n=$1
	{ in_node "$n" timeout 5 ctdb -X ip 2>/dev/null || true; } |
		awk -F'|' 'NR>1 && $2!="" {print $2, $3}'
}

# a node whose ctdbd answers and that is connected, for cluster-wide views
view_node() {
	local n nodes
	nodes=$(nodes_count)
	for ((n = 1; n <= nodes; n++)); do
		grep -qx "$n" "$STATE/cut" 2>/dev/null && continue
		pid_alive "$(ctdbd_pid "$n")" || continue
		in_node "$n" timeout 5 ctdb pnn >/dev/null 2>&1 || continue
		echo "$n"
		return 0
	done
	return 1
}

# wait until nodes (list in $2...) are OK and every public address is hosted
wait_healthy() {
	local timeout=$1
	shift
	local deadline=$((SECONDS + timeout)) n st bad ips v line
	while :; do
		bad=""
		for n in "$@"; do
			st=$(node_state "$n")
			if [ "$st" = down ]; then
				die "node $n: ctdbd is not running (see $(node_dir "$n")/log/ctdbd.log)"
			fi
			[ "$st" = OK ] || bad="$bad node $n: $st;"
		done
		if [ -z "$bad" ]; then
			v=$(view_node) || v=""
			ips=""
			[ -z "$v" ] || ips=$(ctdb_ips "$v")
			for line in "${PUBLIC_IPS[@]}"; do
				if ! echo "$ips" | awk -v ip="$line" '$1==ip && $2>=0 {f=1} END {exit !f}'; then
					bad="$bad $line not hosted;"
				fi
			done
		fi
		[ -n "$bad" ] || return 0
		if ((SECONDS >= deadline)); then
			die "cluster not healthy after $timeout s:$bad (logs: $RUN/node*/log/)"
		fi
		sleep 0.5
	done
}

add_test_user() {
	local d i
	d=$(node_dir 1)
	# tdbsam is a clustered (CTDB persistent) database with clustering = yes:
	# one smbpasswd on node 1 serves every node.  Its transaction fails
	# while a recovery that follows the first takeover run is going on, so
	# try again for a while.
	for ((i = 1; i <= 20; i++)); do
		echo "--- attempt $i" >>"$d/log/smbpasswd.out"
		if printf '%s\n%s\n' "$TEST_PASS" "$TEST_PASS" |
			in_node 1 smbpasswd -D 2 -c "$d/smb.conf" -s -a "$TEST_USER" >>"$d/log/smbpasswd.out" 2>&1; then
			return 0
		fi
		sleep 1
	done
	die "could not add the test user (see $d/log/smbpasswd.out)"
}

up_failed() {
	local rc=$?
	trap - EXIT
	if [ "$rc" != 0 ] && [ -n "${SAMBA_CA_KEEP_ON_FAILURE:-}" ]; then
		warn "up failed; SAMBA_CA_KEEP_ON_FAILURE is set: left as it is, run: $PROG down"
	elif [ "$rc" != 0 ]; then
		warn "up failed; removing what it set up (logs kept in $RUN)"
		do_down || true
	fi
	exit "$rc"
}

cmd_up() {
	local nodes=3 n ns t0
	while [ $# -gt 0 ]; do
		case $1 in
		--nodes)
			nodes=${2:-}
			shift 2 || die "--nodes needs a number"
			;;
		--nodes=*)
			nodes=${1#--nodes=}
			shift
			;;
		*) die "up: unknown argument '$1'" ;;
		esac
	done
	if ! [[ $nodes =~ ^[0-9]+$ ]] || ((nodes < 1 || nodes > 20)); then
		die "--nodes must be 1..20, got '$nodes'"
	fi
	load_build fresh
	for t in ip nsenter unshare findmnt ss tac; do
		command -v "$t" >/dev/null || die "$t not installed"
	done
	t0=$SECONDS

	# leftovers of an earlier run (crash, or no down)
	if [ -f "$STATE/netns" ] || [ -d "$MNTNS" ]; then
		say "cleaning up an earlier run in $RUN"
		do_down
	fi
	# names taken by something that is not ours
	for ns in "$BR_NS" "$CL_NS" $(for ((n = 1; n <= nodes; n++)); do node_ns "$n"; done); do
		if ns_exists "$ns"; then
			die "network namespace $ns exists and is not recorded in $RUN/state: not ours, not touching it (set SAMBA_CA_NS_PREFIX, or remove it: ip netns del $ns)"
		fi
	done

	case $RUN in /*) ;; *) die "SAMBA_CA_RUN must be an absolute path" ;; esac
	rm -rf "${RUN:?}/node"* "$SHARED" "$CLIENT_DIR" "$STATE"
	mkdir -p "$STATE" "$SHARED/$SHARE" "$SHARED/$CA_SHARE" "$MNTNS"
	chown "$TEST_UID:$TEST_UID" "$SHARED/$SHARE" "$SHARED/$CA_SHARE"
	echo "$nodes" >"$STATE/nodes"
	cp "$BUILD_ENV" "$STATE/samba.env"
	: >"$STATE/netns"
	trap up_failed EXIT

	# mount namespace files live on a private mount of their own
	mount --bind "$MNTNS" "$MNTNS"
	mount --make-private "$MNTNS"

	# network: bridge, nodes, client
	ns_add "$BR_NS"
	ip -n "$BR_NS" link add br0 type bridge
	ip -n "$BR_NS" link set br0 alias "$OWNER_MARK"
	ip -n "$BR_NS" link set br0 up
	for ((n = 1; n <= nodes; n++)); do
		ns=$(node_ns "$n")
		ns_add "$ns"
		wire "$ns" "n$n"
		ip -n "$ns" addr add "$(node_ip "$n")/24" dev eth0
	done
	ns_add "$CL_NS"
	wire "$CL_NS" cl
	for t in "${CLIENT_ADDRS[@]}"; do
		ip -n "$CL_NS" addr add "$t" dev eth0
	done
	write_client_config

	for ((n = 1; n <= nodes; n++)); do
		write_node_config "$n" "$nodes"
		make_mount_ns "$n"
	done
	for ((n = 1; n <= nodes; n++)); do
		start_ctdbd "$n"
	done
	say "ctdbd started on $nodes nodes; waiting (at most $UP_TIMEOUT s) for all nodes OK and ${#PUBLIC_IPS[@]} public addresses hosted"
	wait_healthy "$UP_TIMEOUT" $(seq 1 "$nodes")
	add_test_user
	for ((n = 1; n <= nodes; n++)); do
		start_smbd "$n"
	done
	for t in "${PUBLIC_IPS[@]}"; do
		in_client timeout 5 bash -c "exec 3<>/dev/tcp/$t/445" 2>/dev/null ||
			die "the client cannot reach $t:445"
	done
	date +%s >"$STATE/up"
	trap - EXIT
	say "up: $nodes nodes in $((SECONDS - t0)) s; public addresses ${PUBLIC_IPS[*]}; share //${PUBLIC_IPS[0]}/$SHARE user $TEST_USER; run dir $RUN"
}

# --- controls ----------------------------------------------------------------

cmd_env() {
	cat <<EOF
SAMBA_CA_RUN='$RUN'
SAMBA_CA_NODES='$(nodes_count)'
SAMBA_CA_PUBLIC_IPS='${PUBLIC_IPS[*]}'
SAMBA_CA_SHARE='$SHARE'
SAMBA_CA_SHARE_DIR='$SHARED/$SHARE'
SAMBA_CA_CA_SHARE='$CA_SHARE'
SAMBA_CA_CA_SHARE_DIR='$SHARED/$CA_SHARE'
SAMBA_CA_USER='$TEST_USER'
SAMBA_CA_PASSWORD='$TEST_PASS'
SAMBA_CA_CLIENT_CONF='$CLIENT_DIR/smb.conf'
SAMBA_CA_CLIENT_NS='$CL_NS'
SAMBA_CA_BUILD_ENV='$STATE/samba.env'
EOF
}

cmd_status() {
	[ -f "$STATE/nodes" ] || {
		say "no cluster is up (run dir $RUN)"
		return 3
	}
	load_build recorded
	local n nodes v link
	nodes=$(nodes_count)
	for ((n = 1; n <= nodes; n++)); do
		link=$(ip -n "$BR_NS" -br link show "n$n" 2>/dev/null | awk '{print $2}')
		printf 'node %d  %-14s ctdbd %-8s smbd %-8s link %-5s %s\n' "$n" "$(node_ip "$n")" \
			"$(pid_alive "$(ctdbd_pid "$n")" && ctdbd_pid "$n" || echo -)" \
			"$(pid_alive "$(smbd_pid "$n")" && smbd_pid "$n" || echo -)" \
			"${link:-?}" "$(node_state "$n")"
	done
	if v=$(view_node); then
		echo "--- ctdb status (from node $v)"
		in_node "$v" timeout 10 ctdb status || true
		echo "--- ctdb ip (from node $v)"
		in_node "$v" timeout 10 ctdb ip || true
	else
		echo "--- no node's ctdbd answers"
	fi
}

cmd_exec() {
	[ $# -ge 2 ] || die "usage: $PROG exec NODE CMD..."
	check_node_arg "$1"
	load_build recorded
	local n=$1
	shift
	in_node "$n" "$@"
}

cmd_client() {
	[ $# -ge 1 ] || die "usage: $PROG client CMD..."
	{ ns_exists "$CL_NS" && ns_recorded "$CL_NS"; } || die "no cluster is up (client namespace $CL_NS missing)"
	load_build recorded
	in_client "$@"
}

cmd_logs() {
	check_node_arg "${1:-}"
	local d f
	d=$(node_dir "$1")
	if [ "${2:-}" = -f ]; then
		exec tail -F "$d/log/ctdbd.log" "$d/log/smbd.log"
	fi
	for f in "$d"/log/*; do
		[ -f "$f" ] || continue
		echo "=== $f"
		tail -n "${LOG_LINES:-100}" "$f"
	done
}

cmd_ctdb_self() {
	local what=$1 n=${2:-}
	check_node_arg "$n"
	load_build recorded
	in_node "$n" timeout 30 ctdb "$what" || die "node $n: ctdb $what failed"
	say "node $n: ctdb $what done ($(node_state "$n"))"
}

drop_public_ips() {
	local n=$1 ip
	for ip in "${PUBLIC_IPS[@]}"; do
		ip -n "$(node_ns "$n")" addr del "$ip/$PUBLIC_MASK" dev eth0 2>/dev/null || true
	done
}

cmd_kill() {
	local n=${1:-} keep=${2:-}
	check_node_arg "$n"
	load_build recorded
	kill_node "$n"
	[ "$keep" = --keep-ips ] || drop_public_ips "$n"
	say "node $n killed${keep:+ (public addresses kept)}"
}

kill_node() {
	local n=$1
	# SIGKILL, no shutdown: every process in the node (smbd and its
	# children, ctdbd, ctdb-eventd, helpers)
	ns_pids_signal "$(node_ns "$n")" KILL || return 0
	for _ in $(seq 50); do
		[ -z "$(ip netns pids "$(node_ns "$n")")" ] && return 0
		sleep 0.1
	done
	warn "node $n: processes still alive after SIGKILL"
}

cmd_healthy() {
	local timeout=${1:-60} nodes
	[[ "$timeout" =~ ^[0-9]+$ ]] || die "usage: $PROG healthy [SECONDS]"
	nodes=$(nodes_count)
	[ "$nodes" -gt 0 ] || die "no cluster is up"
	load_build recorded
	wait_healthy "$timeout" $(seq 1 "$nodes")
}

cmd_restart() {
	local n=${1:-} t0=$SECONDS
	check_node_arg "$n"
	load_build recorded
	kill_node "$n"
	drop_public_ips "$n"
	if grep -qx "$n" "$STATE/cut" 2>/dev/null; then
		warn "node $n is cut; it will not become OK until: $PROG heal $n"
	fi
	start_ctdbd "$n"
	wait_healthy "$UP_TIMEOUT" "$n"
	start_smbd "$n"
	say "node $n restarted in $((SECONDS - t0)) s"
}

cmd_cut() {
	local n=${1:-} how=$2
	check_node_arg "$n"
	if [ "$how" = down ]; then
		ip -n "$BR_NS" link set "n$n" down
		# A partition cuts the cluster file system too, and with it the
		# cluster lock: hide the shared directory from the node (an empty
		# read-only tmpfs over it, in its mount namespace only), so that
		# ctdb_mutex_fcntl_helper's recheck finds its lock file gone and
		# cannot create it again; else the cut node keeps the lock and the
		# others can never recover without it.
		load_build recorded
		in_node "$n" mount -t tmpfs -o ro,size=4k samba-ca-cut "$SHARED" ||
			warn "node $n: the shared directory could not be hidden"
		grep -qx "$n" "$STATE/cut" 2>/dev/null || echo "$n" >>"$STATE/cut"
		say "node $n cut off the bridge and the shared directory"
	else
		load_build recorded
		while in_node "$n" umount "$SHARED" 2>/dev/null; do :; done
		ip -n "$BR_NS" link set "n$n" up
		if [ -f "$STATE/cut" ]; then
			grep -vx "$n" "$STATE/cut" >"$STATE/cut.new" || true
			mv "$STATE/cut.new" "$STATE/cut"
		fi
		say "node $n back on the bridge"
	fi
}

cmd_whohas() {
	local ip=${1:-} v pnn
	[ -n "$ip" ] || die "usage: $PROG whohas IP"
	[ -f "$STATE/nodes" ] || die "no cluster is up"
	load_build recorded
	v=$(view_node) || die "no node's ctdbd answers"
	pnn=$(ctdb_ips "$v" | awk -v ip="$ip" '$1==ip {print $2}')
	[ -n "$pnn" ] || die "$ip is not a public address of the cluster"
	if [ "$pnn" -lt 0 ]; then
		echo none
		return 1
	fi
	echo $((pnn + 1))
}

main() {
	local cmd=${1:-}
	[ $# -gt 0 ] && shift
	case $cmd in
	"" | -h | --help | help | env) ;;
	*) need_root ;;
	esac
	case $cmd in
	up) cmd_up "$@" ;;
	down) cmd_down ;;
	status) cmd_status ;;
	env) cmd_env ;;
	exec) cmd_exec "$@" ;;
	client) cmd_client "$@" ;;
	logs) cmd_logs "$@" ;;
	disable | enable | stop | continue) cmd_ctdb_self "$cmd" "$@" ;;
	kill) cmd_kill "$@" ;;
	restart) cmd_restart "$@" ;;
	cut) cmd_cut "${1:-}" down ;;
	heal) cmd_cut "${1:-}" up ;;
	whohas) cmd_whohas "$@" ;;
	healthy) cmd_healthy "$@" ;;
	_setup-mounts) setup_mounts "$@" ;;
	-h | --help | help) usage ;;
	"") usage >&2; exit 2 ;;
	*)
		usage >&2
		die "unknown command '$cmd'"
		;;
	esac
}

main "$@"
