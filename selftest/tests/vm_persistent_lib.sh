# shellcheck shell=bash
# Shared by the vm_persistent_*.sh tests (sourced, not a test itself): the
# kernel client in the VM against the built smbd with vfs_persistent, and
# the same build without it (the "stock" configuration).
#
# Source after selftest/vm/smbd-lib.sh and smbd_lib_init.  Then:
#
#   vp_config MODE [TIMEOUT]  rewrite $tmp/smb.conf for MODE:
#       persistent  [global] smb3 global cap:PERSISTENT HANDLES = yes,
#                   [share] and [short] with vfs objects = persistent
#                   ([share]: persistent:timeout TIMEOUT, default 30 s;
#                   [short]: 5 s), store $tmp/state/persistent.tdb
#       stock       no module, no global cap; both shares only announce CA
#                   (smb3 share cap:CONTINUOUS AVAILABILITY = yes)
#     Both: log level 1 vfs:5, smbd listening on 127.0.0.1 (the VM's way
#     in: qemu's alias 198.18.200.2 is the namespace's 127.0.0.1) and on
#     127.0.0.41 (the second client's address), and server TCP keepalive /
#     user timeout of about 3 s so that smbd notices a cut link.
#   vp_store_records        number of open records in the store (tdbdump)
#   vp_log_count REGEX      lines of the smbd log matching REGEX
#   vp_block / vp_unblock   drop / pass the VM's traffic (127.0.0.1:445
#                           inside the namespace; 127.0.0.41 is untouched)
#   vp_vm_smbd_pids         smbd processes serving a connection from
#                           127.0.0.1 (the VM through qemu)
#   vp_second WHAT FILE [SHARE]   the second client (at 127.0.0.41): an
#                           exclusive lock (WHAT lock), a conflicting open
#                           (open), or a lease-breaking open (break-open);
#                           prints granted / refused (STATUS) / error (...)
#   vp_smbstatus OPT        the build's smbstatus OPT
#   vp_brl_has FILE         0 when smbstatus -B lists a byte-range lock on FILE

vp_addr2=127.0.0.41
vp_store=
vp_mode=

vp_config() {
	local mode=$1 timeout=${2:-30}
	vp_mode=$mode
	vp_store=$tmp/state/persistent.tdb
	mkdir -p "$tmp/share2"
	chown "$user" "$tmp/share2"
	# [global] additions go right after the [global] line; the share
	# sections are rewritten from scratch.
	sed -i '/^\[share\]/,$d' "$tmp/smb.conf"
	sed -i -e '/^\t# vp_config/,/^\t# vp_config end/d' "$tmp/smb.conf"
	sed -i -e 's/^[[:space:]]*log level = .*/\tlog level = 1 vfs:5/' "$tmp/smb.conf"
	# the second address, on the namespace's lo ("interfaces = lo" binds
	# every address of lo)
	[ -n "$ns" ] || fail "vp_config needs the test's network namespace"
	# (not "ip addr show | grep -q": under pipefail grep's early exit can
	# fail the pipeline with SIGPIPE, and the add then finds the address)
	case $(inns ip addr show dev lo) in
	*" $vp_addr2/"*) ;;
	*) inns ip addr add "$vp_addr2/8" dev lo ;;
	esac
	{
		echo '	# vp_config'
		echo '	socket options = TCP_NODELAY SO_KEEPALIVE TCP_KEEPIDLE=1 TCP_KEEPINTVL=1 TCP_KEEPCNT=2 TCP_USER_TIMEOUT=3000'
		[ "$mode" = persistent ] && echo '	smb3 global cap:PERSISTENT HANDLES = yes'
		echo '	# vp_config end'
	} >"$tmp/global.add"
	sed -i "/^\[global\]/r $tmp/global.add" "$tmp/smb.conf"
	local sect
	for sect in share short; do
		local path=$tmp/share t=$timeout
		[ "$sect" = short ] && path=$tmp/share2 t=5
		{
			echo
			echo "[$sect]"
			echo "	path = $path"
			echo "	read only = no"
			echo "	valid users = $user"
			if [ "$mode" = persistent ]; then
				echo "	vfs objects = persistent"
				echo "	persistent:timeout = $t"
				[ "$sect" = short ] && echo "	persistent:max timeout = $t"
				echo "	persistent:store = $vp_store"
			else
				echo "	smb3 share cap:CONTINUOUS AVAILABILITY = yes"
			fi
		} >>"$tmp/smb.conf"
	done
	# the second client's (Python libsmb's) configuration
	printf '[global]\n\tclient min protocol = SMB2_02\n\tclient max protocol = SMB3_11\n' >"$tmp/client.conf"
	if [ "$mode" = persistent ] && [ ! -e "$SAMBA_BIN/modules/vfs/persistent.so" ]; then
		fail "$SAMBA_BIN/modules/vfs/persistent.so missing: the build has no vfs_persistent"
	fi
}

