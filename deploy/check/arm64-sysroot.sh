#!/usr/bin/env bash
# Unpacks Debian's arm64 nodejs and everything it links (libnode, libuv,
# OpenSSL, ICU, ...) plus camgw's runtime libraries (libx264, libyuv, libturbojpeg, alsa-lib,
# libopus) into a directory, for running arm64 node under qemu-user
# (`qemu-aarch64-static -L`).
# mmdebstrap's "extract" variant resolves the dependency closure with apt and
# unpacks it without running any arm64 code. Cached: re-run only when the
# package list or suite changes.
#   usage: arm64-sysroot.sh DIR     env: CAMGW_DEBIAN_SUITE (default trixie)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"
# shellcheck source=../lib/debian-mirror.sh
. "$here/../lib/debian-mirror.sh"

dir=${1:?usage: arm64-sysroot.sh DIR}
suite=${CAMGW_DEBIAN_SUITE:-trixie}
# Raspberry Pi OS (trixie) ships these names; the .deb depends on them.
pkgs="nodejs,libx264-164,libyuv0,libturbojpeg0,libasound2,libopus0"
want="$suite $pkgs"
if [[ -f "$dir/.camgw-sysroot" && "$(cat "$dir/.camgw-sysroot")" == "$want" ]]; then
  exit 0
fi
need_tool mmdebstrap mmdebstrap
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
mirror=$(debian_mirror)
args=(--variant=extract --architectures=arm64 --include="$pkgs" --quiet)
# Without root mmdebstrap needs user namespaces (unshare mode).
[[ $(id -u) -eq 0 ]] && args+=(--mode=root)
# shellcheck disable=SC2086 # mirror is one URL or nothing
mmdebstrap "${args[@]}" "$suite" "$dir" ${mirror:+"deb $mirror $suite main"} ||
  die "mmdebstrap could not fetch Debian $suite arm64 packages (mirror: ${mirror:-default}); set CAMGW_DEBIAN_SUITE=bookworm if your mirror lacks $suite"
# The extract variant leaves out the merged-/usr links that base-files makes
# on a real system; the arm64 loader (/lib/ld-linux-aarch64.so.1) needs them.
for d in bin sbin lib; do
  [[ -e "$dir/$d" ]] || ln -s "usr/$d" "$dir/$d"
done
need_file "$dir/usr/bin/node" "mmdebstrap finished but nodejs is not in $dir"
echo "$want" >"$dir/.camgw-sysroot"
note "arm64 sysroot ready in $dir ($(du -sh "$dir" | cut -f1))"
