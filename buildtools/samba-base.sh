#!/usr/bin/env bash
# Build the Samba base for samba-ca: fetch Samba 4.22 source from Debian's
# source packages, check it, unpack it into a cache keyed by version and
# patch series, apply patches/, link our tree in, configure and build.
#
# Usage: buildtools/samba-base.sh [--no-build]
#
# Environment:
#   SAMBA_CA_CACHE    cache directory (default /var/cache/samba-ca)
#   SAMBA_CA_VERSION  Debian source version to build (default: the newest
#                     4.22 among the deb-src entries)
#   SAMBA_CA_JOBS     parallel build jobs (default: cores + 1)
#   SAMBA_CA_APT_ETC  where the machine's apt sources are read from, to take
#                     the archive of the deb-src entries (default /etc/apt;
#                     buildtools/apt-archive.sh; the tests point it at
#                     fixtures)
#
# Writes .build/samba.env in the checkout: the tree, its bin/ and the
# version built, for the tests and the demo to source.
set -euo pipefail

# The whole script is one function, parsed before it runs: editing this file
# while a build runs cannot change what that build does.
main() {

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${SAMBA_CA_CACHE:-/var/cache/samba-ca}
versions_file="$top/buildtools/samba-versions.txt"
jobs=${SAMBA_CA_JOBS:-$(($(nproc) + 1))}
do_build=1
[ "${1:-}" = "--no-build" ] && do_build=0

say() { printf 'samba-base: %s\n' "$*" >&2; }
die() { printf 'samba-base: ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root: it installs build packages and writes $cache (try: sudo $0)"

# The archive and security archive of the deb-src entries are the ones this
# machine's apt uses (a local mirror or proxy included).
# shellcheck source=buildtools/apt-archive.sh
. "$top/buildtools/apt-archive.sh"
if ! apt_archive_find "${SAMBA_CA_APT_ETC:-/etc/apt}"; then
	while IFS= read -r line; do
		say "ERROR: $line"
	done <<<"$APT_ARCHIVE_ERROR"
	die "Samba's source comes from trixie in the same archives: add the entry named above and rerun"
fi

# --- packages ---------------------------------------------------------------
# Build dependencies of the non-AD-DC Samba build (DESIGN.md), ours (OpenSSL,
# rdma-core, cmocka) and the test tools (qemu, busybox, ctdb's event scripts,
# clang-14's libFuzzer for selftest/tests/fuzz_smoke.sh).
packages=(
	build-essential python3 python3-dev pkg-config dpkg-dev ccache
	libgnutls28-dev libacl1-dev libattr1-dev libpopt-dev libjansson-dev
	flex bison libparse-yapp-perl libtirpc-dev libbsd-dev zlib1g-dev
	libkrb5-dev libcmocka-dev libtasn1-bin libtasn1-6-dev libicu-dev
	libreadline-dev libarchive-dev xsltproc docbook-xsl libdbus-1-dev
	python3-pyasn1 python3-cryptography python3-dnspython python3-markdown
	python3-iso8601
	libssl-dev libibverbs-dev librdmacm-dev ibverbs-providers rdma-core
	iproute2 ethtool iptables tdb-tools procps psmisc
	qemu-system-x86 busybox-static xz-utils cpio
	clang-14 libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

src_list=/etc/apt/sources.list.d/samba-ca-trixie-src.sources
need_update=0
# Source entries only: binaries from trixie never go onto bookworm.  The file
# is rewritten when the machine's archives change.
src_entries="# samba-ca: Samba 4.22 source only (never binary packages from trixie)
Types: deb-src
URIs: $APT_ARCHIVE_URI
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: $APT_ARCHIVE_SECURITY_URI
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
if [ "$(cat "$src_list" 2>/dev/null)" != "$src_entries" ]; then
	say "deb-src entries for trixie from $APT_ARCHIVE_URI and $APT_ARCHIVE_SECURITY_URI in $src_list"
	printf '%s\n' "$src_entries" >"$src_list"
	need_update=1
fi
if ! apt-cache showsrc samba 2>/dev/null | grep '^Version: 2:4\.' >/dev/null; then
	need_update=1
fi
if [ ${#missing[@]} -gt 0 ] || [ $need_update = 1 ]; then
	say "apt-get update"
	if ! apt-get update >"$cache.apt-update.log" 2>&1 &&
		! apt-cache showsrc samba 2>/dev/null | grep '^Version: 2:4\.' >/dev/null; then
		die "cannot reach the archive (apt-get update failed for $APT_ARCHIVE_URI or $APT_ARCHIVE_SECURITY_URI, see $cache.apt-update.log); check the network and /etc/apt/sources.list.d"
	fi
fi
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${#missing[@]} packages: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends "${missing[@]}" >"$cache.apt-install.log" 2>&1; then
		tail -5 "$cache.apt-install.log" >&2
		die "could not install build packages (${missing[*]}); see $cache.apt-install.log"
	fi
fi
mkdir -p "$cache"

# --- which version ------------------------------------------------------------
series=$(awk '$1 == "series" { print $2 }' "$versions_file")
version=${SAMBA_CA_VERSION:-}
if [ -z "$version" ]; then
	for v in $(apt-cache showsrc samba 2>/dev/null | awk '/^Version:/ { print $2 }'); do
		case "$v" in
		2:"$series".*) ;;
		*) continue ;;
		esac
		if [ -z "$version" ] || dpkg --compare-versions "$v" gt "$version"; then
			version=$v
		fi
	done
	[ -n "$version" ] || die "no Samba $series.x among the deb-src entries (apt-cache showsrc samba); is trixie's deb-src entry in $src_list and apt-get update done?"
fi
upstream=${version#*:}
upstream=${upstream%%+*}
upstream=${upstream%%-*}
case "$upstream" in
"$series".*) ;;
*) die "Samba $upstream is not of the supported series $series; set SAMBA_CA_VERSION to a $series.x Debian source version (see $versions_file)" ;;
esac

# --- fetch and check ------------------------------------------------------------
srcdir="$cache/src/$version"
orig=$(ls "$srcdir"/samba_*.orig.tar.xz 2>/dev/null | head -1 || true)
if [ -z "$orig" ]; then
	tmp=$(mktemp -d "$cache/src.XXXXXX")
	say "fetching samba=$version from Debian's source archive"
	if ! (cd "$tmp" && apt-get source --download-only "samba=$version") \
		>"$tmp.log" 2>&1; then
		tail -3 "$tmp.log" >&2
		rm -rf "$tmp" "$tmp.log"
		die "could not fetch samba=$version (network to Debian's archive, or the version was removed from it: run 'apt-get update' and retry, or set SAMBA_CA_VERSION to one 'apt-cache showsrc samba' lists)"
	fi
	rm -f "$tmp.log"
	mkdir -p "$cache/src"
	rm -rf "$srcdir"
	mv "$tmp" "$srcdir"
	chmod 755 "$srcdir"
	orig=$(ls "$srcdir"/samba_*.orig.tar.xz)
fi
sha=$(sha256sum "$orig" | awk '{ print $1 }')
listed=$(awk -v v="$version" '$1 == "tested" && $2 == v { print $3 }' "$versions_file")
if [ -n "$listed" ]; then
	if [ "$sha" != "$listed" ]; then
		die "$orig has sha256 $sha but $versions_file lists $listed for $version: the file is not the tested one; delete $srcdir and rerun, and if it still differs do not build it"
	fi
else
	dsc_sha=$(awk '/^Checksums-Sha256:/ { f = 1; next } /^[^ ]/ { f = 0 } f && $3 ~ /orig\.tar\.xz$/ { print $1 }' "$srcdir"/*.dsc)
	[ "$sha" = "$dsc_sha" ] || die "$orig does not match its .dsc (sha256 $sha, .dsc says $dsc_sha); delete $srcdir and rerun"
	say "NOTICE: Samba $version is not in the tested list ($versions_file); building it anyway"
fi

# --- unpack and patch ------------------------------------------------------------
patch_hash=$(cat /dev/null "$top"/patches/*.patch 2>/dev/null | sha256sum | cut -c1-12)
tree="$cache/build/samba-$upstream-$patch_hash"
if [ ! -f "$tree/.samba-ca-patched" ]; then
	mkdir -p "$cache/build"
	tmp=$(mktemp -d "$cache/build/unpack.XXXXXX")
	say "unpacking $(basename "$orig")"
	tar -C "$tmp" -xf "$orig"
	utree=$(ls -d "$tmp"/samba-*/)
	for p in "$top"/patches/*.patch; do
		[ -f "$p" ] || continue
		if ! out=$(patch -d "$utree" -p1 --forward --batch <"$p" 2>&1); then
			printf '%s\n' "$out" >&2
			rej=$(find "$utree" -name '*.rej' | head -1)
			[ -n "$rej" ] && cat "$rej" >&2
			rm -rf "$tmp"
			die "patch $(basename "$p") does not apply to Samba $upstream (rejected hunk above); rebase it on $upstream"
		fi
	done
	touch "$utree/.samba-ca-patched"
	echo "$version" >"$utree/.samba-ca-version"
	rm -rf "$tree"
	mv "$utree" "$tree"
	rm -rf "$tmp"
fi

ln -sfn "$top" "$tree/samba-ca"
mkdir -p "$top/.build"
cat >"$top/.build/samba.env" <<EOF
SAMBA_TREE=$tree
SAMBA_BIN=$tree/bin
SAMBA_VERSION=$version
SAMBA_UPSTREAM=$upstream
SAMBA_SHA256=$sha
EOF

[ $do_build = 1 ] || exit 0

# One build at a time in a tree: tests, developers and CI may start several.
exec 9>"$tree/.samba-ca-build.lock"
if ! flock -n 9; then
	say "another build of $tree is running; waiting for it"
	flock 9
fi

# --- configure and build ------------------------------------------------------------
export CCACHE_DIR="$cache/ccache"
# Trees differ only by their patch series: let ccache reuse objects across
# them (paths below the tree are hashed relative to it).
export CCACHE_BASEDIR="$tree"
export CCACHE_NOHASHDIR=1
export PYTHON=/usr/bin/python3
export PYTHONHASHSEED=1
conf_flags=(
	--without-ad-dc --with-cluster-support --with-system-mitkrb5
	--without-ldap --without-ads --disable-cups --disable-iprint
	--without-pam --without-systemd --without-gpgme --without-json
	--without-ldb-lmdb --with-shared-modules='!vfs_snapper'
	--enable-selftest
)
conf_key=$( (echo "${conf_flags[*]}"; cat "$top/wscript") | sha256sum | cut -c1-16)
cd "$tree"
if [ "$(cat .samba-ca-configured 2>/dev/null)" != "$conf_key" ]; then
	say "configuring Samba $upstream (log: $tree/.samba-ca-configure.log)"
	start=$(date +%s)
	if ! CC="ccache gcc" CXX="ccache g++" ./configure "${conf_flags[@]}" \
		>.samba-ca-configure.log 2>&1; then
		tail -20 .samba-ca-configure.log >&2
		die "configure failed (last lines above; full log $tree/.samba-ca-configure.log)"
	fi
	echo "$conf_key" >.samba-ca-configured
	say "configured in $(($(date +%s) - start)) s"
fi
say "building Samba $upstream with samba-ca (log: $tree/.samba-ca-build.log)"
start=$(date +%s)
if ! ./buildtools/bin/waf build -j"$jobs" >.samba-ca-build.log 2>&1; then
	grep -E 'error|Error' .samba-ca-build.log | head -20 >&2
	tail -10 .samba-ca-build.log >&2
	die "build failed (errors above; full log $tree/.samba-ca-build.log)"
fi
say "built in $(($(date +%s) - start)) s: Samba $version ($tree)"
touch "$tree/.samba-ca-patched"

# Keep the three most recently built trees; older patch series go.
ls -dt "$cache"/build/samba-*/ 2>/dev/null | tail -n +4 | while read -r old; do
	old=${old%/}
	[ "$old" = "$tree" ] && continue
	say "removing old tree $old"
	rm -rf "$old"
done
}

main "$@"
