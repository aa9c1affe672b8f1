#!/bin/bash
# samba-ca selftest: the kernel client (cifs.ko in the client VM) holds a
# byte-range lock on a file of the persistent share and keeps writing while
# its connection is lost; in the window a second client (on the host,
# through the server's second address 127.0.0.41) must be refused the lock
# and a conflicting open; afterwards the VM's writes go on, the reconnect is
# a DH2C the server accepted, and the file holds exactly what the VM wrote.
#
#   vm_persistent_lockwindow.sh [SCENARIO]   (default: cut)
#
#   cut      the VM's link is cut (iptables DROP in the test's namespace)
#            for less than the handle timeout (30 s): smbd notices through
#            TCP keepalive (~3 s) and the open is disconnected
#   kill     the smbd serving the VM is killed with kill -9 (while the VM's
#            link is cut, so that the window is the host's to test)
#   restart  smbd is stopped (all of it) and started again, link cut
#   expiry   a cut longer than the timeout ([short]: persistent:timeout = 5):
#            until the timeout the disconnected lock and the store record
#            are there; after it both are gone and the second client gets
#            the lock
#
# Each scenario runs twice, one VM boot each: against the build with
# vfs_persistent (every check must PASS) and against the stock
# configuration (the same build, the share only announces CA, no global
# cap; cifs.ko gets a durable handle there): the control, which must fail
# at the guarantee, i.e. in the window the second client is granted the
# lock or the conflicting open (for expiry: the lock before the timeout).
# A stock run that fails earlier (the VM did not start or hold its lock,
# the server kept the connection, no smbd to kill, the second client
# errored) or passes is a CONTROL ERROR and fails the test
# (persistent_common.sh, ctl_*).  The
# selftest/tests/vm_persistent_lockwindow_*.sh wrappers run one scenario
# each.
#
# Before the window the host breaks the VM's write-caching lease (an open
# for reading by the second client): cifs.ko keeps byte-range locks local
# under a Write lease and sends them to the server on the break; the test
# then checks with smbstatus -B that the server holds the lock.
#
# Exit 0 pass, 1 fail.  Needs root and the Samba build.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
vm=$top/selftest/vm/vm.sh
scenario=${1:-cut}
case $scenario in
cut | kill | restart | expiry) ;;
*) echo "usage: $0 [cut|kill|restart|expiry]" >&2; exit 2 ;;
esac
name=vm_persistent_lockwindow
[ "$scenario" = cut ] || name=${name}_$scenario
nwrites=40

tmp='' user='' pass='' ns=''
# shellcheck source-path=SCRIPTDIR source=../vm/smbd-lib.sh disable=SC1091
. "$top/selftest/vm/smbd-lib.sh"
# shellcheck source-path=SCRIPTDIR source=vm_persistent_lib.sh disable=SC1091
. "$here/vm_persistent_lib.sh"
# the stock control's classification (ctl_*); this test's check() below
# replaces the driver tests' one defined there
# shellcheck source-path=SCRIPTDIR source=persistent_common.sh disable=SC1091
. "$here/persistent_common.sh"
t0=$(date +%s.%N)
smbd_lib_init "vpl-$scenario"
smbd_lib_name=$name

pass_n=0
fail_n=0
summary=()
check() { # MODE WHAT OK
	local line
	if [ "$3" = 1 ]; then line="PASS  [$1] $scenario: $2"; else line="FAIL  [$1] $scenario: $2"; fi
	echo "$line"
	summary+=("$line")
	if [ "$1" = persistent ]; then
		if [ "$3" = 1 ]; then pass_n=$((pass_n + 1)); else fail_n=$((fail_n + 1)); fi
	fi
}
yes_if() { if "$@"; then echo 1; else echo 0; fi; }
# stock_step MODE WHAT OK: on stock, a step the control needs to reach
# the window (ctl_step)
stock_step() { if [ "$1" = stock ]; then ctl_step "$2" "$3"; fi; }

# vm_smbd_gone: the smbd process that served the VM has exited (the server
# noticed the lost connection, or it was killed)
vm_smbd_gone() { [ -z "$(vp_vm_smbd_pids)" ]; }

