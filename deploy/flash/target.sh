# shellcheck shell=bash
# Where flash.sh writes: the safety checks for a disk and the verified write
# (sourced by flash.sh).

# The whole disks under the file systems this machine runs from (/, /boot,
# /usr, ...) and its swap: never a target. lsblk -s walks from a mounted
# source (a partition, LVM or dm-crypt volume) down to its disks.
system_disks() {
  local mp src
  for mp in / /boot /boot/firmware /boot/efi /usr /var /home; do
    src=$(findmnt -n -o SOURCE --target "$mp" 2>/dev/null) || continue
    [[ -b "$src" ]] || continue
    lsblk -nsr -o PATH,TYPE "$src" 2>/dev/null | awk '$2=="disk"||$2=="loop" {print $1}'
  done
  awk 'NR>1 && $1 ~ /^\/dev\// {print $1}' /proc/swaps | while read -r src; do
    lsblk -nsr -o PATH,TYPE "$src" 2>/dev/null | awk '$2=="disk"||$2=="loop" {print $1}'
  done
}

# check_target_device DEV: refuse anything but an unmounted whole disk that
# does not hold this system.
check_target_device() {
  local dev=$1 real type mounts
  [[ -e "$dev" ]] || die "device $dev does not exist (lsblk lists the disks; is the card reader plugged in?)"
  [[ -b "$dev" ]] || die "$dev is not a block device (use --out to write an image file)"
  need_tool lsblk util-linux
  need_tool findmnt util-linux
  real=$(readlink -f "$dev")
  type=$(lsblk -dn -o TYPE "$real")
  case "$type" in
    disk | loop) ;;
    part) die "$dev is a partition; give the whole disk (e.g. /dev/sdb, not /dev/sdb1)" ;;
    *) die "$dev is a '$type' device, not a disk" ;;
  esac
  if system_disks | sort -u | grep -qx "$real"; then
    die "$dev holds this system (/, /boot, /usr, /var, /home or swap is on it); refusing to overwrite it"
  fi
  mounts=$(lsblk -nr -o MOUNTPOINTS "$real" 2>/dev/null | grep -v '^$' | tr '\n' ' ' || true)
  [[ -z "$mounts" ]] || die "$dev is mounted (at ${mounts% }); unmount it first (umount each mount point, or eject it in the file manager without removing it)"
  [[ -w "$real" ]] || die "cannot write $dev: run as root (sudo make flash ...) or join the group that owns it ($(stat -c %G "$real"))"
  target_bytes=$(blockdev --getsize64 "$real")
  ((target_bytes > 0)) || die "$dev has no medium (size 0): is the card in the reader?"
}

# confirm_device DEV: last chance, with what the disk is, on the terminal.
confirm_device() {
  local dev=$1 answer
  lsblk -o NAME,SIZE,TYPE,TRAN,RM,MODEL "$dev" >&2 || true
  { : </dev/tty; } 2>/dev/null || die "no terminal to confirm erasing $dev; pass --yes to skip the question"
  printf 'Everything on %s will be erased. Type its name (%s) to go on: ' "$dev" "${dev##*/}" >/dev/tty
  read -r answer </dev/tty || answer=""
  [[ "$answer" == "${dev##*/}" ]] || die "not confirmed; nothing written"
}

# write_verified IMG TARGET: copy with a progress bar, flush, then read back
# (bypassing the page cache for a device) and compare sha256.
write_verified() {
  local img=$1 target=$2 size want got dest
  size=$(stat -c %s "$img")
  if [[ -b "$target" ]]; then
    ((size <= target_bytes)) || die "$target has $target_bytes bytes; the image needs $size"
    dest=$target
  else
    dest="$target.partial"
  fi
  note "writing $size bytes to $target"
  if command -v pv >/dev/null; then
    pv -s "$size" "$img" | dd of="$dest" bs=4M iflag=fullblock conv=fsync status=none ||
      die "writing $target failed"
  else
    dd if="$img" of="$dest" bs=4M conv=fsync status=progress || die "writing $target failed"
  fi
  note "verifying"
  want=$(sha256sum "$img" | cut -d' ' -f1)
  if [[ -b "$dest" ]]; then
    blockdev --flushbufs "$dest" 2>/dev/null || true
    got=$(dd if="$dest" bs=4M iflag=direct,count_bytes count="$size" status=none | sha256sum | cut -d' ' -f1)
  else
    got=$(sha256sum "$dest" | cut -d' ' -f1)
  fi
  [[ "$got" == "$want" ]] || die "verification failed: $target reads back sha256 $got, wrote $want (bad card or reader?)"
  [[ -b "$dest" ]] || mv "$dest" "$target"
  note "verified sha256 $want"
}
