#!/bin/bash
# samba-ca: the RDMA VM's test (second stage, in the host's userland under
# an overlay; rdma-stage1.sh).  Soft-RoCE on eth0, the built smbd and the
# SMB Direct listener on the VM's address, and the kernel client (cifs.ko
# with CONFIG_CIFS_SMB_DIRECT) mounting through the listener with "rdma"
# and, for comparison, over TCP: 64 MiB written and read back, sha256.
#
#   rdma-stage2.sh SAMBA_BIN LISTENER WORKDIR USER PASS
# Prints "RESULT <label> <ok|fail> ..." lines for the host's test.
set -u
bin=$1 listener=$2 work=$3 user=$4 pass=$5
ip=${VM_IP:-198.18.200.15}
say() { echo "stage2: $*"; }
result() { echo "RESULT $*"; }

uname -r
grep -o 'CONFIG_CIFS_SMB_DIRECT' /proc/config.gz 2>/dev/null
ip link set lo up
if rdma link add rxe0 type rxe netdev eth0; then
	result rxe ok "$(rdma link show | tr '\n' ' ')"
else
	result rxe fail "rdma link add failed"
	exit 1
fi
ibv_devices 2>&1 | sed 's/^/  ibv: /'

d=$work/vm
mkdir -p "$d"/{private,lock,state,cache,run,ncalrpc,plain}
chmod 777 "$d/plain"
cat >"$d/smb.conf" <<CONF
[global]
	netbios name = SAMBACAVM
	workgroup = SAMBACA
	server role = standalone server
	interfaces = $ip/24
	bind interfaces only = yes
	smb ports = 445
	disable netbios = yes
	private dir = $d/private
	lock directory = $d/lock
	state directory = $d/state
	cache directory = $d/cache
	pid directory = $d/run
	ncalrpc dir = $d/ncalrpc
	log file = $d/log.smbd
	max log size = 0
	log level = 3
	passdb backend = tdbsam:$d/private/passdb.tdb
	server min protocol = SMB2_02
	load printers = no
	printcap name = /dev/null
	disable spoolss = yes
	smbd:listener socket = $d/run/listener.sock
	smbdirect:enable = yes
	smbdirect:ports = 5445 445

[plain]
	path = $d/plain
	read only = no
CONF
printf '%s\n%s\n' "$pass" "$pass" | "$bin/smbpasswd" -c "$d/smb.conf" -a -s "$user" >/dev/null
# Own session: smbd signals its whole process group when it stops.
setsid "$bin/smbd" --foreground --no-process-group --configfile="$d/smb.conf" </dev/null >"$d/smbd.out" 2>&1 &
smbd_pid=$!
for _ in $(seq 1 100); do
	[ -S "$d/run/listener.sock" ] && break
	sleep 0.2
done
setsid "$listener" -s "$d/smb.conf" >"$d/listener.log" 2>&1 &
lpid=$!
sleep 2
sed 's/^/  listener: /' "$d/listener.log"

dd if=/dev/urandom of=/tmp/src.bin bs=1M count=64 status=none
want=$(sha256sum /tmp/src.bin | cut -d' ' -f1)
mkdir -p /mnt/t
# cifs.ko sends READ/WRITE payload inline (no RDMA channel) when the
# session signs or seals; for the unsigned case the threshold is raised
# so that it does too (the listener does no RDMA READ/WRITE yet).
echo 1073741824 >/proc/fs/cifs/rdma_readwrite_threshold 2>/dev/null

run() {
	local label=$1 opts=$2 t0 t1 t2 got tr
	if ! mount -t cifs "//$ip/plain" /mnt/t -o "$opts,ip=$ip,username=$user,password=$pass,cache=none" 2>/tmp/mount.err; then
		result "$label" fail "mount: $(cat /tmp/mount.err)"
		return
	fi
	tr=$(grep -m1 -io 'smbdirect\|rdma transport\|TCP status' /proc/fs/cifs/DebugData | head -1)
	t0=$(date +%s.%N)
	cp /tmp/src.bin "/mnt/t/$label.bin" && sync
	t1=$(date +%s.%N)
	echo 3 >/proc/sys/vm/drop_caches
	got=$(sha256sum "/mnt/t/$label.bin" | cut -d' ' -f1)
	t2=$(date +%s.%N)
	grep -i 'rdma\|smbd\|dialect\|signed\|encrypt' /proc/fs/cifs/DebugData | head -8 | sed "s/^/  $label debugdata: /"
	umount /mnt/t
	if [ "$got" = "$want" ]; then
		result "$label" ok "write $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", 64/(b-a)}') MB/s read $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.1f", 64/(b-a)}') MB/s transport $tr"
	else
		result "$label" fail "sha256 $got, wrote $want"
	fi
}
run rdma-3.0-sign "rdma,vers=3.0,sign"
run rdma-3.0.2-sign "rdma,vers=3.0.2,sign"
run rdma-3.1.1-sign "rdma,vers=3.1.1,sign"
run rdma-3.1.1-seal "rdma,vers=3.1.1,seal"
# Unsigned: cifs.ko would use the RDMA channel (not built) above the raised
# threshold, and asks for READs as long as max_readwrite_size, whose
# responses its 1 MiB reassembly could not take: 512 KiB I/O.
run rdma-3.1.1-nosign "rdma,vers=3.1.1,rsize=524288,wsize=524288"
run tcp-3.1.1-sign "vers=3.1.1,sign"
run tcp-3.1.1-seal "vers=3.1.1,seal"
sed 's/^/  listener: /' "$d/listener.log" | tail -20
grep -c 'passed by the listener' "$d/log.smbd" | sed 's/^/  smbd passed connections: /'
kill "$lpid" "$smbd_pid" 2>/dev/null
sleep 1
exit 0
