#!/bin/bash
# samba-ca: a client VM with the Linux kernel's SMB3 client (cifs.ko).
#
#   vm.sh build [--force]                 fetch trixie's kernel, build the initramfs
#   vm.sh prepare                         build only what is missing (no network
#                                         when a kernel is cached): before timing
#   vm.sh run SCRIPT [--timeout SEC] [--net-ns NS] [--quiet] [--log FILE]
#   vm.sh info                            print the cached kernel and files
#
# See selftest/vm/README.md.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${SAMBA_CA_CACHE:-/var/cache/samba-ca}
VM_CACHE=$CACHE_ROOT/vm
# The archives: the machine's own (vm_archives), unless these are set.
MIRROR=${SAMBA_CA_VM_MIRROR:-}
SECURITY_MIRROR=${SAMBA_CA_VM_SECURITY_MIRROR:-}
SUITE=trixie
KERNEL_PKG=${SAMBA_CA_VM_KERNEL_PKG:-linux-image-amd64}
KEYRING=${SAMBA_CA_VM_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
BUSYBOX=${SAMBA_CA_VM_BUSYBOX:-/bin/busybox}

# Guest network: qemu user-mode stack on a subnet of 198.18.0.0/15.
VM_NET=198.18.200.0/24
VM_HOST=198.18.200.2   # qemu's alias for the host (its 127.0.0.1)
VM_IP=198.18.200.15

# Modules the guest loads (their dependencies are added from each module's
# .modinfo "depends=" and "softdep=" entries, since the package carries no
# modules.dep: depmod runs only when the package is installed).
VM_MODULES="e1000 virtio_net crypto_null gf128mul ghash_generic gcm ccm cmac
cifs_arc4 cifs_md4 nls_ucs2_utils nls_utf8 dns_resolver netfs cifs"

# Exit codes of "run" besides the script's own status.
RC_TIMEOUT=124    # the VM was killed at the timeout
RC_VMFAIL=125     # the VM did not boot / did not report the script's status
RC_USAGE=2

# secs_since START [END]: seconds (one decimal) between two "date +%s.%N" values
secs_since() { awk -v a="$1" -v b="${2:-$(date +%s.%N)}" 'BEGIN { printf "%.1f", b - a }'; }

# A half-made cache entry (set while one is being built) is removed on an error.
BUILD_TMP=
die() {
	echo "vm.sh: error: $*" >&2
	[ -z "$BUILD_TMP" ] || rm -rf "$BUILD_TMP"
	exit "$RC_USAGE"
}
note() { echo "vm.sh: $*" >&2; }

usage() {
	sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit "$RC_USAGE"
}

need() {
	local cmd=$1 pkg=$2
	command -v "$cmd" >/dev/null 2>&1 ||
		die "$cmd not found: apt-get install $pkg"
}

# --------------------------------------------------------------------------
# Private apt state: of the host's apt sources only the archives' URIs are
# read (vm_archives); its lists, cache and dpkg status are neither read nor
# written (its apt.conf applies, e.g. for a proxy).
# --------------------------------------------------------------------------
APT_DIR=$VM_CACHE/apt

# vm_archives: MIRROR and SECURITY_MIRROR, where not set by the environment,
# are the archive and security archive of the host's apt sources
# (SAMBA_CA_APT_ETC, default /etc/apt), so that a local mirror or proxy
# serves the VM's kernel too.
vm_archives() {
	local line
	[ -z "$MIRROR" ] || [ -z "$SECURITY_MIRROR" ] || return 0
	# shellcheck source=buildtools/apt-archive.sh
	. "$VM_DIR/../../buildtools/apt-archive.sh"
	if ! apt_archive_find "${SAMBA_CA_APT_ETC:-/etc/apt}"; then
		while IFS= read -r line; do
			note "error: $line"
		done <<<"$APT_ARCHIVE_ERROR"
		die "trixie's kernel package comes from the same archives: add the entry named above (or set SAMBA_CA_VM_MIRROR and SAMBA_CA_VM_SECURITY_MIRROR)"
	fi
	MIRROR=${MIRROR:-$APT_ARCHIVE_URI}
	SECURITY_MIRROR=${SECURITY_MIRROR:-$APT_ARCHIVE_SECURITY_URI}
}
apt_opts() {
	APT_OPTS=(
		-o "Dir::Etc::SourceList=$APT_DIR/sources.list"
		-o "Dir::Etc::SourceParts=/dev/null"
		-o "Dir::Etc::Preferences=/dev/null"
		-o "Dir::Etc::PreferencesParts=/dev/null"
		-o "Dir::State::Lists=$APT_DIR/lists"
		-o "Dir::State::status=/dev/null"
		-o "Dir::State::extended_states=$APT_DIR/extended_states"
		-o "Dir::Cache=$APT_DIR/cache"
		-o "Debug::NoLocking=1"
		-o "APT::Sandbox::User=root"
		-o "APT::Architecture=amd64"
		-o "APT::Architectures=amd64"
		-q
	)
}

apt_update() {
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	cat >"$APT_DIR/sources.list" <<-EOF
		# written by samba-ca selftest/vm/vm.sh: binary entries, private state only
		deb [arch=amd64 signed-by=$KEYRING] $MIRROR $SUITE main
		deb [arch=amd64 signed-by=$KEYRING] $SECURITY_MIRROR $SUITE-security main
	EOF
	apt_opts
	apt-get "${APT_OPTS[@]}" update >"$APT_DIR/update.log" 2>&1
}

# Print "<package> <version>" of the versioned kernel image package that the
# meta package depends on.
kernel_candidate() {
	local meta_ver dep dep_ver
	apt_opts
	meta_ver=$(apt-cache "${APT_OPTS[@]}" policy "$KERNEL_PKG" 2>/dev/null |
		awk '/Candidate:/ {print $2}')
	if [ -z "$meta_ver" ] || [ "$meta_ver" = "(none)" ]; then
		return 1
	fi
	dep=$(apt-cache "${APT_OPTS[@]}" depends "$KERNEL_PKG=$meta_ver" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ {print $2; exit}')
	[ -n "$dep" ] || return 1
	dep_ver=$(apt-cache "${APT_OPTS[@]}" policy "$dep" 2>/dev/null |
		awk '/Candidate:/ {print $2}')
	[ -n "$dep_ver" ] && [ "$dep_ver" != "(none)" ] || return 1
	echo "$dep $dep_ver $meta_ver"
}

# The newest kernel already in the cache (for offline use).
cached_kernel() {
	[ -L "$VM_CACHE/current" ] || return 1
	local kver
	kver=$(readlink "$VM_CACHE/current")
	[ -f "$VM_CACHE/$kver/kernel.stamp" ] || return 1
	echo "$kver"
}

# --------------------------------------------------------------------------
# Kernel: download + unpack
# --------------------------------------------------------------------------
fetch_kernel() {
	local force=$1 cand pkg ver meta_ver kver dir debdir deb
	need apt-get apt
	need dpkg-deb dpkg
	[ -r "$KEYRING" ] || die "archive keyring $KEYRING not readable: apt-get install debian-archive-keyring"
	vm_archives
	note "updating private apt lists for $SUITE ($MIRROR) in $APT_DIR"
	if ! apt_update; then
		sed 's/^/  /' "$APT_DIR/update.log" >&2
		if kver=$(cached_kernel); then
			note "warning: apt update failed; using the cached kernel $kver"
			KVER=$kver
			return 0
		fi
		die "cannot fetch the kernel package $KERNEL_PKG: 'apt-get update' of $SUITE ($MIRROR) failed (log above: $APT_DIR/update.log)"
	fi
	if ! cand=$(kernel_candidate); then
		# apt-get update exits 0 when an index could not be fetched: show why
		grep -E '^(W|E|Err):' "$APT_DIR/update.log" | sed 's/^/  /' >&2 || true
		die "cannot fetch the kernel package $KERNEL_PKG from $SUITE ($MIRROR): no such package or no linux-image-<version> dependency"
	fi
	read -r pkg ver meta_ver <<<"$cand"
	kver=${pkg#linux-image-}
	dir=$VM_CACHE/$kver
	KVER=$kver
	if [ "$force" = 0 ] && [ -f "$dir/kernel.stamp" ]; then
		note "kernel $kver ($pkg $ver) already in $dir"
		return 0
	fi
	note "downloading $KERNEL_PKG $meta_ver and $pkg $ver"
	rm -rf "$dir.tmp"
	BUILD_TMP=$dir.tmp
	debdir=$dir.tmp/debs
	mkdir -p "$debdir"
	apt_opts
	if ! (cd "$debdir" && apt-get "${APT_OPTS[@]}" download "$KERNEL_PKG=$meta_ver" "$pkg=$ver") \
		>"$dir.tmp/download.log" 2>&1; then
		sed 's/^/  /' "$dir.tmp/download.log" >&2
		die "cannot fetch the kernel package $pkg=$ver (or $KERNEL_PKG=$meta_ver) from $SUITE"
	fi
	deb=$(find "$debdir" -name "${pkg}_*.deb" | head -n1)
	[ -n "$deb" ] || die "download of $pkg gave no .deb in $debdir"
	note "unpacking $(basename "$deb")"
	mkdir -p "$dir.tmp/root"
	dpkg-deb -x "$deb" "$dir.tmp/root" || die "dpkg-deb -x $deb failed"
	[ -f "$dir.tmp/root/boot/vmlinuz-$kver" ] || die "$deb has no /boot/vmlinuz-$kver"
	[ -d "$dir.tmp/root/usr/lib/modules/$kver" ] || die "$deb has no /usr/lib/modules/$kver"
	printf '%s %s\n%s %s\n' "$pkg" "$ver" "$KERNEL_PKG" "$meta_ver" >"$dir.tmp/kernel.stamp"
	rm -rf "$dir.tmp/debs"   # unpacked; "build --force" fetches them again
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	BUILD_TMP=
	ln -sfn "$kver" "$VM_CACHE/current"
}

# --------------------------------------------------------------------------
# Modules: resolve dependencies, decompress
# --------------------------------------------------------------------------
declare -A MOD_PATH=() MOD_SEEN=()
MOD_ORDER=()

mod_key() { local k=${1%%.ko*}; k=${k##*/}; echo "${k//-/_}"; }

mod_index() {
	local moddir=$1 f
	while IFS= read -r f; do
		MOD_PATH[$(mod_key "$f")]=$f
	done < <(find "$moddir/kernel" -name '*.ko*')
}

mod_builtin() {
	local key=$1 moddir=$2
	sed 's,.*/,,; s,\.ko.*,,; s,-,_,g' "$moddir/modules.builtin" | grep -qx "$key"
}

mod_unpack() {
	local src=$1 dst=$2
	case $src in
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*.ko) cp "$src" "$dst" ;;
	*) return 1 ;;
	esac
}

# mod_resolve NAME SOFT MODDIR OUTDIR: unpack NAME and what it needs into
# OUTDIR, appending to MOD_ORDER in load order.
mod_resolve() {
	local name=$1 soft=$2 moddir=$3 out=$4 key src info dep
	key=$(mod_key "$name")
	[ -z "${MOD_SEEN[$key]:-}" ] || return 0
	MOD_SEEN[$key]=1
	src=${MOD_PATH[$key]:-}
	if [ -z "$src" ]; then
		mod_builtin "$key" "$moddir" && return 0
		[ "$soft" = 1 ] && return 0   # a softdep naming a crypto algorithm, not a module
		die "module $name is neither in the kernel package nor built in"
	fi
	mod_unpack "$src" "$out/$key.ko" || die "cannot decompress $src"
	info=$(objcopy -O binary --only-section=.modinfo "$out/$key.ko" /dev/stdout | tr '\0' '\n')
	for dep in $(sed -n 's/^depends=//p' <<<"$info" | tr ',' ' '); do
		mod_resolve "$dep" 0 "$moddir" "$out"
	done
	for dep in $(sed -n 's/^softdep=//p' <<<"$info" | tr ' ' '\n' | grep -v ':$' || true); do
		mod_resolve "$dep" 1 "$moddir" "$out"
	done
	MOD_ORDER+=("$key")
}

# --------------------------------------------------------------------------
# Initramfs
# --------------------------------------------------------------------------
write_init() {
	cat >"$1" <<'INIT'
#!/bin/sh
# samba-ca client VM init (busybox). Written by selftest/vm/vm.sh.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
exec </dev/null >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm /tmp /mnt /run
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo 0 >/proc/sys/kernel/printk_ratelimit 2>/dev/null

say() { echo "vm-init: $*"; }
fin() {
	sync
	printf '\nSAMBA_CA_VM_EXIT %s %s\n' "$vm_nonce" "$1"
	poweroff -f
	sleep 5
	echo o >/proc/sysrq-trigger
}

for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done

ip=${vm_ip:-198.18.200.15}; gw=${vm_gw:-198.18.200.2}; prefix=${vm_prefix:-24}
ip link set lo up
if ip link set eth0 up && ip addr add "$ip/$prefix" dev eth0; then
	ip route add default via "$gw" || say "no default route via $gw"
else
	say "eth0 did not come up"
fi
hostname samba-ca-vm
echo "127.0.0.1 localhost" >/etc/hosts
echo "$gw host" >>/etc/hosts

echo "SAMBA_CA_VM_READY $vm_nonce $(uname -r)"
if [ ! -f /vm/script ]; then
	say "no script in the per-run initramfs"
	fin 127
fi
cd /tmp
export HOME=/tmp VM_IP="$ip" VM_HOST="$gw"
sh /vm/script
fin $?
INIT
}

helpers_hash() {
	{
		sed -n '/^write_init()/,/^INIT$/p' "${BASH_SOURCE[0]}"
		echo "$VM_MODULES"
		sha256sum "$BUSYBOX" | cut -d' ' -f1
		find "$VM_DIR/helpers" -maxdepth 1 -type f -name '*.[ch]' -print0 | sort -z | xargs -0r cat
	} | sha256sum | cut -d' ' -f1
}

build_initramfs() {
	local kver=$1 force=$2 dir moddir stage hash m src helper
	dir=$VM_CACHE/$kver
	moddir=$dir/root/usr/lib/modules/$kver
	hash=$(helpers_hash)
	if [ "$force" = 0 ] && [ -f "$dir/initramfs.gz" ] &&
		[ "$(cat "$dir/initramfs.hash" 2>/dev/null)" = "$hash" ]; then
		note "initramfs for $kver is up to date ($dir/initramfs.gz)"
		return 0
	fi
	need gcc "gcc libc6-dev"
	need cpio cpio
	need xz xz-utils
	need objcopy binutils
	[ -x "$BUSYBOX" ] || die "$BUSYBOX not found: apt-get install busybox-static"
	if command -v file >/dev/null 2>&1 &&
		! file -L "$BUSYBOX" | grep -q 'statically linked'; then
		die "$BUSYBOX is not statically linked: apt-get install busybox-static"
	fi
	stage=$dir/initramfs.stage
	rm -rf "$stage" "$dir/initramfs.gz.tmp"
	BUILD_TMP=$stage
	mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,mnt,run,etc,lib/modules}
	cp "$BUSYBOX" "$stage/bin/busybox"
	for m in $("$BUSYBOX" --list); do
		[ -e "$stage/bin/$m" ] || ln -s busybox "$stage/bin/$m"
	done
	if [ "$(id -u)" = 0 ]; then
		mknod -m 600 "$stage/dev/console" c 5 1
		mknod -m 666 "$stage/dev/null" c 1 3
	fi
	write_init "$stage/init"
	chmod 755 "$stage/init"

	note "resolving modules for $kver"
	MOD_PATH=() MOD_SEEN=() MOD_ORDER=()
	mod_index "$moddir"
	for m in $VM_MODULES; do
		mod_resolve "$m" 0 "$moddir" "$stage/lib/modules"
	done
	printf '%s\n' "${MOD_ORDER[@]}" >"$stage/lib/modules/order"
	note "modules (load order): ${MOD_ORDER[*]}"

	for src in "$VM_DIR"/helpers/*.c; do
		[ -e "$src" ] || continue
		helper=$(basename "$src" .c)
		note "compiling helper $helper"
		gcc -static -O2 -Wall -Wextra -o "$stage/bin/$helper" "$src" ||
			die "compiling $src failed"
	done

	(cd "$stage" && find . -print0 | sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n >"$dir/initramfs.gz.tmp"
	mv "$dir/initramfs.gz.tmp" "$dir/initramfs.gz"
	echo "$hash" >"$dir/initramfs.hash"
	rm -rf "$stage"
	BUILD_TMP=
	note "initramfs: $dir/initramfs.gz ($(du -h "$dir/initramfs.gz" | cut -f1))"
}

cmd_build() {
	local force=0
	while [ $# -gt 0 ]; do
		case $1 in
		--force) force=1 ;;
		*) usage ;;
		esac
		shift
	done
	mkdir -p "$VM_CACHE"
	exec 9>"$VM_CACHE/.lock"
	flock 9
	KVER=
	fetch_kernel "$force"
	build_initramfs "$KVER" "$force"
	note "VM ready: kernel $KVER in $VM_CACHE/$KVER"
}

# Make sure a VM exists; build it if none is cached or the initramfs is stale.
# "prepare" runs it before anything is timed, so that "run" finds it ready.
ensure_vm() {
	local kver
	if kver=$(cached_kernel) && [ -f "$VM_CACHE/$kver/initramfs.gz" ] &&
		[ "$(cat "$VM_CACHE/$kver/initramfs.hash" 2>/dev/null)" = "$(helpers_hash)" ]; then
		KVER=$kver
		return 0
	fi
	if kver=$(cached_kernel); then
		(
			exec 9>"$VM_CACHE/.lock"
			flock 9
			build_initramfs "$kver" 0
		) || exit "$RC_USAGE"
		KVER=$kver
		return 0
	fi
	note "no VM in $VM_CACHE yet: building it"
	(cmd_build) || exit "$RC_USAGE"
	KVER=$(cached_kernel) || die "build did not leave a VM in $VM_CACHE"
}

# --------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------
QEMU_PID=
TAIL_PID=
RUN_TMP=
run_cleanup() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		sleep 0.5
		kill -KILL "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	if [ -n "$TAIL_PID" ]; then
		# let the console stream drain (its tail follows qemu's pid)
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$TAIL_PID" 2>/dev/null || break
			sleep 0.3
		done
		kill "$TAIL_PID" 2>/dev/null || true
		wait "$TAIL_PID" 2>/dev/null || true
	fi
	[ -z "$RUN_TMP" ] || rm -rf "$RUN_TMP"
}

cmd_run() {
	local script='' timeout=300 netns='' quiet=0 logcopy='' accel=${SAMBA_CA_VM_ACCEL:-tcg}
	while [ $# -gt 0 ]; do
		case $1 in
		--timeout) timeout=${2:?--timeout needs seconds}; shift ;;
		--net-ns) netns=${2:?--net-ns needs a namespace}; shift ;;
		--quiet) quiet=1 ;;
		--log) logcopy=${2:?--log needs a file}; shift ;;
		-*) usage ;;
		*) [ -z "$script" ] || usage; script=$1 ;;
		esac
		shift
	done
	[ -n "$script" ] || usage
	[ -f "$script" ] || die "script $script not found"
	if ! [[ $timeout =~ ^[0-9]+$ ]] || [ "$timeout" -eq 0 ]; then
		die "--timeout wants a positive number of seconds, not '$timeout'"
	fi
	need qemu-system-x86_64 qemu-system-x86
	need cpio cpio
	if [ -n "$netns" ]; then
		need ip iproute2
		[ -e "/run/netns/$netns" ] || die "network namespace $netns does not exist (ip netns list)"
	fi
	ensure_vm

	local dir=$VM_CACHE/$KVER nonce log start rc line
	RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/samba-ca-vm.XXXXXX")
	trap run_cleanup EXIT
	trap 'note "interrupted: stopping the VM"; exit 130' INT
	trap 'note "terminated: stopping the VM"; exit 143' TERM
	nonce=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	log=$RUN_TMP/console.log

	# The script travels in a second cpio archive appended to the initramfs.
	mkdir -p "$RUN_TMP/extra/vm"
	cp "$script" "$RUN_TMP/extra/vm/script"
	chmod 755 "$RUN_TMP/extra/vm/script"
	(cd "$RUN_TMP/extra" && find . -print0 | cpio --null -o -H newc --owner=0:0 --quiet) |
		gzip -1n >"$RUN_TMP/extra.cpio.gz"
	cat "$dir/initramfs.gz" "$RUN_TMP/extra.cpio.gz" >"$RUN_TMP/initrd.gz"

	# Software emulation by default (the design's measured setup); KVM when
	# asked for with SAMBA_CA_VM_ACCEL=kvm (then with the host's CPU model:
	# trixie's kernel uses BMI2 instructions that qemu64 lacks under KVM).
	local -a accel_opts=()
	case $accel in
	tcg | auto) accel_opts=(-accel tcg) ;;
	kvm) accel_opts=(-accel kvm -cpu host) ;;
	*) die "SAMBA_CA_VM_ACCEL must be tcg or kvm, not '$accel'" ;;
	esac
	# Kernel messages: errors only, unless SAMBA_CA_VM_DEBUG=1.
	local kmsg="quiet loglevel=4"
	[ "${SAMBA_CA_VM_DEBUG:-0}" = 0 ] || kmsg="loglevel=7"
	# Another kernel image (the RDMA kernel of kernel/build-kernel.sh: all
	# built in, so the initramfs's modules do not load and need not).
	local kimage=${SAMBA_CA_VM_KERNEL_IMAGE:-$dir/root/boot/vmlinuz-$KVER}
	[ -f "$kimage" ] || die "kernel image $kimage not found"
	local -a qemu=(
		qemu-system-x86_64 "${accel_opts[@]}"
		-m "${SAMBA_CA_VM_MEM:-512}" -smp 1
		-nographic -no-reboot -serial mon:stdio
		-kernel "$kimage"
		-initrd "$RUN_TMP/initrd.gz"
		-append "console=ttyS0 panic=-1 $kmsg vm_nonce=$nonce vm_ip=$VM_IP vm_gw=$VM_HOST vm_prefix=${VM_NET#*/}"
		-netdev "user,id=net0,net=$VM_NET,host=$VM_HOST,ipv6=off"
		-device "e1000,netdev=net0,romfile="
	)
	# The host's root, read-only, as 9p tag "hostroot" (the guest script
	# mounts it and an overlay: rdma-guest.sh).
	[ "${SAMBA_CA_VM_HOSTFS:-0}" = 0 ] ||
		qemu+=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on")
	[ -z "$netns" ] || qemu=(ip netns exec "$netns" "${qemu[@]}")

	: >"$log"
	start=$(date +%s.%N)
	"${qemu[@]}" </dev/null >"$log" 2>&1 &
	QEMU_PID=$!
	if [ "$quiet" = 0 ]; then
		# tail ends by itself (--pid) about a second after qemu; sed -u keeps
		# the stream unbuffered when stdout is a pipe or a file.
		tail -n +1 -f --pid="$QEMU_PID" "$log" | sed -u 's/\r//g' &
		TAIL_PID=$!
	fi

	local deadline=$((SECONDS + timeout)) timed_out=0 ready_at=
	while kill -0 "$QEMU_PID" 2>/dev/null; do
		if [ -z "$ready_at" ] && grep -aq "SAMBA_CA_VM_READY $nonce" "$log"; then
			ready_at=$(date +%s.%N)
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			timed_out=1
			kill -KILL "$QEMU_PID" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	rc=0
	wait "$QEMU_PID" 2>/dev/null || rc=$?
	QEMU_PID=
	if [ -n "$TAIL_PID" ]; then
		wait "$TAIL_PID" 2>/dev/null || true
		TAIL_PID=
	fi
	local elapsed
	elapsed=$(secs_since "$start")
	[ -z "$logcopy" ] || tr -d '\r' <"$log" >"$logcopy"

	local ready=0 boot_s=
	grep -aq "SAMBA_CA_VM_READY $nonce" "$log" && ready=1
	line=$(tr -d '\r' <"$log" | grep -ao "SAMBA_CA_VM_EXIT $nonce [0-9]*" | tail -n1 || true)
	if [ "$timed_out" = 1 ]; then
		if [ "$ready" = 1 ]; then
			note "VM timed out after $timeout s running $script (the script hung; VM killed)"
		else
			note "VM did not boot within $timeout s (no ready marker on the console; VM killed; SAMBA_CA_VM_DEBUG=1 shows the kernel's messages): last lines:"
			tr -d '\r' <"$log" | tail -n 15 | sed 's/^/  | /' >&2
		fi
		return "$RC_TIMEOUT"
	fi
	if [ -z "$line" ]; then
		if [ "$ready" = 1 ]; then
			note "VM stopped before $script reported an exit status (qemu exit $rc): last lines:"
		else
			note "VM did not boot (qemu exit $rc, no ready marker; SAMBA_CA_VM_DEBUG=1 shows the kernel's messages): last lines:"
		fi
		tr -d '\r' <"$log" | tail -n 15 | sed 's/^/  | /' >&2
		return "$RC_VMFAIL"
	fi
	rc=${line##* }
	[ -z "$ready_at" ] || boot_s=$(secs_since "$start" "$ready_at")
	note "VM ran $script: exit status $rc; ${elapsed} s in all${boot_s:+, boot ${boot_s} s} (kernel $KVER${netns:+, netns $netns})"
	return "$rc"
}

cmd_prepare() {
	[ $# -eq 0 ] || usage
	mkdir -p "$VM_CACHE"
	KVER=
	ensure_vm
	note "VM ready: kernel $KVER, initramfs $VM_CACHE/$KVER/initramfs.gz"
}

cmd_info() {
	local kver
	kver=$(cached_kernel) || die "no VM built yet in $VM_CACHE (run: $0 build)"
	echo "kernel:    $kver"
	echo "packages:  $(tr '\n' ' ' <"$VM_CACHE/$kver/kernel.stamp")"
	echo "vmlinuz:   $VM_CACHE/$kver/root/boot/vmlinuz-$kver"
	echo "initramfs: $VM_CACHE/$kver/initramfs.gz"
	echo "network:   guest $VM_IP, host $VM_HOST (qemu user net $VM_NET)"
}

main() {
	[ $# -gt 0 ] || usage
	local cmd=$1
	shift
	case $cmd in
	build) cmd_build "$@" ;;
	run) cmd_run "$@" ;;
	prepare) cmd_prepare "$@" ;;
	info) cmd_info "$@" ;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
}

main "$@"