vp_tdbdump() {
	local t
	for t in "$SAMBA_BIN/tdbdump" /usr/bin/tdbdump; do
		[ -x "$t" ] && { "$t" "$@"; return; }
	done
	fail "no tdbdump (apt-get install tdb-tools)"
}

vp_store_records() {
	if [ ! -f "$vp_store" ]; then
		echo 0
		return
	fi
	vp_tdbdump "$vp_store" 2>/dev/null | grep -c '^key([0-9]*) = "PH/open/' || true
}

vp_log_count() {
	grep -cE -- "$1" "$tmp/log.smbd" 2>/dev/null || true
}

vp_iptables_rules() {
	echo "-p tcp -d 127.0.0.1 --dport 445 -j DROP"
	echo "-p tcp -s 127.0.0.1 --sport 445 -j DROP"
}

vp_block() {
	local r
	while read -r r; do
		# shellcheck disable=SC2086
		inns iptables -I INPUT $r
	done < <(vp_iptables_rules)
}

vp_unblock() {
	local r
	while read -r r; do
		# shellcheck disable=SC2086
		while inns iptables -D INPUT $r 2>/dev/null; do :; done
	done < <(vp_iptables_rules)
}

vp_vm_smbd_pids() {
	inns ss -tnpH state established '( sport = :445 )' 2>/dev/null |
		awk '$3 ~ /^127\.0\.0\.1:445$/ && $4 ~ /^127\.0\.0\.1:/' |
		grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

vp_smbstatus() {
	inns "$SAMBA_BIN/smbstatus" -s "$tmp/smb.conf" "$@" 2>&1
}

vp_brl_has() { # FILE, or "DEV:INODE R/W +START +SIZE"
	case $1 in
	*' +'*) vp_smbstatus -B | sed -n '/Byte range locks/,$p' |
		awk '{print $2" "$3" +"$4" +"$5}' | grep -qxF -- "$1" ;;
	*) vp_smbstatus -B | sed -n '/Byte range locks/,$p' | grep -q -- "$1" ;;
	esac
}

# vp_second WHAT FILE [SHARE]: the one second client, at $vp_addr2, in
# the test's namespace; everything it says goes to $tmp/second-client.log.
#   lock        sca_smbclient opens FILE (sharing all, no lease) and tries
#               an exclusive lock on [0, 4096)
#   open        a conflicting open: read+write, no sharing (Python libsmb,
#               selftest/lib/second-client.py)
#   break-open  an open for reading, sharing everything, without a lease,
#               closed at once: a lease with Write caching on FILE is
#               broken to Read+Handle, and cifs.ko then sends the
#               byte-range locks it kept locally to the server
#               (cifs_push_locks); returns its success
# lock and open print granted, refused (STATUS) when the server refused
# the attempt (for lock: "lock STATUS" or "create STATUS", the open the
# lock needs, e.g. FILE_NOT_AVAILABLE: either way no lock), or
# error (...) when anything else went wrong.
vp_second() {
	local what=$1 file=$2 share=${3:-share} out rc=0 refused
	if [ "$what" = lock ]; then
		out=$(inns timeout 20 "$SAMBA_BIN/default/samba-ca/smbclient3/sca_smbclient" \
			"//$vp_addr2/$share" -U "$user%$pass" lock "$file" 2>&1) || rc=$?
	else
		out=$(inns timeout 40 env PYTHONPATH="$SAMBA_BIN/python" /usr/bin/python3 \
			"$smbd_lib_top/selftest/lib/second-client.py" "$vp_addr2" "$share" \
			"$user" "$pass" "$tmp/client.conf" "$what" "$file" 2>&1) || rc=$?
	fi
	echo "$out" >>"$tmp/second-client.log"
	case $what in
	break-open)
		if [ "$rc" = 0 ]; then
			return 0
		fi
		return 1
		;;
	lock)
		refused=$(echo "$out" | sed -n 's/^sca_smbclient: \(lock\|create\): NTSTATUS \(0x[0-9a-fA-F]*\).*/\1 \2/p' | head -n1)
		[ "$rc" = 0 ] && echo "$out" | grep -q '^lock: locked' && out=granted
		;;
	open)
		refused=$(echo "$out" | sed -n 's/^open refused //p' | head -n1)
		[ "$rc" = 0 ] && echo "$out" | grep -q '^open granted' && out=granted
		;;
	esac
	if [ "$out" = granted ]; then
		echo granted
	elif [ -n "$refused" ]; then
		echo "refused ($refused)"
	else
		echo "error ($(echo "$out" | tail -n1))"
	fi
}

# vp_wait SECONDS CMD...: run CMD every 0.2 s until it succeeds (0) or
# SECONDS have passed (1).
vp_wait() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
