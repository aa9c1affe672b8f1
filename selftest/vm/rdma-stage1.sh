# samba-ca: first stage of the RDMA VM's script (busybox, in the
# initramfs): the host's root (9p tag "hostroot", read-only) under a tmpfs
# overlay as the new root, then the second stage in it with the host's
# userland (bash, iproute2's rdma, rdma-core, the Samba build).
# vm.sh run appends this file to a line setting STAGE2 and its arguments.
mkdir -p /host /ovl /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /host ||
	{ echo "rdma-stage1: no 9p host root (SAMBA_CA_VM_HOSTFS=1?)"; exit 90; }
mount -t tmpfs -o size=75% tmpfs /ovl
mkdir -p /ovl/u /ovl/w
mount -t overlay overlay -o lowerdir=/host,upperdir=/ovl/u,workdir=/ovl/w /newroot ||
	{ echo "rdma-stage1: overlay mount failed"; exit 91; }
for d in proc sys dev dev/pts; do
	mount --bind "/$d" "/newroot/$d"
done
mount -t tmpfs tmpfs /newroot/tmp
mount -t tmpfs tmpfs /newroot/run
cp /etc/hosts /newroot/etc/hosts 2>/dev/null
chroot /newroot /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root VM_IP="$VM_IP" VM_HOST="$VM_HOST" /bin/bash $STAGE2
rc=$?
# The RDMA kernel has no ACPI: init's "poweroff -f" would only halt it,
# and qemu would wait for the timeout.  So this script ends the run
# itself: init's exit marker (vm_nonce is in init's environment, which
# the script inherits) and a reboot, which -no-reboot turns into qemu's
# exit.
sync
printf '\nSAMBA_CA_VM_EXIT %s %s\n' "$vm_nonce" "$rc"
reboot -f
sleep 5
