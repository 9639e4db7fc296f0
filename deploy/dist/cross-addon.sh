#!/usr/bin/env bash
# Cross-builds the native addon (native/binding.gyp, target camgw_native) for
# arm64 with Debian's aarch64 cross compiler and the arm64 libx264/libyuv
# from multiarch (deploy/ensure-arm64.sh). Works on a copy of native/ so the
# host's own native/build (x86) is left alone.
#   usage: cross-addon.sh OUT_DIR   -> OUT_DIR/camgw_native.node (aarch64)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"

out=${1:?usage: cross-addon.sh OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
need_tool aarch64-linux-gnu-g++ g++-aarch64-linux-gnu
native=${CAMGW_NATIVE_SRC:-$root/native}
need_file "$native/binding.gyp" "the native addon is not there yet (helper 'native' owns native/)"
[[ -e /usr/lib/aarch64-linux-gnu/libx264.so ]] || die "arm64 libx264 missing; run deploy/ensure-arm64.sh"
[[ -e /usr/lib/aarch64-linux-gnu/libasound.so && -e /usr/lib/aarch64-linux-gnu/libopus.so ]] ||
  die "arm64 libasound/libopus missing; run deploy/ensure-arm64.sh"
[[ -e /usr/lib/aarch64-linux-gnu/libturbojpeg.so ]] ||
  die "arm64 libturbojpeg missing; run deploy/ensure-arm64.sh"

work="$root/build/deploy/native-arm64"
mkdir -p "$work"
# Only the inputs node-gyp needs; rsync-free so no extra tool is needed.
# cp -p keeps source times, so make rebuilds only what changed.
rm -rf "$work/src"
cp -p "$native/binding.gyp" "$work/binding.gyp"
cp -a "$native/src" "$work/src"
[[ -f "$native/package.json" ]] && cp "$native/package.json" "$work/"
# binding.gyp usually finds node-addon-api by require(); give it the root's.
ln -sfn "$root/node_modules" "$work/node_modules"

export_arm64_env
# Node-API headers are the same for every architecture; ~/.npmrc points
# node-gyp at /usr (nodedir) so no header download is attempted.
cd "$work"
# Configure again only when binding.gyp changed; make is incremental after.
gyp=("$root/node_modules/.bin/node-gyp")
nodedir="--nodedir=${CAMGW_NODEDIR:-/usr}"
{
  if [[ ! -f build/Makefile || binding.gyp -nt build/Makefile ]]; then
    "${gyp[@]}" configure --arch=arm64 "$nodedir"
  fi &&
    "${gyp[@]}" build --arch=arm64 --jobs=2 "$nodedir"
} >"$work/node-gyp.log" 2>&1 ||
  {
    tail -40 "$work/node-gyp.log" >&2
    die "arm64 addon build failed (full log: $work/node-gyp.log)"
  }
built="$work/build/Release/camgw_native.node"
need_file "$built" "node-gyp ran but produced no camgw_native.node (is the target named camgw_native?)"
file -b "$built" | grep -q 'ARM aarch64' || die "$built is not aarch64: $(file -b "$built")"
mkdir -p "$out"
cp -p "$built" "$out/camgw_native.node"
note "built $out/camgw_native.node ($(file -b "$built" | cut -d, -f1-2))"
