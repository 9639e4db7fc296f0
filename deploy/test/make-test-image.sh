#!/usr/bin/env bash
# Builds a small disk image laid out like Raspberry Pi OS (an MBR with a
# FAT32 boot partition, type 0x0c at 4 MiB, then an ext4 root, type 0x83),
# without mounting anything: each file system is made in its own file
# (mkfs.vfat + mcopy; mkfs.ext4 -d populates from a directory) and copied in.
# The root holds just enough of Raspberry Pi OS's /etc and /lib/systemd for
# the flash step: this is a stand-in, not a bootable system.
#   usage: make-test-image.sh OUT.img
set -euo pipefail
out=${1:?usage: make-test-image.sh OUT.img}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

boot_mib=64
root_mib=96
start_mib=4

# Boot partition: what the Pi firmware reads.
truncate -s ${boot_mib}M "$work/boot.fat"
# Raspberry Pi OS labels it "bootfs"; mkfs.fat warns about lower case.
mkfs.vfat -F 32 -n bootfs "$work/boot.fat" >/dev/null 2>&1
printf 'console=serial0,115200 console=tty1 root=PARTUUID=12345678-02 rootfstype=ext4 fsck.repair=yes rootwait\n' >"$work/cmdline.txt"
printf '[all]\narm_64bit=1\ncamera_auto_detect=1\n' >"$work/config.txt"
mcopy -i "$work/boot.fat" "$work/cmdline.txt" "$work/config.txt" ::/

# Root partition: the directories the flash step writes into.
r="$work/root"
mkdir -p "$r/etc/systemd/system/multi-user.target.wants" "$r/etc/NetworkManager/system-connections" \
  "$r/lib/systemd/system" "$r/usr/local/sbin" "$r/var/lib" "$r/boot/firmware" "$r/usr/bin"
printf 'raspberrypi\n' >"$r/etc/hostname"
printf 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\nID=debian\n' >"$r/etc/os-release"
printf '[Unit]\nDescription=Multi-User System\n' >"$r/lib/systemd/system/multi-user.target"
chmod 0700 "$r/etc/NetworkManager/system-connections"
truncate -s ${root_mib}M "$work/root.ext4"
mkfs.ext4 -q -F -L rootfs -d "$r" -E root_owner=0:0 "$work/root.ext4"

# The disk: partitions aligned at 4 MiB like Raspberry Pi OS's images.
total=$((start_mib + boot_mib + root_mib + 1))
rm -f "$out"
truncate -s ${total}M "$out"
sfdisk --quiet "$out" <<EOT
label: dos
label-id: 0x12345678
unit: sectors
start=$((start_mib * 2048)), size=$((boot_mib * 2048)), type=c
start=$(((start_mib + boot_mib) * 2048)), size=$((root_mib * 2048)), type=83
EOT
dd if="$work/boot.fat" of="$out" bs=1M seek=$start_mib conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$out" bs=1M seek=$((start_mib + boot_mib)) conv=notrunc,sparse status=none
