# shellcheck shell=bash
# Lets this x86 kernel run arm64 programs through qemu-user (binfmt_misc),
# the way Debian's qemu-user-static registers it (sourced by test-board.sh).
# Undoes only what it did itself.
binfmt_mounted_by_us=0
binfmt_registered_by_us=0

binfmt_arm64_on() {
  local dir=/proc/sys/fs/binfmt_misc
  if [[ ! -e "$dir/register" ]]; then
    mount -t binfmt_misc binfmt_misc "$dir" 2>/dev/null ||
      die "binfmt_misc is not available (mount -t binfmt_misc failed): arm64 programs cannot run in the chroot"
    binfmt_mounted_by_us=1
  fi
  if [[ ! -e "$dir/qemu-aarch64" ]]; then
    local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
    need_file "$conf" "install qemu-user-static"
    # F (fix binary): the kernel opens qemu now, so it works inside chroots.
    cat "$conf" >"$dir/register" || die "could not register qemu-aarch64 with binfmt_misc"
    binfmt_registered_by_us=1
  fi
  grep -q enabled "$dir/qemu-aarch64" || die "binfmt entry qemu-aarch64 is disabled"
}

binfmt_arm64_off() {
  local dir=/proc/sys/fs/binfmt_misc
  if ((binfmt_registered_by_us)); then echo -1 >"$dir/qemu-aarch64" || true; fi
  if ((binfmt_mounted_by_us)); then umount "$dir" || true; fi
}
