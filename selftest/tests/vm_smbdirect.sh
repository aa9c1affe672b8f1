#!/usr/bin/env bash
# samba-ca test suite entry: the real RDMA path.  The VM kernel of
# selftest/vm/kernel/build-kernel.sh (Debian's linux-source-6.12 with
# CIFS_SMB_DIRECT, RDMA_RXE, SMB_SERVER_SMBDIRECT, 9p, overlay; built once
# and cached by source version and config hash), booted with the host's
# root shared read-only under an overlay; in it soft-RoCE on eth0
# ("rdma link add rxe0 type rxe netdev eth0"), the built smbd with
# "smbd:listener socket", samba_ca_smbdirect_listener on RDMA CM ports
# 5445 and 445, and cifs.ko mounting through the listener with "rdma"
# (3.0, 3.0.2, 3.1.1 signed, 3.1.1 sealed, 3.1.1 unsigned with 512 KiB
# I/O), 64 MiB written and read back
# (sha256), and over TCP for comparison (rdma-stage2.sh prints the
# figures).  VM runs hold /tmp/samba-ca-vm.lock.  Root.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export SAMBA_CA_TOP=${SAMBA_CA_TOP:-$top}
if [ -z "${SAMBA_TREE:-}" ] && [ -f "$top/.build/samba.env" ]; then
	set -a
	# shellcheck disable=SC1091
	. "$top/.build/samba.env"
	set +a
fi
[ -x "${SAMBA_BIN:-}/smbd" ] || { echo "vm_smbdirect: no built smbd" >&2; exit 1; }
listener=$SAMBA_TREE/bin/default/samba-ca/smbdirect/samba_ca_smbdirect_listener
[ -x "$listener" ] || { echo "vm_smbdirect: $listener not built" >&2; exit 1; }
# shellcheck source=../lib/smbd.sh
. "$SAMBA_CA_TOP/selftest/lib/smbd.sh"
sca_ensure_user || exit 1

start=$(date +%s)
kdir=$("$top/selftest/vm/kernel/build-kernel.sh") || {
	echo "vm_smbdirect: FAIL: the RDMA VM kernel could not be built" >&2
	exit 1
}
echo "vm_smbdirect: kernel $kdir/bzImage ($(cat "$kdir/build.stamp")), ready after $(($(date +%s) - start)) s"

work=$(mktemp -d /var/tmp/vm_smbdirect.XXXXXX)
chmod 755 "$work"
ns=sdvm$$
cleanup() {
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# The VM sees the host's root, but with a tmpfs of its own on /tmp and
# /run: the second stage goes in $work (under /var/tmp), so that a
# checkout under /tmp works too.
cp "$top/selftest/vm/rdma-stage2.sh" "$work/rdma-stage2.sh"
{
	echo "STAGE2='$work/rdma-stage2.sh $SAMBA_BIN $listener $work $SCA_USER $SCA_PASS'"
	cat "$top/selftest/vm/rdma-stage1.sh"
} >"$work/script"

flock /tmp/samba-ca-vm.lock env SAMBA_CA_VM_KERNEL_IMAGE="$kdir/bzImage" \
	SAMBA_CA_VM_HOSTFS=1 SAMBA_CA_VM_MEM=${SAMBA_CA_VM_MEM:-2048} \
	"$top/selftest/vm/vm.sh" run "$work/script" --net-ns "$ns" \
	--timeout 1500 --log "$work/console.log"
rc=$?
echo "vm_smbdirect: VM exit $rc"
pass=0 fail=0
while read -r _ label verdict rest; do
	echo "  $label: $verdict $rest"
	if [ "$verdict" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done < <(grep -a '^RESULT ' "$work/console.log")
[ $rc -eq 0 ] || fail=$((fail + 1))
[ $pass -ge 8 ] || fail=$((fail + 1))
echo "vm_smbdirect: $pass ok, $fail failed in $(($(date +%s) - start)) s"
[ $fail -eq 0 ]
