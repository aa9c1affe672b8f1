#!/usr/bin/env bash
# samba-ca test suite entry: the SMB Direct listener (smbdirect/relay.h,
# listener.h) relaying to the real smbd through patch 0018's
# "smbd:listener socket", with the project's client (smbclient3) over the
# loopback transport (sca_smbdirect_loopback: client, listener and
# loopback queue pairs in one process; smbd is the built one).
#
#  1. Stock control: smbd without "smbd:listener socket": the relay cannot
#     hand the negotiated connection to smbd; the transfer must fail for
#     that reason (the listener's log line names the socket), nothing
#     earlier.
#  2. With the socket: dialects 3.0, 3.0.2, 3.1.1 signed, 3.0 and 3.1.1
#     sealed, and odd fragment sizes (send 1000 / receive 700): negotiate,
#     session setup, tree connect, a 4 MiB file written and read back
#     (sha256 equal), the same file read by Samba's smbclient over TCP
#     (sha256 equal), smbd's log naming the passed connection.
#  3. Bad SMB Direct input through the listener while a good connection
#     stays up: wrong version, too-small receive and fragmented sizes, a
#     truncated negotiate, an over-long data message, a remaining length
#     that does not add up, a message longer than the posted receive,
#     and a client gone mid-session (a file open, 1 MiB written):
#     each connection dropped with a log line naming why; then the good
#     connection and a new one transfer files; smbd's parent still runs.
#  4. Bad input on smbd's listener socket (python3): a short message, a
#     bad magic, no file descriptor: each dropped with smbd's log line,
#     smbd still serves TCP.
#  5. The listener's smb.conf options (samba_ca_smbdirect_listener
#     --check): a good file read as written; bad values and an unknown
#     option refused naming the line; the man page built and listing
#     every option.
#
# Root (the test user, loopback address).  Exit 0 pass, 1 fail.

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
	echo "smbdirect_listener: no built smbd (source .build/samba.env)" >&2
	exit 1
fi
# shellcheck source=../lib/smbd.sh
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"

tool=${SCA_SMBDIRECT_LOOPBACK:-$SAMBA_TREE/bin/default/samba-ca/smbdirect/sca_smbdirect_loopback}
if [ ! -x "$tool" ]; then
	echo "smbdirect_listener: $tool not built" >&2
	exit 1
fi

addr=${SCA_SMBDIRECT_ADDR:-127.0.0.38}
work=$(mktemp -d "${TMPDIR:-/tmp}/sd_listener.XXXXXX")
dir="$work/smbd"
mkdir -p "$dir"
chmod 755 "$work"
sock="$dir/run/listener.sock"
cleanup() {
	smbd_stop "$dir"
	rm -rf "$work"
}
trap cleanup EXIT

pass=0
fail=0
ok() {
	pass=$((pass + 1))
	echo "ok: $*"
}
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}
start=$(date +%s)

# --- 1. stock control ------------------------------------------------------
if ! smbd_setup "$dir" "$addr" "	log level = 3"; then
	echo "smbdirect_listener: smbd_setup failed" >&2
	exit 1
fi
smbd_start "$dir" "$addr" || exit 1
out=$("$tool" --smbd-socket "$sock" --share plain -U "$SCA_USER%$SCA_PASS" \
	--size 65536 transfer stock.bin 2>&1)
rc=$?
echo "$out" | sed 's/^/  stock: /'
if [ $rc -ne 0 ] && grep -q "dropped: transport error: connect to smbd at $sock: No such file or directory" <<<"$out"; then
	ok "stock smbd (no listener socket): the negotiated connection could not be passed (connect: no such file)"
else
	bad "stock smbd: expected the hand-over to fail for want of the listener socket (rc $rc)"
fi
smbd_stop "$dir"

# --- 2. transfers through the listener -----------------------------------------
if ! smbd_setup "$dir" "$addr" "	log level = 3
	smbd:listener socket = $sock"; then
	echo "smbdirect_listener: smbd_setup failed" >&2
	exit 1
fi
smbd_start "$dir" "$addr" || exit 1
if [ "$(stat -c %a "$sock" 2>/dev/null)" = 600 ]; then
	ok "smbd listens on $sock (mode 0600)"
else
	bad "no listener socket $sock with mode 0600"
fi

