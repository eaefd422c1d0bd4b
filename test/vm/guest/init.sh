#!/bin/busybox sh
# The test VM's /init (in the initramfs): load virtio + 9p, mount the build machine's root
# read-only and the results share read-write, chroot and run the job the harness wrote.
# Ends with one line "RA6VM-RESULT rc=<n>" on the console (QEMU's exit code means nothing).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

die() {
	echo "RA6VM-RESULT rc=boot-failed $*"
	poweroff -f
}

while read -r ko; do
	insmod "/modules/$ko" || die "insmod $ko"
done </modules/order

mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host ||
	die "mount hostroot"
mount -t proc proc /host/proc || die "mount proc"
mount -t sysfs sysfs /host/sys || die "mount sys"
mount -t devtmpfs devtmpfs /host/dev || die "mount dev"
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t tmpfs tmpfs /host/run || die "mount /run"
mount -t tmpfs tmpfs /host/tmp || die "mount /tmp"
mkdir -p /host/tmp/vmout
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vmout /host/tmp/vmout || die "mount vmout"
# The repository at its own absolute path, mounted last: a checkout under /tmp or /run is hidden
# by the tmpfs mounts above (the directory is then created on that tmpfs).
read -r repo </host/tmp/vmout/repo-path || die "no repo-path in the share"
case $repo in /*) ;; *) die "repo-path is not absolute: $repo" ;; esac
mkdir -p "/host$repo" || die "mkdir $repo"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose repo "/host$repo" ||
	die "mount repo at $repo"
# request_module() runs /sbin/modprobe in the initramfs root: forward it into the host root.
echo /modprobe-wrapper >/proc/sys/kernel/modprobe

chroot /host /bin/bash /tmp/vmout/job.sh </dev/null >/host/tmp/vmout/console.log 2>&1
rc=$?
chroot /host /bin/dmesg >/host/tmp/vmout/dmesg.txt 2>&1
echo "$rc" >/host/tmp/vmout/rc
sync
umount /host/tmp/vmout
echo "RA6VM-RESULT rc=$rc"
poweroff -f
