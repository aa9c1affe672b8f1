#!/bin/bash
# samba-ca: build the RDMA VM kernel (CIFS_SMB_DIRECT, RDMA_RXE,
# SMB_SERVER_SMBDIRECT, 9p, overlay) from Debian's linux-source-6.12, trimmed
# (tinyconfig + rdma.config, everything built in), cached under
#   $SAMBA_CA_CACHE/vm/rdma-kernel/<source version>-<config hash>/bzImage
# shared by everyone on the machine; a cached image is reused, never deleted.
#
#   build-kernel.sh [--print-dir]
# Env: SAMBA_CA_CACHE, SAMBA_CA_JOBS (default 2).  Runs make at nice 19.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${SAMBA_CA_CACHE:-/var/cache/samba-ca}/vm
jobs=${SAMBA_CA_JOBS:-2}
pkg=linux-source-6.12
kb=$cache/kbuild
mkdir -p "$kb"
cd "$kb"
deb=$(ls -1 "$kb"/${pkg}_*_all.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	apt-get download "$pkg" >&2
	deb=$(ls -1 "$kb"/${pkg}_*_all.deb | tail -1)
fi
ver=$(dpkg-deb -f "$deb" Version)
hash=$( (cat "$here/rdma.config"; echo "$ver") | sha256sum | cut -c1-12)
out=$cache/rdma-kernel/$ver-$hash
if [ "${1:-}" = --print-dir ]; then echo "$out"; exit 0; fi
if [ -f "$out/bzImage" ]; then
	echo "build-kernel: cached $out/bzImage" >&2
	echo "$out"
	exit 0
fi
exec 9>"$kb/.lock"
flock 9
src=$kb/src-$ver
if [ ! -d "$src/linux" ]; then
	rm -rf "$src.tmp" && mkdir -p "$src.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$src.tmp" --wildcards '*.tar.xz'
	tar -xf "$src.tmp"/usr/src/linux-source-*.tar.xz -C "$src.tmp"
	mv "$src.tmp"/linux-source-*/ "$src.tmp/linux"
	rm -rf "$src.tmp/usr"
	mv "$src.tmp" "$src"
fi
obj=$kb/obj-$ver-$hash
mkdir -p "$obj"
start=$(date +%s)
cd "$src/linux"
nice -n 19 make -s O="$obj" tinyconfig >&2
KCONFIG_CONFIG=$obj/.config scripts/kconfig/merge_config.sh -m -O "$obj" \
	"$obj/.config" "$here/rdma.config" >&2
nice -n 19 make -s O="$obj" olddefconfig >&2
# every line of the fragment must have survived olddefconfig
missing=0
while IFS= read -r l; do
	case "$l" in CONFIG_*=y) grep -qx "$l" "$obj/.config" || { echo "build-kernel: not set: $l" >&2; missing=1; } ;; esac
done <"$here/rdma.config"
[ $missing = 0 ] || { echo "build-kernel: config incomplete (see above)" >&2; exit 1; }
nice -n 19 make -s O="$obj" -j"$jobs" bzImage >&2
mkdir -p "$out.tmp"
cp "$obj/arch/x86/boot/bzImage" "$obj/.config" "$out.tmp/"
echo "$ver $(($(date +%s) - start))s jobs=$jobs" >"$out.tmp/build.stamp"
mv "$out.tmp" "$out"
echo "build-kernel: built $out in $(($(date +%s) - start)) s" >&2
echo "$out"
