#!/usr/bin/env bash
# samba-ca test suite entry: the smbclient3 client (sca_smbclient) against
# the built smbd. For every dialect (2.0.2 .. 3.1.1), every signing
# algorithm and every cipher the server offers:
#   - put a random file with sca_smbclient, read it back with Samba's
#     smbclient, and the other way round: sha256 equal both ways;
#   - every signed response is verified by signing/ (the tool counts them;
#     a count of 0 fails), every encrypted one decrypted;
#   - a tampered response (one bit flipped before verification/decryption)
#     is refused with an authentication error;
# then a durable-handle reconnect (drop the connection mid-copy, reconnect,
# DH2C, finish) per 3.x dialect, a lock/unlock, and a persistent create on
# the [ca] share that must report the CA share capability and a DH2Q
# response with the persistent flag (and on [plain] neither).
#
# The runner sources .build/samba.env (SAMBA_TREE, SAMBA_BIN). Exit 0 pass,
# non-zero fail. SCA_CLIENT_ADDR (default 127.0.0.33) is the loopback
# address of the private smbd: 127.0.0.31 is used by other suites
# (vm_mount.sh) that may run at the same time.

set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
export SAMBA_CA_TOP=${SAMBA_CA_TOP:-$top}
if [ -z "${SAMBA_TREE:-}" ] && [ -f "$top/.build/samba.env" ]; then
	set -a
	# shellcheck disable=SC1091
	. "$top/.build/samba.env"
	set +a
fi
if [ -z "${SAMBA_TREE:-}" ] || [ ! -x "$SAMBA_BIN/smbd" ]; then
	echo "client_interop: no built smbd (source .build/samba.env)" >&2
	exit 1
fi
# shellcheck source=../lib/smbd.sh
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"

addr=${SCA_CLIENT_ADDR:-127.0.0.33}
work=$(mktemp -d "${TMPDIR:-/tmp}/client_interop.XXXXXX")
dir="$work/smbd"
# smbd serves the shares as the test user: it must reach them.
chmod 755 "$work"
cleanup() {
	smbd_stop "$dir"
	rm -rf "$work"
}
trap cleanup EXIT

# The tool: from the waf build, else built here from the sources.
tool="$SAMBA_TREE/bin/default/samba-ca/smbclient3/sca_smbclient"
if [ ! -x "$tool" ]; then
	tool=$(find "$SAMBA_TREE/bin/default" -type f -name sca_smbclient \
		-perm -u+x 2>/dev/null | head -n 1)
fi
if [ -z "$tool" ] || [ ! -x "$tool" ]; then
	echo "client_interop: sca_smbclient not in the Samba build; building it with g++"
	tool="$work/sca_smbclient"
	if ! g++ -std=c++17 -fno-exceptions -fno-rtti -O2 \
		-I"$top/signing" -I"$top/smbclient3" \
		"$top"/signing/{status,smb3_kdf,smb2_signing,smb2_transform,crypto_primitives}.cc \
		"$top"/smbclient3/{client_status,smb2_pdu,framing,transport,ntlmssp,client,sca_smbclient}.cc \
		-lcrypto -o "$tool"; then
		echo "client_interop: building sca_smbclient failed" >&2
		exit 1
	fi
fi
echo "client_interop: tool $tool, Samba ${SAMBA_VERSION:-?}, smbd on $addr"

# Durable handles need posix locking off in 4.22; persistent handles on
# [ca] (vfs_persistent) need the global capability.
if ! smbd_setup "$dir" "$addr" "	posix locking = no
	smb3 global cap:PERSISTENT HANDLES = yes"; then
	echo "client_interop: smbd_setup failed" >&2
	exit 1
fi
if ! smbd_start "$dir" "$addr"; then
	echo "client_interop: smbd_start failed" >&2
	exit 1
fi

cred="$SCA_USER%$SCA_PASS"
fails=0
cases=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
# The tool's error line, else its last line.
why() { grep -m1 '^sca_smbclient:' "$1" || tail -1 "$1"; }

# sc OUT ARGS...: run the tool on [plain], output in OUT.
sc() {
	local out=$1
	shift
	"$tool" "//$addr/plain" -U "$cred" "$@" >"$out" 2>&1
}

