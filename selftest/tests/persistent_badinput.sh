#!/usr/bin/env bash
# Bad reconnects of persistent handles on a vfs_persistent share, with the
# build's own Python SMB client (samba.samba3.libsmb):
#   a persistent open (DH2Q, SMB2_DHANDLE_FLAG_PERSISTENT, no oplock and no
#   lease, which the stock durable code would not even keep) is left
#   disconnected by killing its client (kill -9: no close, no tree
#   disconnect), then
#   - DH2C with a wrong create GUID            -> refused
#   - DH2C from another user                   -> refused
#   - DH2C on another CA share                 -> refused
#   - DH2C with the right values               -> reconnected (control)
#   - close of the reconnected handle          -> record removed
#   - DH2C after the open expired              -> refused, record removed
#   - record corrupted in the store            -> refused, log names the
#     record, smbd alive, another disconnected open still reconnects
#   - record truncated, record of version 99   -> refused, log names the
#     record, smbd serving
# smbtorture's own durable-v2 tests cover the same checks for durable (not
# persistent) opens: reopen1a (another client GUID... same user),
# reopen2b (wrong create GUID), reopen2c (DH2C with a v1 DHnQ open);
# they run in persistent_smbtorture.sh.
set -uo pipefail
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
. "$SAMBA_CA_TOP/selftest/tests/persistent_common.sh"

addr=127.0.0.24
user2=sambaca2
dir=$(mktemp -d /var/tmp/samba-ca-pbad.XXXXXX)
kids=()
cleanup() {
	local k
	for k in "${kids[@]}"; do
		kill -KILL "$k" 2>/dev/null
	done
	smbd_stop "$dir"
	echo "logs kept in $dir"
}
trap cleanup EXIT
fail=0

pst_setup "$dir" "$addr" "	log level = 1 vfs:5
	smb3 global cap:PERSISTENT HANDLES = yes" || exit 1
mkdir -p "$dir/ca2"
chmod 777 "$dir/ca2"
cat >>"$dir/smb.conf" <<CONF

[ca2]
	path = $dir/ca2
	read only = no
	vfs objects = persistent
CONF
if ! getent passwd "$user2" >/dev/null; then
	useradd --system --no-create-home --shell /usr/sbin/nologin "$user2" ||
		exit 1
fi
printf '%s\n%s\n' "$SCA_PASS" "$SCA_PASS" |
	"$SAMBA_BIN/smbpasswd" -c "$dir/smb.conf" -a -s "$user2" >/dev/null ||
	exit 1
smbd_start "$dir" "$addr" || exit 1
store="$dir/state/persistent.tdb"

export PYTHONPATH="$SAMBA_TREE/bin/python"
py=/usr/bin/python3
cat >"$dir/client.py" <<'PY'
import os, struct, sys, time, uuid
from samba import credentials, NTSTATUSError
from samba.samba3 import param as s3param
from samba.samba3 import libsmb_samba_internal as libsmb

FLAG_PERSISTENT = 2
conf, addr, pw = os.environ["PST_CONF"], os.environ["PST_ADDR"], os.environ["PST_PASS"]

def connect(user, share):
    lp = s3param.get_context()
    lp.load(conf)
    creds = credentials.Credentials()
    creds.guess(lp)
    creds.set_username(user)
    creds.set_password(pw)
    return libsmb.Conn(addr, share, lp, creds)

def cmd_open(user, share, name, guid, timeout_ms):
    c = connect(user, share)
    dh2q = struct.pack("<II8s16s", int(timeout_ms), FLAG_PERSISTENT,
                       b"\0" * 8, uuid.UUID(guid).bytes_le)
    fnum, cr, out = c.create_ex(name, DesiredAccess=0x12019f,
                                ShareAccess=7, CreateDisposition=5,
                                CreateContexts=[(b"DH2Q", dh2q)])
    granted = [v for (k, v) in out if k == b"DH2Q"]
    if not granted:
        print("open: no DH2Q response", flush=True)
        sys.exit(1)
    t, flags = struct.unpack("<II", granted[0][:8])
    print("open: %s granted timeout %u ms flags 0x%x (persistent=%s)" %
          (name, t, flags, bool(flags & FLAG_PERSISTENT)), flush=True)
    c.write(fnum, b"persistent data\n", 0)
    print("READY", flush=True)
    time.sleep(3600)

