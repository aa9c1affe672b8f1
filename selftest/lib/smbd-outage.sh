#!/usr/bin/env bash
# The server outages smbtorture's smb2.persistent suite asks its harness
# for (torture:persistent_kill_cmd, torture:persistent_restart_cmd), on
# an smbd started by smbd.sh's smbd_start DIR ADDR.  smbtorture runs the
# command with the local TCP port of its connection appended:
#
#   smbd-outage.sh kill DIR ADDR PORT
#	kill -9 the smbd child serving the connection from client port PORT
#	to ADDR:445 (not the parent, not another client's), and return once
#	the parent has reaped it;
#   smbd-outage.sh restart DIR ADDR [PORT]
#	stop every smbd of DIR/smb.conf and start the server again
#	(smbd_stop, smbd_start): the volatile TDBs start empty.
#
# Exit 0 when done; anything else fails the subtest.  Needs SAMBA_BIN (and
# SAMBA_CA_TOP) in the environment, as the test scripts do.
set -uo pipefail
# shellcheck source=selftest/lib/smbd.sh
. "$(dirname "$0")/smbd.sh"

usage() {
	echo "usage: $0 kill DIR ADDR PORT | restart DIR ADDR [PORT]" >&2
	exit 2
}

# serving_pid ADDR PORT: the process that holds ADDR:445's end of the
# connection from PORT
serving_pid() {
	ss -Htnp state established \
		"( src $1 and sport = :445 and dport = :$2 )" |
		grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

kill_serving() {
	local dir=$1 addr=$2 port=$3 pid parent
	pid=$(serving_pid "$addr" "$port")
	if [ "$(echo "$pid" | wc -w)" -ne 1 ]; then
		echo "smbd-outage: not one process serves port $port:" \
			"'$pid'" >&2
		return 1
	fi
	case "$(ps -o comm= -p "$pid")" in
	smbd*) ;;
	*)
		echo "smbd-outage: $pid serving port $port is not an smbd" >&2
		return 1
		;;
	esac
	# a child of this server's smbd, not the parent nor another server's
	parent=$(cat "$dir/smbd.pid" 2>/dev/null)
	if [ -z "$parent" ] ||
		[ "$(ps -o ppid= -p "$pid" | tr -d ' ')" != "$parent" ]; then
		echo "smbd-outage: smbd $pid is not a child of the smbd" \
			"${parent:-?} of $dir" >&2
		return 1
	fi
	echo "smbd-outage: kill -9 of smbd $pid serving port $port" >&2
	kill -KILL "$pid" || return 1
	# kill -0 succeeds on a zombie too: wait until the parent reaped it
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "smbd-outage: smbd $pid still there 10 s after kill -9" >&2
	return 1
}

[ $# -ge 3 ] || usage
case "$1" in
kill)
	[ $# -eq 4 ] || usage
	kill_serving "$2" "$3" "$4"
	;;
restart)
	echo "smbd-outage: stopping every smbd of $2/smb.conf," \
		"starting again" >&2
	smbd_stop "$2" && smbd_start "$2" "$3"
	;;
*)
	usage
	;;
esac