# smbc SHARE COMMANDS: Samba's smbclient.
smbc() {
	local share=$1
	shift
	"$SAMBA_BIN/smbclient" -s "$dir/smb.conf" -U "$cred" "//$addr/$share" \
		-m SMB3 -c "$*" >"$work/smbclient.out" 2>&1 || return 1
	# smbclient -c can exit 0 after a failed command.
	! grep -q "NT_STATUS_" "$work/smbclient.out"
}

# check_case NAME EXPECT_PROT ARGS...: put/get both ways, counters, tamper.
check_case() {
	local name=$1 expect=$2
	shift 2
	local f="$work/src.$name" back="$work/back.$name" out="$work/out.$name"
	cases=$((cases + 1))
	head -c $((1500000 + RANDOM)) /dev/urandom >"$f"
	if ! sc "$out" "$@" put "$f" "ours_$name"; then
		fail "$name: put: $(why "$out")"
		return
	fi
	if ! grep -q -- "$expect" "$out"; then
		fail "$name: expected '$expect' in:"
		sed 's/^/    /' "$out" >&2
		return
	fi
	local verified opened
	verified=$(sed -n 's/^signed responses verified: //p' "$out")
	opened=$(sed -n 's/^encrypted responses opened: //p' "$out")
	if [ "${verified:-0}" -eq 0 ] && [ "${opened:-0}" -eq 0 ]; then
		fail "$name: no response was verified or decrypted"
	fi
	rm -f "$back"
	if ! smbc plain "get ours_$name $back" || [ "$(sha "$f")" != "$(sha "$back")" ]; then
		fail "$name: smbclient reads a different file than sca_smbclient wrote" \
			"($(tail -1 "$work/smbclient.out"))"
		return
	fi
	# The other way: smbclient writes, we read.
	head -c $((700000 + RANDOM)) /dev/urandom >"$f.2"
	if ! smbc plain "put $f.2 theirs_$name"; then
		fail "$name: smbclient put: $(tail -1 "$work/smbclient.out")"
		return
	fi
	rm -f "$back"
	if ! sc "$out.get" "$@" get "theirs_$name" "$back"; then
		fail "$name: get: $(why "$out.get")"
		return
	fi
	if [ "$(sha "$f.2")" != "$(sha "$back")" ]; then
		fail "$name: sca_smbclient reads a different file than smbclient wrote"
		return
	fi
	# A flipped bit in a protected response must be refused.
	if ! sc "$out.tamper" "$@" tamper-test ||
		! grep -q "^tamper: detected (Authentication failed" "$out.tamper"; then
		fail "$name: tampered response not detected: $(grep -i tamper "$out.tamper")"
		return
	fi
	echo "ok: $name: $(grep -E '^(dialect|signing|cipher):' "$out" | tr '\n' ' ')" \
		"verified=$verified decrypted=$opened; sha256 equal both ways;" \
		"$(sed -n 's/^tamper: //p' "$out.tamper")"
}

# Signing: every dialect with its algorithm; 3.1.1 with each algorithm of
# SIGNING_CAPABILITIES offered alone (the server must pick it).
check_case smb202 "signing: HMAC-SHA256" --dialect 2.0.2
check_case smb21 "signing: HMAC-SHA256" --dialect 2.1
check_case smb30 "signing: AES-128-CMAC" --dialect 3.0
check_case smb302 "signing: AES-128-CMAC" --dialect 3.0.2
check_case smb311_hmac "signing: HMAC-SHA256 (negotiated)" --dialect 3.1.1 --sign hmac
check_case smb311_cmac "signing: AES-128-CMAC (negotiated)" --dialect 3.1.1 --sign cmac
check_case smb311_gmac "signing: AES-128-GMAC (negotiated)" --dialect 3.1.1 --sign gmac

# Encryption: 3.0/3.0.2 have AES-128-CCM; 3.1.1 each cipher offered alone.
check_case smb30_seal "cipher: AES-128-CCM (sealed)" --dialect 3.0 --seal
check_case smb302_seal "cipher: AES-128-CCM (sealed)" --dialect 3.0.2 --seal
check_case smb311_ccm128 "cipher: AES-128-CCM (sealed)" --dialect 3.1.1 --seal ccm128
check_case smb311_gcm128 "cipher: AES-128-GCM (sealed)" --dialect 3.1.1 --seal gcm128
check_case smb311_ccm256 "cipher: AES-256-CCM (sealed)" --dialect 3.1.1 --seal ccm256
check_case smb311_gcm256 "cipher: AES-256-GCM (sealed)" --dialect 3.1.1 --seal gcm256