def cmd_reconnect(user, share, name, guid, pid, close):
    c = connect(user, share)
    dh2c = struct.pack("<QQ16sI", int(pid), 0, uuid.UUID(guid).bytes_le,
                       FLAG_PERSISTENT)
    try:
        fnum, cr, out = c.create_ex(name, DesiredAccess=0x12019f,
                                    ShareAccess=7, CreateDisposition=1,
                                    CreateContexts=[(b"DH2C", dh2c)])
    except NTSTATUSError as e:
        print("reconnect: refused 0x%08x %s" % (e.args[0] & 0xffffffff,
                                               e.args[1]))
        return
    data = c.read(fnum, 0, 64)
    print("reconnect: OK, reads %r" % data)
    if close == "close":
        c.close(fnum)
        print("reconnect: closed")

def cmd_touch(user, share):
    c = connect(user, share)
    c.list("")
    print("touch: tree connect to [%s] OK" % share)

globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
PY
export PST_CONF="$dir/smb.conf" PST_ADDR="$addr" PST_PASS="$SCA_PASS"

cat >"$dir/store.py" <<'PY'
import sys, tdb
db = tdb.open(sys.argv[2])
if sys.argv[1] == "ids":
    for k in db.keys():
        if k.startswith(b"PH/open/"):
            print(int(k[8:].decode(), 16))
