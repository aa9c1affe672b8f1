#!/usr/bin/env bash
# The archives samba-ca adds apt sources for (trixie's deb-src entries in
# buildtools/samba-base.sh, the client VM's private apt state in
# selftest/vm/vm.sh) are those of the machine's own apt configuration:
# buildtools/apt-archive.sh against fixture apt configurations (one-line,
# deb822, a mirror, a missing security entry, no entry at all), then vm.sh
# and samba-base.sh against fixtures.  Needs no Samba build; the vm.sh and
# samba-base.sh cases need root.
set -uo pipefail

top=${SAMBA_CA_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
helper=$top/buildtools/apt-archive.sh
scratch=$(mktemp -d /var/tmp/samba-ca-aptsources.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
passed=0
failed=0

check() {
	if [ "$2" = yes ]; then
		echo "ok: $1"
		passed=$((passed + 1))
	else
		echo "FAIL: $1"
		failed=$((failed + 1))
	fi
}
yes_if() { if "$@"; then echo yes; else echo no; fi; }
has() { printf '%s\n' "$1" | grep -qF -- "$2"; }

# find ETC CODENAME: the helper in a fresh shell; prints "rc", "main URI",
# "security URI" and the error, one per line.
find_archives() {
	bash -c '. "$1" || exit 99
		apt_archive_find "$2" "$3"
		rc=$?
		printf "%s\n%s\n%s\n%s\n" "$rc" "$APT_ARCHIVE_URI" \
			"$APT_ARCHIVE_SECURITY_URI" "$APT_ARCHIVE_ERROR"' \
		find_archives "$helper" "$1" "$2" 2>&1
}

# expect_found NAME ETC CODENAME MAIN SECURITY
expect_found() {
	local name=$1 out rc main sec
	out=$(find_archives "$2" "$3")
	rc=$(sed -n 1p <<<"$out")
	main=$(sed -n 2p <<<"$out")
	sec=$(sed -n 3p <<<"$out")
	check "$name: found (rc $rc)" "$(yes_if test "$rc" = 0)"
	check "$name: archive $main (want $4)" "$(yes_if test "$main" = "$4")"
	check "$name: security archive $sec (want $5)" "$(yes_if test "$sec" = "$5")"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/    | /'
}

fixture() {
	mkdir -p "$scratch/$1/sources.list.d"
	echo "$scratch/$1"
}

# --- 1. one-line format, with options, comments and other suites
etc=$(fixture oneline)
cat >"$etc/sources.list" <<'EOF'
# deb http://commented.invalid/debian bookworm main
deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_]/ bookworm main
deb http://198.18.10.1/debian/ bookworm-updates main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://198.18.10.1/debian/ bookworm main contrib non-free-firmware # the archive
deb-src http://198.18.10.1/debian/ bookworm main
deb [ arch=amd64 ] http://198.18.10.2/debian-security bookworm-security contrib
deb [ arch=amd64 ] http://198.18.10.2/debian-security bookworm-security main
EOF
expect_found "one-line" "$etc" bookworm \
	http://198.18.10.1/debian http://198.18.10.2/debian-security

# --- 2. deb822, a disabled stanza, several suites, and our own file ignored
etc=$(fixture deb822)
cat >"$etc/sources.list.d/debian.sources" <<'EOF'
Types: deb
# a comment inside a stanza
URIs: http://198.18.20.1/debian
Suites: bookworm bookworm-updates
Components: main
 non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://198.18.20.9/debian-security
Suites: bookworm-security
Components: main
Enabled: no

types: deb deb-src
uris: http://198.18.20.2/debian-security/
suites: bookworm-security
components: main
EOF
cat >"$etc/sources.list.d/samba-ca-trixie-src.sources" <<'EOF'
Types: deb-src
URIs: http://198.18.20.99/debian
Suites: bookworm bookworm-security
Components: main
EOF
expect_found "deb822" "$etc" bookworm \
	http://198.18.20.1/debian http://198.18.20.2/debian-security

# --- 3. a local mirror (apt-cacher style) in a .list part, a mirror+file
# list for security, and a third-party source that must not be taken
etc=$(fixture mirror)
cat >"$etc/sources.list.d/agent.list" <<'EOF'
deb https://packages.vendor.invalid/apt stable main
EOF
cat >"$etc/sources.list.d/local-mirror.list" <<'EOF'
deb http://127.0.0.1:3142/ftp.example.invalid/debian bookworm main
EOF
cat >"$etc/sources.list.d/security.sources" <<'EOF'
Types: deb
URIs: mirror+file:///etc/apt/mirrors/debian-security.list
Suites: bookworm-security
Components: main
EOF
expect_found "mirror" "$etc" bookworm \
	http://127.0.0.1:3142/ftp.example.invalid/debian \
	mirror+file:///etc/apt/mirrors/debian-security.list

# --- 4. no security entry: the archive is found, the error names
# bookworm-security and only it
etc=$(fixture nosecurity)
printf 'deb http://198.18.40.1/debian bookworm main\n' >"$etc/sources.list"
out=$(find_archives "$etc" bookworm)
err=$(sed -n '4,$p' <<<"$out")
printf '%s\n' "$err" | sed 's/^/    | /'
check "no security entry: fails" "$(yes_if test "$(sed -n 1p <<<"$out")" = 1)"
check "no security entry: the archive is still found" \
	"$(yes_if test "$(sed -n 2p <<<"$out")" = http://198.18.40.1/debian)"
check "no security entry: the error names the missing entry" \
	"$(yes_if has "$err" "no apt source entry for suite bookworm-security with component main in $etc/sources.list or $etc/sources.list.d/")"
check "no security entry: the error says what to add" \
	"$(yes_if has "$err" "add one, e.g. the line 'deb <URI of the Debian security archive or your mirror of it> bookworm-security main' to $etc/sources.list")"
check "no security entry: one line, not about the archive" \
	"$(yes_if test "$(printf '%s\n' "$err" | grep -c .)" = 1)"

# --- 5. no entry at all: no sources.list, a part for another release only
etc=$(fixture none)
printf 'deb http://198.18.50.1/debian trixie main\n' >"$etc/sources.list.d/other.list"
out=$(find_archives "$etc" bookworm)
err=$(sed -n '4,$p' <<<"$out")
printf '%s\n' "$err" | sed 's/^/    | /'
check "no entry: fails" "$(yes_if test "$(sed -n 1p <<<"$out")" = 1)"
check "no entry: the error names suite bookworm" \
	"$(yes_if has "$err" "no apt source entry for suite bookworm with component main")"
check "no entry: and suite bookworm-security" \
	"$(yes_if has "$err" "no apt source entry for suite bookworm-security with component main")"
check "no entry: says what to add for the archive" \
	"$(yes_if has "$err" "'deb <URI of the Debian archive or your mirror of it> bookworm main'")"

# --- 6. the callers, against a fixture in the machine's release
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if [ "$(id -u)" != 0 ] || [ -z "$codename" ]; then
	echo "(vm.sh and samba-base.sh cases skipped: not root, or no VERSION_CODENAME)"
else
	# isolated CMD...: CMD in a network namespace of its own with only a
	# loopback: whatever it fetches, nothing leaves the machine.
	isolated() { unshare -n sh -c 'ip link set lo up && exec "$@"' isolated "$@"; }

	# vm.sh: its private apt sources name the fixture's archives; the
	# archives are unreachable loopback ports, so the build stops there.
	etc=$(fixture vm)
	printf 'deb http://127.0.0.1:9/debian %s main\ndeb http://127.0.0.1:9/debian-security %s-security main\n' \
		"$codename" "$codename" >"$etc/sources.list"
	out=$(isolated env -u SAMBA_CA_VM_MIRROR -u SAMBA_CA_VM_SECURITY_MIRROR \
		SAMBA_CA_APT_ETC="$etc" SAMBA_CA_CACHE="$scratch/vmcache" \
		timeout 120 bash "$top/selftest/vm/vm.sh" build 2>&1)
	vm_sources=$(cat "$scratch/vmcache/vm/apt/sources.list" 2>/dev/null)
	printf '%s\n' "$vm_sources" | sed 's/^/    sources.list | /'
	check "vm.sh: the VM's trixie entry is on the machine's archive" \
		"$(yes_if has "$vm_sources" " http://127.0.0.1:9/debian trixie main")"
	check "vm.sh: the VM's trixie-security entry is on the machine's security archive" \
		"$(yes_if has "$vm_sources" " http://127.0.0.1:9/debian-security trixie-security main")"

	# vm.sh without a security entry stops and says which one
	printf 'deb http://127.0.0.1:9/debian %s main\n' "$codename" >"$etc/sources.list"
	rm -rf "$scratch/vmcache"
	out=$(isolated env -u SAMBA_CA_VM_MIRROR -u SAMBA_CA_VM_SECURITY_MIRROR \
		SAMBA_CA_APT_ETC="$etc" SAMBA_CA_CACHE="$scratch/vmcache" \
		timeout 120 bash "$top/selftest/vm/vm.sh" build 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/    | /'
	check "vm.sh: no security entry: exit 2 (got $rc)" "$(yes_if test "$rc" = 2)"
	check "vm.sh: no security entry: says which" \
		"$(yes_if has "$out" "no apt source entry for suite $codename-security with component main")"
	check "vm.sh: no security entry: no apt sources written" \
		"$(yes_if test ! -e "$scratch/vmcache/vm/apt/sources.list")"

	# samba-base.sh with no entry stops before it touches apt (a copy of
	# the checkout's buildtools, so that nothing is written in ours).
	co=$scratch/co
	mkdir -p "$co"
	cp -r "$top/buildtools" "$top/patches" "$co/"
	etc=$(fixture base)
	src_list=/etc/apt/sources.list.d/samba-ca-trixie-src.sources
	before=$(cat "$src_list" 2>/dev/null)
	out=$(SAMBA_CA_APT_ETC="$etc" SAMBA_CA_CACHE="$scratch/basecache" \
		SAMBA_CA_VERSION=2:0.0.0 isolated timeout 120 bash "$co/buildtools/samba-base.sh" --no-build 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/    | /'
	check "samba-base.sh: no entry: fails (rc $rc)" "$(yes_if test "$rc" != 0)"
	check "samba-base.sh: no entry: names suite $codename" \
		"$(yes_if has "$out" "no apt source entry for suite $codename with component main")"
	check "samba-base.sh: no entry: names suite $codename-security" \
		"$(yes_if has "$out" "no apt source entry for suite $codename-security with component main")"
	check "samba-base.sh: no entry: $src_list untouched" \
		"$(yes_if test "$(cat "$src_list" 2>/dev/null)" = "$before")"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