n=0
while read -r label opts; do
	n=$((n + 1))
	name="sd$n.bin"
	# shellcheck disable=SC2086
	out=$("$tool" --smbd-socket "$sock" --share plain -U "$SCA_USER%$SCA_PASS" \
		--size 4194304 $opts transfer "$name" 2>&1)
	rc=$?
	echo "$out" | sed "s/^/  $label: /"
	sum=$(echo "$out" | sed -n 's/.*: wrote 4194304 bytes sha256 \([0-9a-f]*\), read 4194304 bytes sha256 \1$/\1/p')
	if [ $rc -ne 0 ] || [ -z "$sum" ]; then
		bad "$label: transfer through the listener (rc $rc)"
		continue
	fi
	case "$opts" in
	*--seal*) grep -q '(sealed)' <<<"$out" || { bad "$label: not sealed"; continue; } ;;
	*) grep -q 'signing .* (active)' <<<"$out" || { bad "$label: signing not active"; continue; } ;;
	esac
	rm -f "$work/$name"
	sca_smbclient "$dir" "$addr" plain "get $name $work/$name" >/dev/null 2>&1
	tcp=$(sha256sum "$work/$name" 2>/dev/null | cut -d' ' -f1)
	if [ "$tcp" = "$sum" ]; then
		ok "$label: 4 MiB written and read back over SMB Direct (sha256 ${sum:0:16}...), same over TCP"
	else
		bad "$label: smbclient over TCP read sha256 '${tcp:0:16}', SMB Direct wrote ${sum:0:16}"
	fi
done <<'CASES'
3.0-signed --dialect 3.0
3.0.2-signed --dialect 3.0.2
3.1.1-signed --dialect 3.1.1
3.0-sealed --dialect 3.0 --seal
3.1.1-sealed --dialect 3.1.1 --seal
3.1.1-odd-fragments --dialect 3.1.1 --send-size 1000 --receive-size 700
CASES

passed=$(grep -c 'passed by the listener (transport SMB Direct)' "$dir/log.smbd" 2>/dev/null)
if [ "${passed:-0}" -ge 6 ]; then
	ok "smbd logged $passed connections passed by the listener"
else
	bad "smbd logged ${passed:-0} passed connections, expected at least 6"
fi

# --- 3. bad SMB Direct input through the listener ---------------------------------
parent=$(cat "$dir/smbd.pid")
out=$("$tool" --smbd-socket "$sock" --share plain -U "$SCA_USER%$SCA_PASS" \
	--size 1048576 --dialect 3.1.1 badinput bad.bin 2>&1)
