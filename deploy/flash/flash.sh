#!/usr/bin/env bash
# Puts camgw into a Raspberry Pi OS image and writes it to an SD card or an
# image file. Works on a copy; never mounts anything (mtools for the FAT boot
# partition, e2fsprogs' debugfs for the ext4 root), so it needs no root for
# image files. Run with --help for the options.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=./image-edit.sh
. "$here/image-edit.sh"
# shellcheck source=./target.sh
. "$here/target.sh"

usage() {
  cat <<'EOT'
usage: flash.sh --image RASPIOS.img[.xz|.gz] (--device /dev/sdX | --out FILE.img) --deb camgw_V_arm64.deb [options]

Copies a Raspberry Pi OS (64-bit) image, adds the camgw package and a
first-boot step that installs it with these settings, then writes the result
to a whole disk (SD card reader) or to an image file, and verifies it by
reading it back (sha256). The input image is never changed.

Target (one of):
  --device DEV            whole disk to write, e.g. /dev/sdb or /dev/mmcblk0.
                          Refused when it or a partition of it is mounted, or
                          when it holds this system. Asks before writing.
  --out FILE              write an image file instead (no root needed).
camgw settings (written to /etc/camgw/config.yaml on first boot):
  --device-id ID          camera id in signaling topics (default: host name)
  --broker URL            embedded | mqtt(s)://host:port | ws(s)://host/path
  --broker-username U     --broker-password P | --broker-password-file F
  --broker-ca FILE        CA certificate (PEM) of an mqtts/wss broker
  --set KEY=VALUE         any other key of the config (repeatable)
  --config FILE           start from this config.yaml instead of the package's
Board:
  --wifi-ssid SSID        Wi-Fi network (NetworkManager keyfile); with
  --wifi-password P       (omit for an open network) and
  --wifi-country CC       two-letter regulatory country (needed on the Pi)
  --wifi-file FILE        a file of ssid=, password=, country= lines, or a
                          ready NetworkManager *.nmconnection file
  --ssh                   enable the SSH server on first boot
  --userconf FILE         Raspberry Pi OS userconf.txt (user:crypted-password)
Other:
  --yes                   do not ask before writing a device
  --keep-work             keep the work directory (for debugging)
  -h, --help              this text
EOT
}

image="" device="" out="" deb="" base_config="" yes=0 keep=0
wifi_ssid="" wifi_password="" wifi_country="" wifi_file="" ssh=0 userconf=""
declare -a settings=()
broker_ca=""
arg() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --image) arg "$@"; image=$2; shift 2 ;;
    --device) arg "$@"; device=$2; shift 2 ;;
    --out) arg "$@"; out=$2; shift 2 ;;
    --deb) [[ $# -ge 2 ]] || die "--deb needs a value"; deb=$2; shift 2 ;;
    --config) arg "$@"; base_config=$2; shift 2 ;;
    --device-id) arg "$@"; settings+=("device-id=$2"); shift 2 ;;
    --broker) arg "$@"; settings+=("broker=$2"); shift 2 ;;
    --broker-username) arg "$@"; settings+=("broker-username=$2"); shift 2 ;;
    --broker-password) arg "$@"; settings+=("broker-password=$2"); shift 2 ;;
    --broker-password-file)
      arg "$@"; [[ -r "$2" ]] || die "cannot read --broker-password-file $2"
      settings+=("broker-password=$(head -n1 "$2")"); shift 2 ;;
    --broker-ca) arg "$@"; broker_ca=$2; shift 2 ;;
    --set) arg "$@"; [[ "$2" == *=* ]] || die "--set wants KEY=VALUE, got '$2'"; settings+=("$2"); shift 2 ;;
    --wifi-ssid) arg "$@"; wifi_ssid=$2; shift 2 ;;
    --wifi-password) arg "$@"; wifi_password=$2; shift 2 ;;
    --wifi-country) arg "$@"; wifi_country=$2; shift 2 ;;
    --wifi-file) arg "$@"; wifi_file=$2; shift 2 ;;
    --ssh) ssh=1; shift ;;
    --userconf) arg "$@"; userconf=$2; shift 2 ;;
    --yes) yes=1; shift ;;
    --keep-work) keep=1; shift ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

# --- check every input before touching anything ---------------------------
[[ -n "$image" ]] || die "no --image given: download Raspberry Pi OS (64-bit) and pass its .img or .img.xz (see --help)"
[[ -f "$image" && -r "$image" ]] || die "image '$image' does not exist or cannot be read"
[[ -n "$device" || -n "$out" ]] || die "say where to write: --device /dev/sdX or --out FILE.img"
[[ -z "$device" || -z "$out" ]] || die "give --device or --out, not both"
[[ -n "$deb" ]] || die "no camgw package: run 'make dist' first (or pass --deb)"
[[ -f "$deb" ]] || die "package '$deb' does not exist (run 'make dist')"
for t in "sfdisk:fdisk" "mcopy:mtools" "debugfs:e2fsprogs" "e2fsck:e2fsprogs" "fsck.vfat:dosfstools" "dpkg-deb:dpkg" "sha256sum:coreutils"; do
  need_tool "${t%%:*}" "${t#*:}"
