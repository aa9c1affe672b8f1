#!/bin/bash
# samba-ca selftest: bad input of the client VM tool (selftest/vm/vm.sh).
#
#   a. a script that hangs: "run --timeout" kills the VM, exit 124, "VM timed
#      out after N s running SCRIPT", no qemu left, the run's temp dir gone
#   b. no qemu: run with a PATH holding everything but qemu-system-x86_64:
#      "qemu-system-x86_64 not found: apt-get install qemu-system-x86", exit 2
#   c. a VM that does not boot, from a scratch cache (SAMBA_CA_CACHE) that
#      holds a copy of the real VM with (1) a kernel image whose header is
#      overwritten (qemu refuses it) and (2) a garbage initramfs (the kernel
#      panics): exit 125, "VM did not boot" with the console's last lines,
#      nothing left running
#   d. a kernel package that cannot be fetched, "build" into an empty
#      scratch cache: (1) a package that does not exist
#      (SAMBA_CA_VM_KERNEL_PKG), (2) an unreachable mirror
#      (SAMBA_CA_VM_MIRROR): an error naming the package, non-zero exit, no
#      kernel directory, no "current" link, no *.tmp left in the cache
#
# The real cache (SAMBA_CA_CACHE, default /var/cache/samba-ca) is only read;
# if it holds no VM yet, one is built first.  Exit 0 pass, 1 fail.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
vm=$top/selftest/vm/vm.sh
real_cache=${SAMBA_CA_CACHE:-/var/cache/samba-ca}
unset SAMBA_CA_CACHE
hang_timeout=${VM_BADINPUT_TIMEOUT:-30}
bogus_pkg=linux-image-samba-ca-no-such-package

scratch=$(mktemp -d "${TMPDIR:-/tmp}/samba-ca-vm_badinput.XXXXXX")
cleanup() {
	local rc=$? p
	# a qemu of ours still running (a failed check): its command line
	# names the scratch directory
	for p in $(pgrep -f -- "$scratch" || true); do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$scratch"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

out=''
rc=0
pass_n=0
fail_n=0
check() { # WHAT OK
	if [ "$2" = 1 ]; then
		echo "ok    $1"
		pass_n=$((pass_n + 1))
	else
		echo "FAIL  $1"
		fail_n=$((fail_n + 1))
	fi
}
yes_if() { if "$@"; then echo 1; else echo 0; fi; }
has() { grep -qF -- "$2" <<<"$1"; }   # has TEXT STRING
show() { printf '%s\n' "$1" | sed 's/^/    > /'; }

# nothing_left: no process names the scratch directory (qemu's -kernel,
# -initrd paths are in it), and the runs' temporary directories are gone.
nothing_left() {
	local left
	left=$(pgrep -af -- "$scratch" || true)
	[ -z "$left" ] || { echo "    still running: $left"; return 1; }
	[ -z "$(ls -A "$scratch/tmp")" ] || { echo "    left in TMPDIR: $(ls -A "$scratch/tmp")"; return 1; }
}

# vmrun OUTVAR RCVAR ARGS...: vm.sh with its temp dirs in $scratch/tmp
vmrun() {
	local -n _out=$1 _rc=$2
	shift 2
	_rc=0
	_out=$(TMPDIR=$scratch/tmp timeout 300 "$@" 2>&1) || _rc=$?
}

mkdir -p "$scratch/tmp"
printf 'echo "badinput: about to hang"\nsleep 100000\n' >"$scratch/hang.sh"
printf 'echo "badinput: should not run"\nexit 0\n' >"$scratch/ok.sh"

# The real VM (built if there is none yet: no silent skip).
if ! kver=$(readlink "$real_cache/vm/current" 2>/dev/null) ||
	[ ! -f "$real_cache/vm/$kver/initramfs.gz" ]; then
	echo "vm_badinput: no VM in $real_cache yet: building it"
	SAMBA_CA_CACHE=$real_cache "$vm" build || { echo "vm_badinput: FAIL: vm.sh build failed"; exit 1; }
	kver=$(readlink "$real_cache/vm/current")
fi
real=$real_cache/vm/$kver
echo "vm_badinput: real VM $real"

# --- a. a script that hangs
echo "--- a. a script that hangs (--timeout $hang_timeout)"
t=$SECONDS
vmrun out rc env SAMBA_CA_CACHE="$real_cache" "$vm" run "$scratch/hang.sh" --timeout "$hang_timeout" --quiet
took=$((SECONDS - t))
show "$out"
check "a. exit 124 (got $rc)" "$(yes_if test "$rc" = 124)"
check "a. 'VM timed out after $hang_timeout s running $scratch/hang.sh'" \
	"$(yes_if has "$out" "VM timed out after $hang_timeout s running $scratch/hang.sh")"
check "a. bounded wait: returned ${took} s after the start (timeout $hang_timeout s)" \
	"$(yes_if test "$took" -le $((hang_timeout + 15)))"
check "a. no qemu left, the run's temp dir removed" "$(yes_if nothing_left)"

# --- b. no qemu
echo "--- b. no qemu-system-x86_64 in PATH"
nobin=$scratch/bin-without-qemu
mkdir -p "$nobin"
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
	[ -d "$d" ] || continue
	for f in "$d"/*; do
		b=${f##*/}
		if [ "$b" != qemu-system-x86_64 ] && [ -x "$f" ] && [ ! -d "$f" ] && [ ! -e "$nobin/$b" ]; then
			ln -s "$f" "$nobin/$b"
		fi
	done