rc=$?
echo "$out" | sed 's/^/  badinput: /'
for c in "wrong version:bad version" "too-small receive size:bad size" \
	"too-small fragmented size:bad size" \
	"truncated negotiate:truncated message" \
	"over-long data message:oversize message" \
	"remaining length that does not add up:reassembly error" \
	"data message longer than the posted receive:transport error"; do
	label=${c%%:*}
	code=${c#*:}
	if grep -q "^$label: connection [0-9]* dropped: $code" <<<"$out" &&
		grep -q "^listener: smbdirect: connection [0-9]* from .* dropped: $code" <<<"$out"; then
		ok "bad input ($label): dropped, log line says $code"
	else
		bad "bad input ($label): no drop for '$code' with a log line"
	fi
done
if grep -q '^disconnect mid-session: connection [0-9]* dropped: transport error' <<<"$out"; then
	ok "a client gone mid-session (file open, 1 MiB written): its connection dropped with a log line"
else
	bad "a client gone mid-session: no drop"
fi
if [ $rc -eq 0 ] && grep -q '^good after bad input: .*sha256 \([0-9a-f]*\), read .* sha256 ' <<<"$out" &&
	grep -q '^new after bad input: ' <<<"$out"; then
	ok "after the bad input the good connection and a new one transferred files"
else
	bad "transfers after the bad input (rc $rc)"
fi
if kill -0 "$parent" 2>/dev/null; then
	ok "smbd's parent ($parent) still runs"
else
	bad "smbd's parent is gone"
fi

# --- 4. bad input on smbd's listener socket --------------------------------------
python3 - "$sock" <<'PY'
import os, socket, struct, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    return s
# a short message
s = conn(); s.send(b"x" * 10); time.sleep(0.2); s.close()
# the right size, a bad magic, one fd
size = 8 + 2 * 128
a, b = socket.socketpair()
s = conn()
s.sendmsg([b"\0" * size], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", b.fileno()))])
time.sleep(0.2); s.close(); a.close(); b.close()
# the right magic, no fd
s = conn(); s.send(struct.pack("<II", 0x31434d53, 1) + b"\0" * 256); time.sleep(0.2); s.close()
PY
sleep 0.5
for re in "listener connection: message of 10 bytes, expected 264: dropped" \
	"listener connection: bad magic 0x00000000: dropped" \
	"listener connection: 0 file descriptors passed, expected 1: dropped"; do
	if grep -q "$re" "$dir/log.smbd"; then
		ok "smbd: $re"
	else
		bad "smbd did not log: $re"
	fi
done
echo tcp-check >"$work/tcp.txt"
if kill -0 "$parent" 2>/dev/null &&
	sca_smbclient "$dir" "$addr" plain "put $work/tcp.txt tcp.txt" >/dev/null 2>&1; then
	ok "smbd still serves TCP after the bad input"
else
	bad "smbd does not serve TCP after the bad input"
fi

# --- 5. the listener's smb.conf options and man page ----------------------------
lst=$SAMBA_TREE/bin/default/samba-ca/smbdirect/samba_ca_smbdirect_listener
printf '[global]\n\tsmbd:listener socket = %s\n\tsmbdirect:enable = yes\n\tsmbdirect:max fragmented size = 1048576\n\tsmbdirect:receive credit max = 64\n' \
	"$sock" >"$work/good.conf"
if out=$("$lst" -s "$work/good.conf" --check 2>&1) &&
	grep -q "enable yes, smbd socket $sock, send 1364 receive 1364 fragmented 1048576 read/write 1048576, credits 64/255" <<<"$out"; then
	ok "listener --check reads the options: $out"
else
	bad "listener --check on a good smb.conf: $out"
fi
while IFS='|' read -r line want; do
	printf '[global]\n\tsmbd:listener socket = %s\n\tsmbdirect:enable = yes\n\t%s\n' "$sock" "$line" >"$work/bad.conf"
	out=$("$lst" -s "$work/bad.conf" --check 2>&1)
	rc=$?
	if [ $rc -eq 1 ] && grep -q "$want" <<<"$out"; then
		ok "bad option '$line' refused: ${out#* }"
	else
		bad "bad option '$line': rc $rc, $out"
	fi
done <<'BADOPTS'
smbdirect:max receive size = 64|max receive size 64 is below 128
smbdirect:max fragmented size = 4096|max fragmented size 4096 is below 131072
smbdirect:receive credit max = 0|credit limits must be above 0
smbdirect:max fragmented size = 99999999|malformed message: .*bad.conf:4: not a number up to 16777215
smbdirect:ports = 5445 0|malformed message: .*bad.conf:4: port 0
smbdirect:enable = perhaps|malformed message: .*bad.conf:4: not a boolean
smbdirect:max sned size = 2000|malformed message: .*bad.conf:4: unknown option smbdirect:maxsnedsize
BADOPTS
printf '[global]\n\tsmbdirect:enable = yes\n' >"$work/nosock.conf"
if ! out=$("$lst" -s "$work/nosock.conf" --check 2>&1) &&
	grep -q 'smbdirect:enable = yes needs smbd:listener socket' <<<"$out"; then
	ok "enable without smbd:listener socket refused"
else
	bad "enable without smbd:listener socket: $out"
fi
page=$SAMBA_TREE/bin/default/samba-ca/docs/samba_ca_smbdirect_listener.8
missing=
for opt in "smbd:listener socket" "smbdirect:enable" "smbdirect:ports" \
	"smbdirect:receive credit max" "smbdirect:send credit target" \
	"smbdirect:max send size" "smbdirect:max receive size" \
	"smbdirect:max fragmented size" "smbdirect:max read write size" \
	"smbdirect:idle timeout"; do
	grep -qF "$opt" "$page" 2>/dev/null || missing="$missing '$opt'"
done
# (Samba's XSLT cuts the .TH title to 20 characters)
if grep -q '^\.TH "SAMBA_CA_SMBDIRECT_L[A-Z_]*" "8"' "$page" 2>/dev/null && [ -z "$missing" ]; then
	ok "man page $page built by waf and documents every option"
else
	bad "man page $page: not built or missing$missing"
fi

echo "smbdirect_listener: $pass passed, $fail failed in $(($(date +%s) - start)) s"
[ $fail -eq 0 ]
