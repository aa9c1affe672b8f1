#!/bin/bash
# samba-ca selftest: the Linux kernel's SMB3 client (cifs.ko, in the client VM
# of selftest/vm) mounts a share of the built smbd with vers=3.0, 3.0.2 and
# 3.1.1, with sign and with seal; files written by the VM read back identical
# through the built smbclient, and files put by smbclient read back identical
# in the VM.  All of it twice, one VM boot each: on a plain share, and on a
# persistent share (vfs objects = persistent, [global] smb3 global
# cap:PERSISTENT HANDLES = yes; there the module must also log that it
# stored persistent opens).  VM_MOUNT_SHARES="plain" (or "persistent")
# runs one of the two.
#
# smbd runs from the build ($SAMBA_BIN from .build/samba.env), as root, on
# 127.0.0.1:445 with a private smb.conf under a temporary directory.  By
# default smbd, smbclient and qemu run inside a private network namespace (its
# own loopback: no clash with anything on the host's port 445, and the VM's
# --net-ns path is exercised); VM_MOUNT_NETNS=0 uses the host's loopback.
#
# Exit 0 pass, non-zero fail.  Needs root.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
vm=$top/selftest/vm/vm.sh
vm_timeout=${VM_MOUNT_TIMEOUT:-300}

read -ra shares <<<"${VM_MOUNT_SHARES:-plain persistent}"
variants=(vers=3.0 vers=3.0.2 vers=3.1.1 'vers=3.0,sign' 'vers=3.1.1,sign' 'vers=3.0,seal' 'vers=3.1.1,seal')

# Sets tmp, ns, user, pass; defines smbd_* (selftest/lib/smbd.sh), inns, fail, secs.
tmp='' user='' pass=''
# shellcheck source-path=SCRIPTDIR source=../vm/smbd-lib.sh disable=SC1091
. "$top/selftest/vm/smbd-lib.sh"
export VM_NETNS=${VM_MOUNT_NETNS:-1}
t0=$(date +%s.%N)
smbd_lib_init vm_mount
echo "vm_mount: smbd $("$SAMBA_BIN/smbd" --version)${ns:+ in netns $ns}; shares: ${shares[*]}"

pass_n=0
fail_n=0
declare -a summary=()
result() { # name what ok
	if [ "$3" = 1 ]; then pass_n=$((pass_n + 1)); summary+=("PASS  $1: $2"); else
		fail_n=$((fail_n + 1)); summary+=("FAIL  $1: $2"); fi
}

# share_config plain|persistent: rewrite [share] of $tmp/smb.conf.  plain is
# smbd-lib's share as it is; persistent adds the global cap and the module,
# its store in the state directory, on a directory of its own.
share_config() {
	local kind=$1 dir=$tmp/share
	sed -i -e '/^\[share\]/,$d' -e '/smb3 global cap:PERSISTENT HANDLES/d' "$tmp/smb.conf"
	sed -i -e 's/^[[:space:]]*log level = .*/\tlog level = 1/' "$tmp/smb.conf"
	if [ "$kind" = persistent ]; then
		[ -e "$SAMBA_BIN/modules/vfs/persistent.so" ] ||
			fail "$SAMBA_BIN/modules/vfs/persistent.so missing: the build has no vfs_persistent"
		dir=$tmp/share-persistent
		sed -i -e 's/^[[:space:]]*log level = .*/\tlog level = 1 vfs:5/' \
			-e '/^\[global\]/a \\tsmb3 global cap:PERSISTENT HANDLES = yes' \
			"$tmp/smb.conf"
	fi
	mkdir -p "$dir"
	chown "$user" "$dir"
	{
		echo "[share]"
		echo "	path = $dir"
		echo "	read only = no"
		echo "	valid users = $user"
		if [ "$kind" = persistent ]; then
			echo "	vfs objects = persistent"
			echo "	persistent:store = $tmp/state/persistent.tdb"
		fi
	} >>"$tmp/smb.conf"
}