# Durable v2 handle + lease v2, connection dropped halfway, reconnect with
# DH2C on a new connection and session, rest of the file written.
for d in 3.0 3.0.2 3.1.1; do
	cases=$((cases + 1))
	f="$work/src.rc$d"
	head -c 2000000 /dev/urandom >"$f"
	out="$work/out.rc$d"
	if ! sc "$out" --dialect "$d" --durable --lease reconnect-put "$f" "rc_$d"; then
		fail "reconnect $d: $(why "$out")"
		continue
	fi
	if ! grep -q "^open: durable=yes" "$out" ||
		! grep -q "^reconnect: reopened with DH2C, same file id: yes" "$out"; then
		fail "reconnect $d: no durable grant or reopen:"
		sed 's/^/    /' "$out" >&2
		continue
	fi
	rm -f "$work/back.rc"
	if ! smbc plain "get rc_$d $work/back.rc" ||
		[ "$(sha "$f")" != "$(sha "$work/back.rc")" ]; then
		fail "reconnect $d: file differs after the reconnect"
		continue
	fi
	echo "ok: reconnect $d: $(grep '^open:' "$out"); DH2C reopen, sha256 equal"
done

cases=$((cases + 1))
if sc "$work/out.lock" lock lockfile && grep -q "^lock: locked and unlocked" "$work/out.lock"; then
	echo "ok: lock/unlock"
else
	fail "lock: $(why "$work/out.lock")"
fi

# Bad arguments are refused with a clear message.
cases=$((cases + 1))
if "$tool" "//$addr/plain" -U "$cred" --dialect 3.1.2 info >"$work/out.bad" 2>&1; then
	fail "unknown dialect accepted"
elif grep -q "unknown dialect '3.1.2'" "$work/out.bad"; then
	echo "ok: unknown dialect refused: $(head -1 "$work/out.bad")"
else
	fail "unknown dialect: unclear message: $(head -1 "$work/out.bad")"
fi
cases=$((cases + 1))
if "$tool" "//$addr/plain" -U "$SCA_USER%wrong-password" info >"$work/out.pw" 2>&1; then
	fail "wrong password accepted"
elif grep -q "STATUS_LOGON_FAILURE" "$work/out.pw"; then
	echo "ok: wrong password refused: $(head -1 "$work/out.pw")"
else
	fail "wrong password: $(head -1 "$work/out.pw")"
fi

# The [ca] share (vfs_persistent): the tree connect announces CA and a
# persistent DH2Q create is granted persistent (the flag in the DH2Q
# response); the same create on [plain] (no CA) is not, so both checks
# can fail.
persistent_create() { # SHARE CA PERSISTENT: the flags it must report
	local share=$1 ca=$2 persistent=$3 out="$work/out.$1.persistent"
	cases=$((cases + 1))
	head -c 100000 /dev/urandom >"$work/src.$share.persistent"
	if ! "$tool" "//$addr/$share" -U "$cred" --dialect 3.1.1 --persistent \
		--lease put "$work/src.$share.persistent" persistent_file \
		>"$out" 2>&1; then
		fail "[$share] persistent create: put: $(why "$out")"
		return
	fi
	if ! grep -q "^share flags: .* CA=$ca\$" "$out"; then
		fail "[$share] persistent create: the share must report CA=$ca:" \
			"$(grep '^share flags' "$out" || echo 'no share flags line')"
		return
	fi
	if ! grep -q "^open: durable=yes persistent=$persistent " "$out"; then
		fail "[$share] persistent create: DH2Q response must say" \
			"persistent=$persistent: $(grep '^open:' "$out" || echo 'no open line')"
		return
	fi
	echo "ok: [$share] persistent create: $(grep '^share flags' "$out");" \
		"$(grep '^open:' "$out")"
}
persistent_create ca yes yes
persistent_create plain no no

echo "client_interop: $cases cases, $fails failed"
if [ "$fails" -ne 0 ]; then
	tail -20 "$dir/log.smbd" >&2
	exit 1
fi
exit 0
