# shellcheck shell=bash
# Edits a Raspberry Pi OS disk image in place without mounting it (sourced by
# flash.sh). The FAT boot partition goes through mtools (`-i image@@offset`),
# the ext4 root through debugfs -w (`image?offset=N`, e2fsprogs' unix_io
# option). Every write is read back and compared.

export MTOOLS_SKIP_CHECK=1 # FAT geometry of images is not a floppy's; don't complain

# find_partitions IMG: sets boot_off, boot_size and root_off (bytes) from the MBR:
# the first FAT partition (types b, c, e) and the first Linux one (83).
find_partitions() {
  local dump sector label line
  dump=$(sfdisk -d "$1" 2>/dev/null) || die "$1 has no partition table sfdisk can read: is it a Raspberry Pi OS .img?"
  label=$(sed -n 's/^label: *//p' <<<"$dump")
  [[ "$label" == dos ]] || die "$1 has a '$label' partition table; Raspberry Pi OS images use MBR (dos)"
  sector=$(sed -n 's/^sector-size: *//p' <<<"$dump")
  sector=${sector:-512}
  boot_off="" root_off=""
  while read -r line; do
    local start size type
    start=$(sed -n 's/.*start= *\([0-9]*\).*/\1/p' <<<"$line")
    size=$(sed -n 's/.*size= *\([0-9]*\).*/\1/p' <<<"$line")
    type=$(sed -n 's/.*type= *\([0-9a-fA-F]*\).*/\1/p' <<<"$line")
    [[ -n "$start" ]] || continue
    case "${type,,}" in
      b | c | e) [[ -n "$boot_off" ]] || { boot_off=$((start * sector)) && boot_size=$((size * sector)); } ;;
      83) [[ -n "$root_off" ]] || root_off=$((start * sector)) ;;
    esac
  done < <(grep ' : start=' <<<"$dump")
  [[ -n "$boot_off" ]] || die "$1 has no FAT boot partition (type 0c); not a Raspberry Pi OS image?"
  [[ -n "$root_off" ]] || die "$1 has no Linux root partition (type 83); not a Raspberry Pi OS image?"
  debugfs -R 'stats -h' "$1?offset=$root_off" >/dev/null 2>&1 ||
    die "the root partition of $1 is not an ext4 file system debugfs can open"
}

# --- camgw settings --------------------------------------------------------