elif sys.argv[1] == "corrupt":
    key = b"PH/open/%016x" % int(sys.argv[3])
    v = bytearray(db[key])
    v[len(v) // 2] ^= 0x5a
    db.transaction_start()
    db[key] = bytes(v)
    db.transaction_commit()
    print("corrupted byte %d of %d in %s" % (len(v) // 2, len(v), key.decode()))
elif sys.argv[1] == "truncate":
    key = b"PH/open/%016x" % int(sys.argv[3])
    v = db[key]
    db.transaction_start()
    db[key] = v[:len(v) // 3]
    db.transaction_commit()
    print("cut %s from %d to %d bytes" % (key.decode(), len(v), len(v) // 3))
elif sys.argv[1] == "version":
    # the record's version is the u16 after the 4-byte magic
    key = b"PH/open/%016x" % int(sys.argv[3])
    v = bytearray(db[key])
    v[4:6] = (99).to_bytes(2, "little")
    db.transaction_start()
    db[key] = bytes(v)
    db.transaction_commit()
    print("%s marked as record version 99" % key.decode())
PY

store_ids() { "$py" "$dir/store.py" ids "$store" 2>/dev/null | sort; }

# popen NAME GUID TIMEOUT-MS: a persistent open held by a client that is
# then killed; prints the new persistent id, waits for the disconnect.
popen() {
	local name=$1 guid=$2 timeout=$3 before after id out pid i
	before=$(store_ids)
	out="$dir/open-$name.out"
	"$py" "$dir/client.py" open "$SCA_USER" ca "$name" "$guid" "$timeout" \
		>"$out" 2>&1 &
	pid=$!
	kids+=("$pid")
	for i in $(seq 1 100); do
		grep -q READY "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q READY "$out"; then
		cat "$out" >&2
		return 1
	fi
	grep "^open:" "$out" >&2
	after=$(store_ids)
	id=$(comm -13 <(echo "$before") <(echo "$after") | head -1)
	if [ -z "$id" ]; then
		echo "no new record in $store" >&2
		return 1
	fi
	kill -KILL "$pid"
	for i in $(seq 1 100); do
		grep -q "persistent open $id disconnected" "$dir/log.smbd" && break
		sleep 0.1
	done
	if ! grep -q "persistent open $id disconnected" "$dir/log.smbd"; then
		echo "open $id not disconnected by smbd" >&2
		return 1
	fi
	echo "$id"
}

reconnect() {
	"$py" "$dir/client.py" reconnect "$@" 2>&1 | grep "^reconnect:"
}

expect_refused() {
	local what=$1
	shift
	local r
	r=$(reconnect "$@")
	echo "  $what: $r"
	case "$r" in
	*refused*) ;;
	*)
		echo "FAIL: $what was not refused"
		fail=1
		;;
	esac
}

in_store() { store_ids | grep -qx "$1"; }

g1=$(cat /proc/sys/kernel/random/uuid)
echo "== open 1 (guid $g1), client killed"
id1=$(popen f1.dat "$g1" 0) || { echo "FAIL: open 1"; exit 1; }
echo "  persistent id $id1 in the store, disconnected"

wrong=$(cat /proc/sys/kernel/random/uuid)
expect_refused "wrong create GUID" "$SCA_USER" ca f1.dat "$wrong" "$id1" keep
expect_refused "another user ($user2)" "$user2" ca f1.dat "$g1" "$id1" keep
expect_refused "another CA share [ca2]" "$SCA_USER" ca2 f1.dat "$g1" "$id1" keep
in_store "$id1" || { echo "FAIL: record $id1 gone after refusals"; fail=1; }

r=$(reconnect "$SCA_USER" ca f1.dat "$g1" "$id1" close)
echo "  right values: $r" | tr '\n' ' '
echo
case "$r" in
*"reconnect: OK"*"persistent data"*closed*) ;;
*)
	echo "FAIL: the right reconnect was refused (control)"
	fail=1
	;;
esac
if in_store "$id1"; then
	echo "FAIL: record $id1 still in the store after close"
	fail=1
else
	echo "  record $id1 removed by the close"
fi

g2=$(cat /proc/sys/kernel/random/uuid)
echo "== open 2 (guid $g2, timeout 2000 ms), client killed, wait 5 s"
id2=$(popen f2.dat "$g2" 2000) || { echo "FAIL: open 2"; exit 1; }
sleep 5
expect_refused "after expiry" "$SCA_USER" ca f2.dat "$g2" "$id2" keep
"$py" "$dir/client.py" touch "$SCA_USER" ca | sed 's/^/  /'
if in_store "$id2"; then
	echo "FAIL: expired record $id2 still in the store"
	fail=1
else
	echo "  expired record $id2 removed ($(grep -m1 -o "PH/open/[0-9a-f]* expired: removed" "$dir/log.smbd"))"
fi

# bad_record MODE NAME: a disconnected open whose record is damaged by
# MODE (corrupt, truncate, version): its reconnect is refused, a log line
# names the record, smbd keeps serving.
bad_record() {
	local mode=$1 name=$2 g id key
	g=$(cat /proc/sys/kernel/random/uuid)
	echo "== $name (guid $g), client killed, record: $mode"
	id=$(popen "$name" "$g" 0) || { echo "FAIL: open $name"; fail=1; return; }
	echo "  $("$py" "$dir/store.py" "$mode" "$store" "$id")"
	expect_refused "$mode record" "$SCA_USER" ca "$name" "$g" "$id" keep
	key=$(printf 'PH/open/%016x' "$id")
	if grep "refused" "$dir/log.smbd" | grep -q "$key"; then
		echo "  log: $(grep "refused" "$dir/log.smbd" | grep -m1 -o "reconnect.*$key.*")"
	else
		echo "FAIL: no log line naming $key"
		fail=1
	fi
	if kill -0 "$(cat "$dir/smbd.pid")" 2>/dev/null &&
		"$py" "$dir/client.py" touch "$SCA_USER" ca >/dev/null 2>&1; then
		echo "  smbd alive and serving"
	else
		echo "FAIL: smbd not serving after the $mode record"
		fail=1
	fi
}
g4=$(cat /proc/sys/kernel/random/uuid)
echo "== open 4 (guid $g4), client killed: must survive the bad records"
id4=$(popen f4.dat "$g4" 0) || { echo "FAIL: open 4"; exit 1; }
bad_record corrupt f3.dat
bad_record truncate f5.dat
bad_record version f6.dat
r=$(reconnect "$SCA_USER" ca f4.dat "$g4" "$id4" close)
echo "  open 4 (other record): $r" | tr '\n' ' '
echo
case "$r" in
*"reconnect: OK"*) ;;
*)
	echo "FAIL: open 4 did not reconnect"
	fail=1
	;;
esac

pst_smbd_healthy "$dir" || fail=1
[ $fail -eq 0 ] && echo "PASS" || echo "FAILED"
exit $fail
