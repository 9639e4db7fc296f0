#!/usr/bin/env bash
# make test-board: an emulated arm64 board end to end.
#  1. mmdebstrap an arm64 Debian root file system (trixie, like Raspberry Pi
#     OS; cached in build/deploy/board-<suite>.tar), with qemu-user doing the
#     arm64 parts through binfmt_misc;
#  2. install dist/camgw_*_arm64.deb in it with dpkg (the real maintainer
#     scripts: user camgw in group video, service enabled);
#  3. run the service's own ExecStart as user camgw, under qemu-user, with the
#     package's arm64 virtual board preloaded;
#  4. `camgw probe` on this (x86) host must receive video from it over MQTT
#     signaling and WebRTC on 127.0.0.1;
#  5. purge the package, then run flash's first-boot script in the same root
#     as a flashed board would on its first boot.
# Needs root (chroot, mounts, binfmt). Takes ~5-10 minutes the first time
# (the root file system), ~1-2 minutes after. Env: CAMGW_DEBIAN_SUITE,
# CAMGW_BOARD_SECONDS (probe length, default 10), CAMGW_BOARD_KEEP=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/debian-mirror.sh
. "$here/../lib/debian-mirror.sh"
# shellcheck source=./binfmt.sh
. "$here/binfmt.sh"

[[ $(id -u) -eq 0 ]] || die "test-board needs root (chroot, mounts, binfmt_misc): sudo make test-board"
need_tool mmdebstrap mmdebstrap
need_tool qemu-aarch64-static qemu-user-static
suite=${CAMGW_DEBIAN_SUITE:-trixie}
seconds=${CAMGW_BOARD_SECONDS:-10}
deb=$(find "$root/dist" -maxdepth 1 -name 'camgw_*_arm64.deb' -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -1 | cut -d' ' -f2-)
[[ -n "$deb" ]] || die "no dist/camgw_*_arm64.deb: run make dist"
need_file "$root/gateway/bin/camgw.js" "the gateway's CLI (host side probe) is not built"
t0=$(date +%s)
step() { note "[$(($(date +%s) - t0))s] $*"; }

board="$root/build/deploy/board"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  for m in "$board/dev" "$board/proc" "$board/sys"; do
    mountpoint -q "$m" 2>/dev/null && umount -l "$m"
  done
  binfmt_arm64_off
  [[ "${CAMGW_BOARD_KEEP:-0}" == 1 ]] || rm -rf "$board"
}
trap cleanup EXIT
binfmt_arm64_on

# 1. The root file system: what Raspberry Pi OS Lite has that camgw needs
#    (its Depends come from apt, as on a board), cached as a tarball.
pkgs="systemd,adduser,nodejs,libx264-164,libyuv0,libasound2,libopus0,ca-certificates,procps,curl"
tar_cache="$root/build/deploy/board-$suite.tar"
if [[ ! -f "$tar_cache" || "$(cat "$tar_cache.pkgs" 2>/dev/null)" != "$pkgs" ]]; then
  step "building an arm64 Debian $suite root file system (mmdebstrap, qemu-user)"
  mirror=$(debian_mirror)
  # shellcheck disable=SC2086
  mmdebstrap --mode=root --format=tar --variant=minbase --architectures=arm64 --include="$pkgs" \
    "$suite" "$tar_cache.tmp" ${mirror:+"deb $mirror $suite main"} >"$root/build/deploy/mmdebstrap.log" 2>&1 ||
    {
      tail -20 "$root/build/deploy/mmdebstrap.log" >&2
      die "mmdebstrap failed (log: build/deploy/mmdebstrap.log); CAMGW_DEBIAN_SUITE=bookworm if the mirror lacks $suite"
    }
  mv "$tar_cache.tmp" "$tar_cache"
  echo "$pkgs" >"$tar_cache.pkgs"
fi
rm -rf "$board"
mkdir -p "$board"
tar -xf "$tar_cache" -C "$board"
mount -t proc proc "$board/proc"
mount --bind /dev "$board/dev"
mount -t sysfs sysfs "$board/sys"
step "root file system ready: $(chroot "$board" /usr/bin/node --version) on $(chroot "$board" uname -m)"

# 2. The package, with dpkg, as a person would.
cp "$deb" "$board/tmp/camgw.deb"
chroot "$board" dpkg -i /tmp/camgw.deb >"$root/build/deploy/board-dpkg.log" 2>&1 </dev/null ||
  {
    cat "$root/build/deploy/board-dpkg.log" >&2
    die "dpkg -i camgw failed in the arm64 root file system"
  }
chroot "$board" id camgw | grep -q '(video)' || die "postinst did not put user camgw in group video"
[[ -L "$board/etc/systemd/system/multi-user.target.wants/camgw.service" ]] || die "postinst did not enable camgw.service"
# shellcheck disable=SC2016 # ${...} is dpkg-query's format, not the shell's
step "installed $(chroot "$board" dpkg-query -W -f='${Package} ${Version} ${Architecture}' camgw); user: $(chroot "$board" id camgw)"

# 2b. Upgrading keeps a locally edited conffile: edit it, install again.
echo "# edited on the board" >>"$board/etc/camgw/config.yaml"
chroot "$board" dpkg -i /tmp/camgw.deb >>"$root/build/deploy/board-dpkg.log" 2>&1 </dev/null ||
  die "reinstalling camgw failed (log: build/deploy/board-dpkg.log)"