# validate_setting KEY VALUE: what can be checked without the gateway; the
# gateway's own loader checks the whole file afterwards when it is built.
validate_setting() {
  local key=$1 value=$2
  [[ "$key" =~ ^[a-z][a-z0-9-]*$ ]] || die "'$key' is not a config key (lower case, digits, -)"
  [[ "$value" != *$'\n'* ]] || die "the value of $key has a line break"
  case "$key" in
    device-id) [[ "$value" =~ ^[A-Za-z0-9_-]{1,64}$ ]] || die "device id must be 1-64 characters of A-Z a-z 0-9 _ -; got '$value'" ;;
    broker) [[ "$value" == embedded || "$value" =~ ^(mqtt|mqtts|ws|wss)://[^[:space:]]+$ ]] ||
      die "broker must be embedded or a mqtt://, mqtts://, ws:// or wss:// URL; got '$value'" ;;
  esac
}

yaml_quote() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# set_yaml_key FILE KEY VALUE: one top-level key, replacing any earlier line.
set_yaml_key() {
  local tmp="$1.tmp"
  grep -v -E "^$2:" "$1" >"$tmp" || true
  printf '%s: %s\n' "$2" "$(yaml_quote "$3")" >>"$tmp"
  mv "$tmp" "$1"
}

# make_config DEB BASE OUT KEY=VALUE...: the package's default config (or
# BASE) with the given keys set.
make_config() {
  local deb=$1 base=$2 out=$3
  shift 3
  if [[ -n "$base" ]]; then
    cp "$base" "$out"
  else
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ./etc/camgw/config.yaml >"$out" ||
      die "$deb has no ./etc/camgw/config.yaml"
  fi
  printf '\n# Set by make flash on %s\n' "$(date -u +%Y-%m-%dT%H:%MZ)" >>"$out"
  local kv
  for kv in "$@"; do set_yaml_key "$out" "${kv%%=*}" "${kv#*=}"; done
  # The gateway's own loader, when this tree has it built, checks every key.
  local root loader
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  loader="$root/build/gateway/src/config.js"
  if [[ -f "$loader" ]] && command -v node >/dev/null; then
    node --input-type=module -e '
      const { loadConfig } = await import(process.argv[1]);
      try { loadConfig({ file: process.argv[2] }); }
      catch (e) { console.error(e instanceof Error ? e.message : String(e)); process.exit(1); }
    ' "file://$loader" "$out" || die "the camgw settings are not valid (see above)"
  fi
}

# --- FAT boot partition (mtools) --------------------------------------------

fat() { echo "$1@@$boot_off"; }

fat_mkdir() {
  mdir -i "$(fat "$1")" "::/$2" >/dev/null 2>&1 || mmd -i "$(fat "$1")" "::/$2" ||
    die "could not make /$2 on the boot partition"
}

# fat_put IMG SRC DEST: copy, overwrite, then read back and compare.
fat_put() {
  mcopy -o -i "$(fat "$1")" "$2" "::/$3" || die "could not write /$3 to the boot partition"
  cmp -s "$2" <(mtype -i "$(fat "$1")" "::/$3") || die "/$3 on the boot partition reads back different"
}

# cmdline_add IMG WORK PARAM: append a kernel parameter to cmdline.txt (one
# line by the firmware's rules) unless its key is already there.
cmdline_add() {
  local img=$1 work=$2 param=$3
  mtype -i "$(fat "$img")" ::/cmdline.txt >"$work/cmdline.txt" 2>/dev/null || die "the boot partition has no cmdline.txt"
  local line
  line=$(tr -d '\r\n' <"$work/cmdline.txt")
  if [[ " $line " != *" ${param%%=*}="* ]]; then
    printf '%s %s\n' "$line" "$param" >"$work/cmdline.txt"
    fat_put "$img" "$work/cmdline.txt" cmdline.txt
  fi
}

# --- ext4 root partition (debugfs) -----------------------------------------

dbg() { debugfs -w -R "$2" "$1?offset=$root_off" 2>&1; }

root_exists() {
  ! debugfs -R "stat \"$2\"" "$1?offset=$root_off" 2>&1 | grep -q 'File not found'
}

# root_own IMG PATH TYPE MODE: root-owned with the given permission bits;
# TYPE is the octal file-type prefix debugfs's i_mode wants (40 dir, 100 file).
root_own() {
  local f mode
  mode="0$3$(printf '%03o' "$((8#$4))")"
  f=$(mktemp)
  printf 'sif "%s" mode %s\nsif "%s" uid 0\nsif "%s" gid 0\n' "$2" "$mode" "$2" "$2" >"$f"
  debugfs -w -f "$f" "$1?offset=$root_off" >/dev/null 2>&1
  rm -f "$f"
  debugfs -R "stat \"$2\"" "$1?offset=$root_off" 2>/dev/null | grep -q "Mode:  *0*$4 " ||
    die "could not set mode $4 on $2 in the root file system"
}

# root_mkdir IMG /A/B/C MODE: like mkdir -p; new directories get MODE.
root_mkdir() {
  local img=$1 path=$2 mode=$3 sofar=""
  local part
  IFS=/ read -ra parts <<<"${path#/}"
  for part in "${parts[@]}"; do
    sofar="$sofar/$part"
    if ! root_exists "$img" "$sofar"; then
      dbg "$img" "mkdir \"$sofar\"" >/dev/null
      root_exists "$img" "$sofar" || die "could not make $sofar in the root file system"
      root_own "$img" "$sofar" 40 "$mode"
    fi
  done
}

# root_put IMG SRC DEST MODE: replace DEST with SRC, root-owned, then read
# back and compare.
root_put() {
  local img=$1 src=$2 dest=$3 mode=$4
  local dir=${dest%/*} name=${dest##*/} f
  f=$(mktemp)
  # Names in debugfs commands: our own fixed paths; the source is copied to
  # a plain temporary name so a user's path with spaces cannot break a command.
  local plain
  plain=$(mktemp)
  cp "$src" "$plain"
  printf 'cd "%s"\nrm "%s"\nwrite "%s" "%s"\n' "${dir:-/}" "$name" "$plain" "$name" >"$f"
  debugfs -w -f "$f" "$img?offset=$root_off" >/dev/null 2>&1
  rm -f "$f"
  root_own "$img" "$dest" 100 "$mode"
  cmp -s "$plain" <(debugfs -R "cat \"$dest\"" "$img?offset=$root_off" 2>/dev/null) ||
    die "$dest in the root file system reads back different (is it full?)"
  rm -f "$plain"
}

# root_symlink IMG LINK TARGET (what `systemctl enable` would make).
root_symlink() {
  local img=$1 link=$2 target=$3
  dbg "$img" "rm \"$link\"" >/dev/null
  dbg "$img" "symlink \"$link\" \"$target\"" >/dev/null
  debugfs -R "stat \"$link\"" "$img?offset=$root_off" 2>/dev/null | grep -q "Fast link dest: \"$target\"" ||
    die "could not make the symlink $link"
}

# nm_keyfile SSID PASSWORD: a NetworkManager keyfile (nm-settings-keyfile(5));
# Raspberry Pi OS since bookworm manages Wi-Fi with NetworkManager.
nm_keyfile() {
  cat <<EOT
[connection]
id=camgw-wifi
uuid=$(cat /proc/sys/kernel/random/uuid)
type=wifi
autoconnect=true

[wifi]
mode=infrastructure
ssid=$1
EOT
  if [[ -n "$2" ]]; then
    printf '\n[wifi-security]\nkey-mgmt=wpa-psk\npsk=%s\n' "$2"
  fi
  printf '\n[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n'
}

# check_filesystems IMG WORK: both file systems must check clean.
check_filesystems() {
  local img=$1 work=$2 out
  out=$(e2fsck -fn "$img?offset=$root_off" 2>&1) || die "the root file system does not check clean:
$out"
  # fsck.fat takes no offset: check a copy of the partition.
  dd if="$img" of="$work/boot.fat" iflag=skip_bytes,count_bytes skip="$boot_off" count="$boot_size" status=none
  out=$(fsck.vfat -n "$work/boot.fat" 2>&1) || die "the boot file system does not check clean:
$out"
  rm -f "$work/boot.fat"
}