done
check "b. the stripped PATH has no qemu-system-x86_64 but has bash and cpio" \
	"$(yes_if env PATH="$nobin" bash -c '! command -v qemu-system-x86_64 >/dev/null && command -v cpio >/dev/null && command -v bash >/dev/null')"
vmrun out rc env PATH="$nobin" SAMBA_CA_CACHE="$real_cache" "$vm" run "$scratch/ok.sh" --timeout 20 --quiet
show "$out"
check "b. exit 2 (got $rc)" "$(yes_if test "$rc" = 2)"
check "b. 'qemu-system-x86_64 not found: apt-get install qemu-system-x86'" \
	"$(yes_if has "$out" "qemu-system-x86_64 not found: apt-get install qemu-system-x86")"
check "b. nothing left running" "$(yes_if nothing_left)"

# --- c. a VM that does not boot
# scratch_vm DIR: a copy of the real VM's run files (not the modules)
scratch_vm() {
	local c=$1/vm/$kver
	mkdir -p "$c/root/boot"
	cp "$real/kernel.stamp" "$real/initramfs.gz" "$real/initramfs.hash" "$c/"
	cp "$real/root/boot/vmlinuz-$kver" "$c/root/boot/"
	ln -s "$kver" "$1/vm/current"
}
not_booted_msg() { # the message and the console's last lines ("  | ...")
	has "$out" "VM did not boot" && has "$out" "last lines:" && grep -q '^  | .' <<<"$out"
}
boot_fail_checks() { # TAG
	show "$out"
	check "$1 exit 125 (got $rc)" "$(yes_if test "$rc" = 125)"
	check "$1 'VM did not boot' with the console's last lines" \
		"$(yes_if not_booted_msg)"
	check "$1 nothing left running" "$(yes_if nothing_left)"
}
echo "--- c1. a corrupt kernel image (its header overwritten)"
scratch_vm "$scratch/c1"
dd if=/dev/urandom of="$scratch/c1/vm/$kver/root/boot/vmlinuz-$kver" bs=4096 count=4 conv=notrunc status=none
vmrun out rc env SAMBA_CA_CACHE="$scratch/c1" "$vm" run "$scratch/ok.sh" --timeout 60 --quiet
boot_fail_checks "c1."
echo "--- c2. a garbage initramfs (the kernel finds no init and panics)"
scratch_vm "$scratch/c2"
head -c 262144 /dev/urandom >"$scratch/c2/vm/$kver/initramfs.gz"
vmrun out rc env SAMBA_CA_CACHE="$scratch/c2" "$vm" run "$scratch/ok.sh" --timeout 60 --quiet
boot_fail_checks "c2."

# --- d. a kernel package that cannot be fetched
# no_half_entry DIR: the cache holds nothing but the private apt state
no_half_entry() {
	local extra
	extra=$(find "$1/vm" -mindepth 1 -maxdepth 1 ! -name apt ! -name .lock -printf '%f ' 2>/dev/null)
	[ -z "$extra" ] || { echo "    left in $1/vm: $extra"; return 1; }
}
echo "--- d1. a kernel package that does not exist ($bogus_pkg)"
mkdir -p "$scratch/d1/vm/apt"
# the real cache's apt lists spare a full download (apt update refreshes them)
[ ! -d "$real_cache/vm/apt/lists" ] || cp -a "$real_cache/vm/apt/lists" "$scratch/d1/vm/apt/"
vmrun out rc env SAMBA_CA_CACHE="$scratch/d1" SAMBA_CA_VM_KERNEL_PKG="$bogus_pkg" "$vm" build
show "$out"
check "d1. non-zero exit (got $rc)" "$(yes_if test "$rc" != 0)"
check "d1. an error naming the package ('cannot fetch the kernel package $bogus_pkg')" \
	"$(yes_if has "$out" "cannot fetch the kernel package $bogus_pkg")"
check "d1. no half-made cache entry" "$(yes_if no_half_entry "$scratch/d1")"
echo "--- d2. an unreachable mirror"
vmrun out rc env SAMBA_CA_CACHE="$scratch/d2" SAMBA_CA_VM_MIRROR=http://127.0.0.1:9/debian \
	SAMBA_CA_VM_SECURITY_MIRROR=http://127.0.0.1:9/debian-security "$vm" build
show "$out"
check "d2. non-zero exit (got $rc)" "$(yes_if test "$rc" != 0)"
check "d2. an error naming the package ('cannot fetch the kernel package linux-image-amd64')" \
	"$(yes_if has "$out" "cannot fetch the kernel package linux-image-amd64")"
check "d2. apt's reason shown ('Failed to fetch http://127.0.0.1:9/')" \
	"$(yes_if has "$out" "Failed to fetch http://127.0.0.1:9/")"
check "d2. no half-made cache entry" "$(yes_if no_half_entry "$scratch/d2")"

echo "vm_badinput: $pass_n passed, $fail_n failed"
[ "$fail_n" = 0 ]
