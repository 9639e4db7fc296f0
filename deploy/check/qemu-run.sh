#!/usr/bin/env bash
# Runs a command of Debian's arm64 nodejs under qemu-user on this x86
# machine, optionally on the arm64 virtual board:
#   qemu-run.sh SYSROOT [--sim LIBVDEV] [--env K=V]... -- NODE_ARGS...
# The sysroot comes from arm64-sysroot.sh; qemu's -L makes the arm64 loader
# and libraries resolve inside it. The virtual board's LD_PRELOAD is given to
# the guest only (-E), never to qemu itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"

sysroot=${1:?usage: qemu-run.sh SYSROOT [--sim LIB] [--env K=V]... -- NODE_ARGS...}
shift
need_tool qemu-aarch64-static qemu-user-static
need_file "$sysroot/usr/bin/node" "run deploy/check/arm64-sysroot.sh $sysroot"
qargs=(-L "$sysroot")
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sim)
      need_file "$2" "run deploy/dist/cross-sim.sh"
      file -b "$2" | grep -q 'ARM aarch64' || die "$2 is not an arm64 library"
      qargs+=(-E "LD_PRELOAD=$(readlink -f "$2")")
      shift 2
      ;;
    --env)
      qargs+=(-E "$2")
      shift 2
      ;;
    --)
      shift
      break
      ;;
    *) die "qemu-run.sh: unknown option $1" ;;
  esac
done
exec qemu-aarch64-static "${qargs[@]}" "$sysroot/usr/bin/node" "$@"
