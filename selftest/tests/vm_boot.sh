#!/bin/bash
# samba-ca selftest: the client VM boots trixie's kernel, loads cifs.ko and
# brings its network up (qemu user net 198.18.200.0/24, host alias
# 198.18.200.2).  Exit 0 pass, non-zero fail.  Builds the VM on first use.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm=$here/../vm/vm.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "run" builds the VM (once, cached) when there is none yet.
cat >"$tmp/boot-check.sh" <<'GUEST'
fail=0
check() {
	if eval "$2" >/dev/null 2>&1; then echo "PASS: $1"; else echo "FAIL: $1"; fail=1; fi
}
check "kernel is trixie's 6.12 ($(uname -r))" 'uname -r | grep -q "^6\.12\..*-amd64$"'
check "cifs.ko loaded"                     'grep -q "^cifs " /proc/modules'
check "/proc/fs/cifs exists"               '[ -d /proc/fs/cifs ]'
for m in cmac gcm ccm ghash_generic crypto_null cifs_arc4 cifs_md4 nls_ucs2_utils netfs dns_resolver e1000; do
	check "module $m loaded"              "grep -q '^$m ' /proc/modules"
done
check "cifs filesystem registered"         'grep -qw cifs /proc/filesystems'
check "smb3 filesystem registered"         'grep -qw smb3 /proc/filesystems'
check "eth0 up with 198.18.200.15"          'ip addr show eth0 | grep -q "inet 198.18.200.15/24"'
check "default route via 198.18.200.2"      'ip route | grep -q "default via 198.18.200.2"'
check "host alias 198.18.200.2 answers"     'ping -c1 -W5 198.18.200.2'
check "lockhold helper present"             '[ -x /bin/lockhold ]'
exit $fail
GUEST

start=$(date +%s.%N)
rc=0
"$vm" run "$tmp/boot-check.sh" --timeout 120 --log "$tmp/console.log" || rc=$?
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
if [ "$rc" = 0 ]; then
	echo "vm_boot: PASS (${secs} s)"
else
	echo "vm_boot: FAIL (exit $rc, ${secs} s)"
fi
exit "$rc"