done
[[ "$(dpkg-deb -f "$deb" Package 2>/dev/null)" == camgw ]] || die "$deb is not a camgw package"
[[ "$(dpkg-deb -f "$deb" Architecture)" == arm64 ]] || die "$deb is not for arm64 (Raspberry Pi OS 64-bit)"
[[ -z "$broker_ca" || -r "$broker_ca" ]] || die "cannot read --broker-ca $broker_ca"
[[ -z "$base_config" || -r "$base_config" ]] || die "cannot read --config $base_config"
[[ -z "$userconf" || -r "$userconf" ]] || die "cannot read --userconf $userconf"
for kv in "${settings[@]}"; do validate_setting "${kv%%=*}" "${kv#*=}"; done
if [[ -n "$wifi_file" ]]; then
  [[ -r "$wifi_file" ]] || die "cannot read --wifi-file $wifi_file"
  if [[ "$wifi_file" != *.nmconnection ]]; then
    wifi_ssid=$(sed -n 's/^ssid=//p' "$wifi_file" | head -1)
    wifi_password=$(sed -n 's/^password=//p' "$wifi_file" | head -1)
    wifi_country=${wifi_country:-$(sed -n 's/^country=//p' "$wifi_file" | head -1)}
    [[ -n "$wifi_ssid" ]] || die "$wifi_file has no ssid= line"
  fi
fi
[[ -z "$wifi_password" || -n "$wifi_ssid$wifi_file" ]] || die "--wifi-password without --wifi-ssid"
if [[ -n "$wifi_password" ]] && ((${#wifi_password} < 8 || ${#wifi_password} > 63)); then
  die "a WPA2 password has 8 to 63 characters"
fi
[[ -z "$wifi_country" || "$wifi_country" =~ ^[A-Z]{2}$ ]] || die "--wifi-country wants two capital letters such as GB or DE, got '$wifi_country'"
[[ -z "$wifi_ssid$wifi_file" || -n "$wifi_country" ]] || die "Wi-Fi needs --wifi-country (Raspberry Pi OS keeps Wi-Fi off until a country is set)"
if [[ -n "$device" ]]; then check_target_device "$device"; fi
if [[ -n "$out" ]]; then
  [[ "$(readlink -f "$out")" != "$(readlink -f "$image")" ]] || die "--out must not be the input image"
  [[ ! -b "$out" ]] || die "--out $out is a block device; use --device for disks"
fi

# --- build the new image in a work directory -----------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/camgw-flash.XXXXXX")
cleanup() { if ((keep)); then note "work directory kept: $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
img="$work/image.img"
note "copying $image"
case "$image" in
  *.xz) xz -dc "$image" >"$img" || die "could not decompress $image" ;;
  *.gz) gzip -dc "$image" >"$img" || die "could not decompress $image" ;;
  *) cp --sparse=always "$image" "$img" ;;
esac

find_partitions "$img"
note "boot (FAT) at byte $boot_off, root (ext4) at byte $root_off"
make_config "$deb" "$base_config" "$work/config.yaml" "${settings[@]}"
[[ -z "$broker_ca" ]] || set_yaml_key "$work/config.yaml" broker-ca /etc/camgw/broker-ca.pem

# FAT boot partition: settings a person can still edit on any PC.
fat_mkdir "$img" camgw
fat_put "$img" "$work/config.yaml" camgw/config.yaml
[[ -z "$broker_ca" ]] || fat_put "$img" "$broker_ca" camgw/broker-ca.pem
if ((ssh)); then : >"$work/ssh" && fat_put "$img" "$work/ssh" ssh; fi
[[ -z "$userconf" ]] || fat_put "$img" "$userconf" userconf.txt
[[ -z "$wifi_country" ]] || cmdline_add "$img" "$work" "cfg80211.ieee80211_regdom=$wifi_country"

# ext4 root: the package, the first-boot step (enabled), Wi-Fi.
root_mkdir "$img" /var/lib/camgw-firstboot 0700
root_put "$img" "$deb" /var/lib/camgw-firstboot/camgw.deb 0600
root_put "$img" "$here/camgw-firstboot.sh" /usr/local/sbin/camgw-firstboot 0755
root_put "$img" "$here/camgw-firstboot.service" /etc/systemd/system/camgw-firstboot.service 0644
root_mkdir "$img" /etc/systemd/system/multi-user.target.wants 0755
root_symlink "$img" /etc/systemd/system/multi-user.target.wants/camgw-firstboot.service \
  /etc/systemd/system/camgw-firstboot.service
if [[ -n "$wifi_country" ]]; then
  printf '%s\n' "$wifi_country" >"$work/wifi-country"
  root_put "$img" "$work/wifi-country" /var/lib/camgw-firstboot/wifi-country 0600
fi
if [[ -n "$wifi_file" && "$wifi_file" == *.nmconnection ]]; then
  cp "$wifi_file" "$work/wifi.nmconnection"
elif [[ -n "$wifi_ssid" ]]; then
  nm_keyfile "$wifi_ssid" "$wifi_password" >"$work/wifi.nmconnection"
fi
if [[ -f "$work/wifi.nmconnection" ]]; then
  root_mkdir "$img" /etc/NetworkManager/system-connections 0700
  root_put "$img" "$work/wifi.nmconnection" /etc/NetworkManager/system-connections/camgw-wifi.nmconnection 0600
fi
check_filesystems "$img" "$work"

# --- write and verify ------------------------------------------------------
target=${device:-$out}
if [[ -n "$device" ]] && ((!yes)); then
  confirm_device "$device"
fi
write_verified "$img" "$target"
note "done: $target"