# --- the guest side (the same for both shares)
write_guest() { # HOST_SHA
	cat >"$tmp/guest.sh" <<-EOF
		user='$user'
		pass='$pass'
		host_sha='$1'
		variants='${variants[*]}'
	EOF
	cat >>"$tmp/guest.sh" <<'GUEST'
fail=0
mkdir -p /mnt/s
for opts in $variants; do
	name=$(echo "$opts" | tr ',=.' '_-_')
	echo "=== mount -o $opts"
	if ! mount -t cifs //198.18.200.2/share /mnt/s -o "username=$user,password=$pass,$opts"; then
		echo "RESULT $name mount FAIL"
		dmesg | tail -n 5
		fail=1
		continue
	fi
	echo "RESULT $name mount PASS"
	grep ' /mnt/s ' /proc/mounts
	grep -iE 'dialect|signed|encrypt|sign' /proc/fs/cifs/DebugData | sed 's/^/  debugdata: /'
	dialect=$(grep -o 'Dialect 0x[0-9a-f]*' /proc/fs/cifs/DebugData | head -n1 | cut -d' ' -f2)
	echo "RESULT $name dialect $dialect"
	if grep -q 'encrypted' /proc/fs/cifs/DebugData; then echo "RESULT $name encrypted yes"; else echo "RESULT $name encrypted no"; fi
	if grep -q 'SessionId: .* signed' /proc/fs/cifs/DebugData; then echo "RESULT $name signed yes"; else echo "RESULT $name signed no"; fi
	got=$(sha256sum /mnt/s/from-host.bin | cut -d' ' -f1)
	if [ "$got" = "$host_sha" ]; then
		echo "RESULT $name read PASS"
	else
		echo "RESULT $name read FAIL got=$got"
		fail=1
	fi
	head -c 1048576 /dev/urandom >/tmp/data
	if cp /tmp/data "/mnt/s/from-vm-$name.bin" && sync; then
		echo "RESULT $name wrote $(sha256sum </tmp/data | cut -d' ' -f1)"
	else
		echo "RESULT $name write FAIL"
		fail=1
	fi
	umount /mnt/s || { echo "RESULT $name umount FAIL"; fail=1; }
done
echo "=== lockhold on a vers=3.1.1 mount"
if mount -t cifs //198.18.200.2/share /mnt/s -o "username=$user,password=$pass,vers=3.1.1"; then
	if lockhold -n 12 -i 50 -b 65536 -l 524288 -r 20 /mnt/s/lockhold.bin; then
		echo "RESULT lockhold run PASS"
	else
		echo "RESULT lockhold run FAIL $?"
		fail=1
	fi
	umount /mnt/s
else
	echo "RESULT lockhold mount FAIL"
	fail=1
fi
exit $fail
GUEST
}