grep -q '^# edited on the board$' "$board/etc/camgw/config.yaml" || die "reinstalling lost the edited /etc/camgw/config.yaml"
owner=$(chroot "$board" stat -c %U:%G:%a /etc/camgw/config.yaml)
[[ "$owner" == root:camgw:640 ]] || die "/etc/camgw/config.yaml is $owner, want root:camgw:640"
step "reinstall kept the edited conffile"

# 3. The unit's ExecStart, as its User, on the virtual board. Ports are
#    picked free on this host (the chroot shares its network).
exec_start=$(sed -n 's/^ExecStart=//p' "$board/lib/systemd/system/camgw.service")
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
mqtt_port=$(free_port)
http_port=$(free_port)
step "starting on the board: $exec_start (mqtt $mqtt_port, http $http_port)"
# shellcheck disable=SC2086 # ExecStart is split into words as systemd does
# LD_PRELOAD is set inside the chroot (by its env), so only the arm64
# programs get it, not this host's chroot command.
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/camgw \
  chroot --userspec=camgw:camgw --groups=video "$board" \
  /usr/bin/env LD_PRELOAD=/opt/camgw/firmware-sim/build/libcamgw-vdev.so CAMGW_SIM_PROFILE=pi4 \
  CAMGW_DEVICE_ID=board-test CAMGW_LISTEN=127.0.0.1 \
  CAMGW_MQTT_PORT="$mqtt_port" CAMGW_HTTP_PORT="$http_port" $exec_start \
  >"$root/build/deploy/board-service.log" 2>&1 &
pid=$!
for _ in $(seq 1 180); do
  kill -0 "$pid" 2>/dev/null || {
    tail -30 "$root/build/deploy/board-service.log" >&2
    die "the service's command exited on the board (log: build/deploy/board-service.log)"
  }
  curl -fs "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "http://127.0.0.1:$http_port/healthz" >/dev/null || die "the board's /healthz did not answer in 180 s"
step "the board answers /healthz"

# 4. Video from the emulated board to the host.
# Under qemu the first WebRTC answer is slow (V8 has not compiled werift's
# code yet, DTLS keys are made in emulated arm64 code): the gateway gives up
# answering after its answer timeout, and the viewer then tries again, as a
# browser viewer's reload would. Each attempt is reported.
probe_json=""
for attempt in 1 2 3; do
  step "camgw probe on the host for ${seconds}s (attempt $attempt)"
  probe_json=$(node "$root/gateway/bin/camgw.js" probe board-test --broker "mqtt://127.0.0.1:$mqtt_port" \
    --seconds "$seconds" --json) || true
  echo "$probe_json"
  [[ "$probe_json" == *'"video": true'* ]] && break
done
# shellcheck disable=SC2016 # JavaScript template strings
node -e '
  const r = JSON.parse(process.argv[1]);
  if (!r.video || !(r.frames > 0)) {
    console.error(`test-board: no video reached the host (ended: ${r.ended})`);
    process.exit(1);
  }
  console.error(`test-board: ${r.frames} frames ${r.width}x${r.height} at ${r.fps} fps from the emulated arm64 board; ` +
    `answer ${r.answerMs} ms, first frame ${r.timeToFirstFrameMs} ms`);
' "$probe_json"
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=""

# 5. Purge, then the flash path's first boot: camgw-firstboot installs the
#    package and the settings left on the boot partition, then cleans up.
chroot "$board" dpkg --purge camgw >>"$root/build/deploy/board-dpkg.log" 2>&1 </dev/null || die "dpkg --purge camgw failed"
[[ ! -e "$board/etc/camgw/config.yaml" ]] || die "purge left /etc/camgw/config.yaml"
! chroot "$board" getent passwd camgw >/dev/null || die "purge left the camgw user"
[[ ! -e "$board/etc/systemd/system/multi-user.target.wants/camgw.service" ]] || die "purge left camgw.service enabled"
step "purged: config, user and service link gone"
mkdir -p "$board/var/lib/camgw-firstboot" "$board/boot/firmware/camgw"
cp "$deb" "$board/var/lib/camgw-firstboot/camgw.deb"
printf 'device-id: "firstboot-test"\nbroker: "mqtt://127.0.0.1:1883"\n' >"$board/boot/firmware/camgw/config.yaml"
install -m 0755 "$here/../flash/camgw-firstboot.sh" "$board/usr/local/sbin/camgw-firstboot"
chroot "$board" /usr/local/sbin/camgw-firstboot >"$root/build/deploy/board-firstboot.log" 2>&1 </dev/null ||
  {
    tail -20 "$root/build/deploy/board-firstboot.log" >&2
    die "camgw-firstboot failed (log: build/deploy/board-firstboot.log)"
  }
grep -q 'firstboot-test' "$board/etc/camgw/config.yaml" || die "first boot did not install the settings from the boot partition"
# shellcheck disable=SC2016 # dpkg-query's format
[[ "$(chroot "$board" dpkg-query -W -f='${Status}' camgw)" == "install ok installed" ]] || die "first boot did not install camgw"
[[ ! -e "$board/var/lib/camgw-firstboot" && ! -e "$board/boot/firmware/camgw" ]] || die "first boot left its inputs behind"
step "first boot installed camgw with the boot partition's settings and removed its inputs"
step "passed"