# run_one MODE: one VM boot against MODE; sets window_ok (1: the second
# client was refused both the lock and the conflicting open) and the checks.
run_one() {
	local mode=$1 share=share file=w.bin mopts="vers=3.1.1,echo_interval=1"
	[ "$scenario" = expiry ] && share=short
	[ "$mode" = persistent ] && mopts="$mopts,persistenthandles"
	smbd_stop "$tmp"
	vp_unblock
	rm -f "$tmp/state/persistent.tdb"
	vp_config "$mode" 30
	smbd_start "$tmp" "$vp_addr2" || fail "smbd did not start"
	echo "== [$mode] $scenario: smbd $("$SAMBA_BIN/smbd" --version), //198.18.200.2/$share -o $mopts"
	[ "$mode" = stock ] && ctl_begin "[stock] $scenario"

	cat >"$tmp/guest.sh" <<-EOF
		user='$user'
		pass='$pass'
		share='$share'
		file='$file'
		mopts='$mopts'
		nwrites=$nwrites
	EOF
	cat >>"$tmp/guest.sh" <<-'GUEST'
		mkdir -p /mnt/s
		mount -t cifs "//198.18.200.2/$share" /mnt/s -o "username=$user,password=$pass,$mopts" || exit 10
		lockhold -n "$nwrites" -i 250 -b 65536 -l 1048576 -r 60 "/mnt/s/$file"
		rc=$?
		echo "GUEST lockhold exit $rc"
		grep -i reconnect /proc/fs/cifs/Stats | sed 's/^/GUEST stats: /'
		dmesg | grep -i cifs | tail -n 6 | sed 's/^/GUEST dmesg: /'
		umount /mnt/s
		exit $rc
	GUEST
	local stream=$tmp/console-$mode.log
	: >"$stream"
	"$vm" run "$tmp/guest.sh" --net-ns "$ns" --timeout 150 >"$stream" 2>&1 &
	local vm_pid=$! w0
	w0=$(date +%s.%N)

	local brl_key=no-lock started=0 held=0 records=0 noticed=0 lock2='' open2='' during=''
	local stored0 disc0 recon0
	if vp_wait 60 grep -aq "wrote 4/$nwrites" "$stream"; then started=1; fi
	check "$mode" "the VM holds its lock and writes (lockhold under way)" "$started"
	stock_step "$mode" "the VM holds its lock and writes" "$started"
	if [ "$started" = 1 ]; then
		# break the VM's Write lease so that the server holds the lock
		vp_second break-open "$file" "$share" || echo "  (the break-open failed: see $tmp/second-client.log)"
		if vp_wait 5 vp_brl_has "$file"; then held=1; fi
		brl_key=$(vp_smbstatus -B | sed -n '/Byte range locks/,$p' | grep -- "$file" |
			awk '{print $2" "$3" +"$4" +"$5}' | head -n1)
		brl_key=${brl_key:-no-lock}
		vp_smbstatus -B | sed -n '/Byte range locks/,$p' | sed 's/^/  smbstatus -B | /'
		records=$(vp_store_records)
		check "$mode" "the server holds the VM's byte-range lock (smbstatus -B)" "$held"
		stock_step "$mode" "the server holds the VM's byte-range lock (smbstatus -B)" "$held"
		check "$mode" "the open has a record in the store ($records)" "$(yes_if test "$records" -ge 1)"
		stored0=$(vp_log_count 'persistent open [0-9]+ stored')
		disc0=$(vp_log_count 'persistent open [0-9]+ disconnected')
		recon0=$(vp_log_count 'persistent open [0-9]+ reconnected')

		# --- the window
		local tw0 tw1
		tw0=$(date +%s.%N)
		vp_block
		case $scenario in
		kill)
			local pids
			pids=$(vp_vm_smbd_pids | tr '\n' ' ')
			echo "  kill -9 smbd $pids (serving the VM)"
			# shellcheck disable=SC2086
			[ -z "$pids" ] || kill -KILL $pids
			stock_step "$mode" "kill -9 of the smbd serving the VM (${pids:-none found})" \
				"$(yes_if test -n "$pids")"
			;;
		restart)
			echo "  smbd: full stop and start"
			smbd_stop "$tmp"
			# probed at the second address: the VM's is blocked
			smbd_start "$tmp" "$vp_addr2" || fail "smbd did not start again"
			;;
		esac
		if vp_wait 20 vm_smbd_gone; then noticed=1; fi
		echo "  the server lost the VM's connection after $(secs "$tw0") s"
		check "$mode" "the server lost the VM's connection in the window" "$noticed"
		stock_step "$mode" "the server lost the VM's connection in the window" "$noticed"
		vp_smbstatus -B | sed -n '/Byte range locks/,$p' | sed 's/^/  window smbstatus -B | /'
		if [ "$scenario" = expiry ]; then
			local lk rc_
			lk=$(yes_if vp_brl_has "$file")
			rc_=$(vp_store_records)
			check "$mode" "before the timeout: the lock is still on the server (disconnected)" "$lk"
			[ "$mode" = persistent ] &&
				check "$mode" "before the timeout: the record is still in the store ($rc_)" "$(yes_if test "$rc_" -ge 1)"
			lock2=$(vp_second lock "$file" "$share")
			echo "  second client, lock before the timeout: $lock2"
			local l_ok=0
			case $lock2 in refused*) l_ok=1 ;; esac
			check "$mode" "before the timeout the second client is refused the lock ($lock2)" "$l_ok"
			[ "$mode" = stock ] && ctl_second "second client: lock before the timeout" "$lock2"
			window_ok=0
			[ "$lk$l_ok" = 11 ] && window_ok=1
			# the timeout is 5 s after the disconnect: wait for both to go
			lock_gone() { ! vp_brl_has "$file"; }
			rec_gone() { [ "$(vp_store_records)" = 0 ]; }
			vp_wait 20 lock_gone && echo "  the lock is gone $(secs "$tw0") s into the cut"
			vp_wait 10 rec_gone && echo "  the record is gone $(secs "$tw0") s into the cut"
			check "$mode" "after the timeout: the lock is gone (smbstatus -B)" "$(yes_if eval '! vp_brl_has "$file"')"
			check "$mode" "after the timeout: the record is gone from the store ($(vp_store_records))" \
				"$(yes_if test "$(vp_store_records)" = 0)"
			lock2=$(vp_second lock "$file" "$share")
			echo "  second client, lock after the timeout: $lock2"
			check "$mode" "after the timeout the second client gets the lock ($lock2)" \
				"$(yes_if test "$lock2" = granted)"
		else
			lock2=$(vp_second lock "$file" "$share")
			open2=$(vp_second open "$file" "$share")
			# by dev:inode and range: smbstatus may list a disconnected
			# lock without its path
			during=$(yes_if vp_brl_has "$brl_key")
			vp_smbstatus -B | sed -n '/Byte range locks/,$p' | sed 's/^/  after the attempts smbstatus -B | /'
			echo "  second client in the window: lock $lock2; conflicting open $open2"
			local l_ok=0 o_ok=0
			case $lock2 in refused*) l_ok=1 ;; esac
			case $open2 in refused*) o_ok=1 ;; esac
			check "$mode" "in the window the second client is refused the lock ($lock2)" "$l_ok"
			check "$mode" "in the window the second client is refused a conflicting open ($open2)" "$o_ok"
			if [ "$mode" = stock ]; then
				ctl_second "second client: lock in the window" "$lock2"
				ctl_second "second client: conflicting open in the window" "$open2"
			fi
			check "$mode" "the VM's lock is still on the server after those attempts" "$during"
			window_ok=0
			[ "$l_ok$o_ok$during" = 111 ] && window_ok=1
		fi
		sleep 0.5
		vp_unblock
		tw1=$(date +%s.%N)
		echo "  window (cut) $(secs "$tw0" "$tw1") s"
	else
		window_ok=0
	fi

	local vm_rc=0
	wait "$vm_pid" || vm_rc=$?
	sed -n '/SAMBA_CA_VM_READY/,$p' "$stream" | grep -aE 'lockhold|GUEST|vm.sh:' |
		grep -av 'wrote [0-9]*/' | sed 's/^/  | /'
	if [ "$scenario" != expiry ] && [ "$started" = 1 ]; then
		check "$mode" "the VM's writes go on after the window (all $nwrites written)" \
			"$(yes_if grep -aq "wrote $nwrites/$nwrites" "$stream")"
		check "$mode" "lockhold verifies the file holds exactly what it wrote" \
			"$(yes_if grep -aq "OK: $nwrites writes" "$stream")"
		local recon1
		recon1=$(vp_log_count 'persistent open [0-9]+ reconnected')
		check "$mode" "the VM came back by a DH2C reconnect the server accepted (module log: $((recon1 - recon0)) reconnected)" \
			"$(yes_if test "$recon1" -gt "$recon0")"
		echo "  module log in this run: $(($(vp_log_count 'persistent open [0-9]+ stored') - stored0)) more stored, $(($(vp_log_count 'persistent open [0-9]+ disconnected') - disc0)) disconnected, $((recon1 - recon0)) reconnected"
	fi
	echo "  [$mode] VM run $(secs "$w0") s, exit $vm_rc"
	cp "$stream" "$tmp/console.log" 2>/dev/null || true
}

run_one persistent
persistent_window=$window_ok
run_one stock
stock_window=$window_ok

control=$(ctl_verdict) && control_ok=1 || control_ok=0
echo "$control"
if [ "$control_ok" = 1 ]; then
	line="PASS  [stock] $scenario: the control fails at the guarantee (as it must)"
	pass_n=$((pass_n + 1))
else
	line="FAIL  [stock] $scenario: ${control#CONTROL ERROR }"
	fail_n=$((fail_n + 1))
fi
summary+=("$line")
echo
echo "$name: summary (smbd $SAMBA_UPSTREAM; the [stock] lines are informational except the last)"
printf '  %s\n' "${summary[@]}"
echo "$name: window check with vfs_persistent: $([ "$persistent_window" = 1 ] && echo PASS || echo FAIL); on stock: $([ "$stock_window" = 1 ] && echo PASS || echo FAIL)"
echo "$name: stock $control"
echo "$name: $pass_n passed, $fail_n failed; $(secs "$t0") s in all"
[ "$fail_n" = 0 ]
