#!/usr/bin/env bash
# Cross-builds the virtual board (firmware-sim/vdev, LD_PRELOAD library) for
# arm64, for the qemu checks only: it is not shipped in the .deb.
#   usage: cross-sim.sh OUT_DIR   -> OUT_DIR/libcamgw-vdev.so (aarch64)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"

out=${1:?usage: cross-sim.sh OUT_DIR}
need_tool aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
need_file "$root/firmware-sim/vdev/Makefile" "the virtual board is not there yet (helper 'sim' owns firmware-sim/)"
export_arm64_env
mkdir -p "$out"
out=$(cd "$out" && pwd)
# Only the library: the vdev test programs are for the host.
make -C "$root/firmware-sim/vdev" -j2 CC="$CC" BUILD_DIR="$out" "$out/libcamgw-vdev.so" >"$out/make.log" 2>&1 ||
  {
    tail -40 "$out/make.log" >&2
    die "arm64 virtual board build failed (full log: $out/make.log)"
  }
need_file "$out/libcamgw-vdev.so" "firmware-sim/vdev's Makefile did not put libcamgw-vdev.so in BUILD_DIR"
file -b "$out/libcamgw-vdev.so" | grep -q 'ARM aarch64' || die "not aarch64: $(file -b "$out/libcamgw-vdev.so")"
note "built $out/libcamgw-vdev.so"
