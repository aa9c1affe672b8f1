#!/usr/bin/env bash
# Bad input to the base build (buildtools/samba-base.sh): each case must stop
# with one clear line and leave no half-made tree behind.  Runs the script
# with --no-build against a scratch cache seeded from the real one.
set -uo pipefail

real_cache=${SAMBA_CA_CACHE:-/var/cache/samba-ca}
scratch=$(mktemp -d /var/tmp/samba-ca-basebad.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
failures=0
checks=0

# A fake checkout: our build script and patches, nothing else.
mkcheckout() {
	local co=$1
	mkdir -p "$co"
	cp -r "$SAMBA_CA_TOP/buildtools" "$SAMBA_CA_TOP/patches" "$co/"
	cp "$SAMBA_CA_TOP/wscript" "$co/"
}

# seed CACHE VERSION: reuse the real cache's download of VERSION.
seed() {
	mkdir -p "$1/src"
	cp -al "$real_cache/src/$2" "$1/src/" 2>/dev/null ||
		cp -a "$real_cache/src/$2" "$1/src/"
}

# expect NAME PATTERN CMD...: CMD must fail and say PATTERN.
expect() {
	local name=$1 pattern=$2 out rc
	shift 2
	checks=$((checks + 1))
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && printf '%s\n' "$out" | grep -q -- "$pattern"; then
		echo "ok: $name: $(printf '%s\n' "$out" | grep -- "$pattern" | head -1)"
	else
		echo "FAIL: $name (exit $rc), output:"
		printf '%s\n' "$out" | tail -5
		failures=$((failures + 1))
	fi
}

# no_tree CACHE: no build tree and no unpack leftovers in CACHE.
no_tree() {
	checks=$((checks + 1))
	if ls -d "$1"/build/samba-* "$1"/build/unpack.* >/dev/null 2>&1; then
		echo "FAIL: $2 left a tree behind: $(ls -d "$1"/build/*)"
		failures=$((failures + 1))
	else
		echo "ok: $2 left no tree"
	fi
}

version=$SAMBA_VERSION

# 1. Not root.
co=$scratch/co1
mkcheckout "$co"
chmod -R a+rX "$scratch"
expect "not root" "must run as root" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	env SAMBA_CA_CACHE="$scratch/c1" bash "$co/buildtools/samba-base.sh" --no-build

# 2. A tampered tarball of a tested version.
cache=$scratch/c2
seed "$cache" "$version"
orig=$(ls "$cache/src/$version"/samba_*.orig.tar.xz)
cp --remove-destination "$orig" "$orig.tmp" && mv "$orig.tmp" "$orig"
printf 'x' >>"$orig"
expect "tampered tarball" "is not the tested one" \
	env SAMBA_CA_CACHE="$cache" SAMBA_CA_VERSION="$version" \
	bash "$co/buildtools/samba-base.sh" --no-build
no_tree "$cache" "tampered tarball"

# 3. A patch that does not apply.
co=$scratch/co3
mkcheckout "$co"
cat >"$co/patches/9999-does-not-apply.patch" <<'PATCH'
--- a/source3/smbd/close.c
+++ b/source3/smbd/close.c
@@ -1,3 +1,3 @@
-this line is not in close.c
+nor is this one
 and neither
 is this
PATCH
cache=$scratch/c3
seed "$cache" "$version"
expect "patch that does not apply" "patch 9999-does-not-apply.patch does not apply" \
	env SAMBA_CA_CACHE="$cache" SAMBA_CA_VERSION="$version" \
	bash "$co/buildtools/samba-base.sh" --no-build
no_tree "$cache" "patch that does not apply"

# 4. Another series.
expect "other series" "not of the supported series" \
	env SAMBA_CA_CACHE="$scratch/c4" SAMBA_CA_VERSION="2:4.21.4+dfsg-1" \
	bash "$SAMBA_CA_TOP/buildtools/samba-base.sh" --no-build

# 5. A version the archive does not have (as after Debian drops it, or with
#    no network to the archive): a clear error, nothing left in the cache.
cache=$scratch/c5
expect "version not in the archive" "could not fetch samba=2:4.22.999" \
	env SAMBA_CA_CACHE="$cache" SAMBA_CA_VERSION="2:4.22.999+dfsg-0+deb13u1" \
	bash "$SAMBA_CA_TOP/buildtools/samba-base.sh" --no-build
checks=$((checks + 1))
if ls -A "$cache/src" 2>/dev/null | grep -q .; then
	echo "FAIL: failed fetch left $(ls "$cache/src")"
	failures=$((failures + 1))
else
	echo "ok: failed fetch left nothing in the cache"
fi

# 6. The good case still works in the same scratch set-up (so the failures
#    above are the inputs', not the harness').
cache=$scratch/c6
seed "$cache" "$version"
checks=$((checks + 1))
if env SAMBA_CA_CACHE="$cache" SAMBA_CA_VERSION="$version" \
	bash "$scratch/co1/buildtools/samba-base.sh" --no-build >"$scratch/good.out" 2>&1 &&
	ls "$cache"/build/samba-*/.samba-ca-patched >/dev/null 2>&1; then
	echo "ok: the untouched inputs unpack and patch"
else
	echo "FAIL: the good case failed:"
	tail -5 "$scratch/good.out"
	failures=$((failures + 1))
fi

echo "$((checks - failures)) passed, $failures failed"
[ $failures -eq 0 ]
