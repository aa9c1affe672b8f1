#!/bin/bash
# samba-ca selftest: the kernel client's "persistenthandles" mount option
# on the persistent share.
#
# Against the build with vfs_persistent ([global] smb3 global cap:PERSISTENT
# HANDLES = yes, [share] vfs objects = persistent), in one VM boot: for
# vers=3.0, 3.0.2 and 3.1.1 the mount with persistenthandles is accepted
# (and /proc/mounts shows the option), and a file the VM holds open is a
# persistent open on the server side: a record in the module's store
# (tdbdump of persistent:store) and the module's "persistent open N stored"
# line in the log (log level 1 vfs:5); after the close the record is gone.
#
# Against the stock configuration (the same build, the share only announces
# CA with "smb3 share cap:CONTINUOUS AVAILABILITY = yes", no global cap), in
# a second boot: the same mounts must be refused with EOPNOTSUPP ("Operation
# not supported"), while the same mount without the option works.
#
# Exit 0 pass, 1 fail.  Needs root and the Samba build.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
vm=$top/selftest/vm/vm.sh
versions="3.0 3.0.2 3.1.1"

tmp='' user='' pass='' ns=''
# shellcheck source-path=SCRIPTDIR source=../vm/smbd-lib.sh disable=SC1091
. "$top/selftest/vm/smbd-lib.sh"
# shellcheck source-path=SCRIPTDIR source=vm_persistent_lib.sh disable=SC1091
. "$here/vm_persistent_lib.sh"
t0=$(date +%s.%N)
smbd_lib_init vm_persistent_mount

pass_n=0
fail_n=0
summary=()
check() { # WHAT OK
	local line
	if [ "$2" = 1 ]; then line="PASS  $1"; pass_n=$((pass_n + 1)); else
		line="FAIL  $1"; fail_n=$((fail_n + 1)); fi
	echo "$line"
	summary+=("$line")
}
yes_if() { if "$@"; then echo 1; else echo 0; fi; }

guest_script() { # MODE
	cat >"$tmp/guest.sh" <<-EOF
		user='$user'
		pass='$pass'
		versions='$versions'
		mode='$1'
	EOF
	cat >>"$tmp/guest.sh" <<-'GUEST'
		mkdir -p /mnt/s
		cred="username=$user,password=$pass"
		for v in $versions; do
			out=$(mount -t cifs //198.18.200.2/share /mnt/s -o "$cred,vers=$v,persistenthandles" 2>&1)
			rc=$?
			echo "RESULT $v mount rc=$rc $(echo "$out" | tr '\n' ' ')"
			if [ $rc = 0 ]; then
				echo "RESULT $v mounts $(grep ' /mnt/s ' /proc/mounts | grep -o persistenthandles)"
				exec 3>"/mnt/s/p-$v.bin"
				echo "data $v" >&3
				echo "HOLD $v"
				sleep 3
				exec 3>&-
				umount /mnt/s
				echo "RELEASED $v"
				sleep 1.5
			else
				dmesg | grep -i 'persistent' | tail -n 2 | sed "s/^/RESULT $v dmesg: /"
				# the control: the same mount without the option
				if mount -t cifs //198.18.200.2/share /mnt/s -o "$cred,vers=$v"; then
					echo "RESULT $v plain-mount ok"
					umount /mnt/s
				else
					echo "RESULT $v plain-mount failed"
				fi
			fi
		done
		exit 0
	GUEST
}

run_vm() { # MODE
	local mode=$1 stream=$tmp/console-$1.log v seen='' vm_rc=0
	: >"$stream"
	"$vm" run "$tmp/guest.sh" --net-ns "$ns" --timeout 120 >"$stream" 2>&1 &
	local vm_pid=$!
	while kill -0 "$vm_pid" 2>/dev/null; do
		for v in $versions; do
			case " $seen " in *" $v "*) continue ;; esac
			if grep -aq "^HOLD $v" "$stream"; then
				seen="$seen $v"
				echo "$(vp_store_records) $(vp_log_count "p-$v.bin: persistent open [0-9]+ stored")" >"$tmp/hold-$v"
				vp_smbstatus -L | grep "p-$v.bin" | sed 's/^/  smbstatus -L | /' || true
				vp_wait 10 grep -aq "^RELEASED $v" "$stream" || true
				sleep 0.5
				echo "$(vp_store_records)" >"$tmp/released-$v"
			fi
		done
		sleep 0.2
	done
	wait "$vm_pid" || vm_rc=$?
	grep -a '^RESULT' "$stream" | sed 's/^/  | /'
	check "[$mode] VM run exit 0 (got $vm_rc)" "$(yes_if test "$vm_rc" = 0)"
}

# --- with vfs_persistent
vp_config persistent
smbd_start "$tmp" 127.0.0.1 || fail "smbd did not start"
echo "vm_persistent_mount: smbd $("$SAMBA_BIN/smbd" --version) with vfs_persistent${ns:+ in netns $ns}"
guest_script persistent
v0=$(date +%s.%N)
run_vm persistent
vm1=$(secs "$v0")
stream=$tmp/console-persistent.log
for v in $versions; do
	check "[persistent] vers=$v: mount -o persistenthandles accepted" \
		"$(yes_if grep -aq "^RESULT $v mount rc=0" "$stream")"
	check "[persistent] vers=$v: /proc/mounts shows persistenthandles" \
		"$(yes_if grep -aq "^RESULT $v mounts persistenthandles" "$stream")"
	read -r recs stored <"$tmp/hold-$v" 2>/dev/null || { recs=0; stored=0; }
	check "[persistent] vers=$v: the open file has a record in the store ($recs)" \
		"$(yes_if test "${recs:-0}" -ge 1)"
	check "[persistent] vers=$v: the module logged the grant ('p-$v.bin: persistent open N stored': $stored)" \
		"$(yes_if test "${stored:-0}" -ge 1)"
	rel=$(cat "$tmp/released-$v" 2>/dev/null || echo missing)
	check "[persistent] vers=$v: after the close the record is gone ($rel)" "$(yes_if test "$rel" = 0)"
done
smbd_stop "$tmp"

# --- stock: the same build, CA announced by the share, no module, no cap
vp_config stock
smbd_start "$tmp" 127.0.0.1 || fail "smbd did not start"
echo "vm_persistent_mount: the stock configuration"
guest_script stock
v0=$(date +%s.%N)
run_vm stock
vm2=$(secs "$v0")
stream=$tmp/console-stock.log
for v in $versions; do
	line=$(grep -a "^RESULT $v mount rc=" "$stream" | head -n1 | tr -d '\r')
	check "[stock] vers=$v: mount -o persistenthandles refused with EOPNOTSUPP (${line#RESULT $v mount })" \
		"$(yes_if eval 'echo "$line" | grep -v "rc=0 " | grep -q "Operation not supported"')"
	check "[stock] vers=$v: the same mount without the option works (the control)" \
		"$(yes_if grep -aq "^RESULT $v plain-mount ok" "$stream")"
done

echo
echo "vm_persistent_mount: summary (smbd $SAMBA_UPSTREAM from $SAMBA_BIN)"
printf '  %s\n' "${summary[@]}"
echo "vm_persistent_mount: $pass_n passed, $fail_n failed; VM runs ${vm1} s + ${vm2} s, $(secs "$t0") s in all"
[ "$fail_n" = 0 ]