# run_share plain|persistent: smbd with that share, one VM boot, the checks.
declare -A vm_secs=()
kernel=
run_share() {
	local kind=$1 log=$tmp/console-$1.log host_sha opts name want_d got_d want_e want got vm_rc=0 v0 stored0
	share_config "$kind"
	smbd_start "$tmp" 127.0.0.1 || fail "smbd did not start"
	echo "vm_mount: [$kind] smbd listening on 127.0.0.1:445"
	stored0=$(grep -cE 'persistent open [0-9]+ stored' "$tmp/log.smbd" 2>/dev/null || true)

	# host -> VM: a file put through smbclient
	head -c 1572864 /dev/urandom >"$tmp/from-host.bin"
	host_sha=$(sha256sum <"$tmp/from-host.bin" | cut -d' ' -f1)
	sca_smbclient "$tmp" 127.0.0.1 share "put $tmp/from-host.bin from-host.bin" >"$tmp/put.log" 2>&1 ||
		{ cat "$tmp/put.log" >&2; fail "[$kind] smbclient put failed"; }
	write_guest "$host_sha"

	local -a vm_args=(run "$tmp/guest.sh" --timeout "$vm_timeout" --log "$log")
	[ -z "$ns" ] || vm_args+=(--net-ns "$ns")
	echo "vm_mount: [$kind] booting the client VM"
	v0=$(date +%s.%N)
	"$vm" "${vm_args[@]}" || vm_rc=$?
	vm_secs[$kind]=$(secs "$v0")
	cat "$log" >>"$tmp/console.log" 2>/dev/null || true
	kernel=$(grep -ao 'SAMBA_CA_VM_READY [0-9a-f]* [^ ]*' "$log" | awk '{print $3}' | tr -d '\r' || true)

	# VM -> host: read back what the VM wrote, through smbclient
	res() { grep -a "^RESULT $name $1" "$log" | head -n1 || true; }
	for opts in "${variants[@]}"; do
		name=$(echo "$opts" | tr ',=.' '_-_')
		if [ -n "$(res 'mount PASS')" ]; then result "[$kind] $opts" "mount" 1; else
			result "[$kind] $opts" "mount" 0
			continue
		fi
		result "[$kind] $opts" "VM reads the file smbclient put (sha256)" "$([ -n "$(res 'read PASS')" ] && echo 1 || echo 0)"
		case $opts in
		vers=3.0,* | vers=3.0) want_d=0x300 ;;
		vers=3.0.2*) want_d=0x302 ;;
		vers=3.1.1*) want_d=0x311 ;;
		esac
		got_d=$(res dialect | awk '{print $4}' | tr -d '\r')
		result "[$kind] $opts" "dialect $want_d negotiated (DebugData: ${got_d:-none})" "$([ "$got_d" = "$want_d" ] && echo 1 || echo 0)"
		case $opts in
		*seal*) want_e=yes ;;
		*) want_e=no ;;
		esac
		result "[$kind] $opts" "session encrypted: $want_e (DebugData)" "$([ -n "$(res "encrypted $want_e")" ] && echo 1 || echo 0)"
		case $opts in
		*sign*)
			result "[$kind] $opts" "session signed (DebugData)" "$([ -n "$(res 'signed yes')" ] && echo 1 || echo 0)"
			;;
		esac
		want=$(res wrote | awk '{print $4}' | tr -d '\r')
		if [ -z "$want" ]; then
			result "[$kind] $opts" "smbclient reads the file the VM wrote (sha256)" 0
			continue
		fi
		rm -f "$tmp/back.bin"
		sca_smbclient "$tmp" 127.0.0.1 share "get from-vm-$name.bin $tmp/back.bin" >"$tmp/get.log" 2>&1 || cat "$tmp/get.log" >&2
		got=$(sha256sum <"$tmp/back.bin" 2>/dev/null | cut -d' ' -f1 || true)
		if [ "$got" = "$want" ]; then result "[$kind] $opts" "smbclient reads the file the VM wrote (sha256)" 1; else
			result "[$kind] $opts" "smbclient reads the file the VM wrote (sha256 $got != $want)" 0
		fi
	done
	result "[$kind] lockhold" "fcntl lock + 12 fsynced writes + verify on the share" \
		"$(grep -aq '^RESULT lockhold run PASS' "$log" && echo 1 || echo 0)"
	if [ "$kind" = persistent ]; then
		# the share really is persistent: the module stored the VM's opens
		local stored
		stored=$(grep -cE 'persistent open [0-9]+ stored' "$tmp/log.smbd" 2>/dev/null || true)
		stored=$((stored - stored0))
		result "[$kind] server" "vfs_persistent logged 'persistent open N stored' for the VM's opens ($stored)" \
			"$([ "$stored" -ge 1 ] && echo 1 || echo 0)"
	fi
	[ "$vm_rc" = 0 ] || { fail_n=$((fail_n + 1)); summary+=("FAIL  [$kind] VM run exited $vm_rc"); }
	smbd_stop "$tmp"
}

for kind in "${shares[@]}"; do
	case $kind in
	plain | persistent) run_share "$kind" ;;
	*) fail "VM_MOUNT_SHARES: unknown share kind '$kind' (plain, persistent)" ;;
	esac
done

echo
echo "vm_mount: summary (smbd $SAMBA_UPSTREAM from $SAMBA_BIN, kernel ${kernel:-unknown})"
printf '  %s\n' "${summary[@]}"
times=
for kind in "${shares[@]}"; do times+="${times:+, }$kind ${vm_secs[$kind]:-?} s"; done
echo "vm_mount: $pass_n passed, $fail_n failed; VM runs: $times; test $(secs "$t0") s in all"
[ "$fail_n" = 0 ]
