# shellcheck shell=bash
# Shared helpers for deploy/ scripts (sourced, not run).
# Every failure names what is missing and how to get it.

die() {
  echo "error: $*" >&2
  exit 1
}

note() {
  echo "${0##*/}: $*" >&2
}

# need_tool CMD PACKAGE: fail clearly when a command is missing.
need_tool() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found; install the Debian package '$2' (tools/ensure-apt.sh deps/apt/dev installs deps/apt/dev/deploy.txt)"
}

# need_file PATH HINT: fail clearly when a build input is missing.
need_file() {
  [[ -e "$1" ]] || die "$1 is missing: $2"
}

# The product version: the gateway package's version (gateway/package.json).
camgw_version() {
  node -p 'require(process.argv[1]).version' "$1/gateway/package.json"
}

# Cross-compilation environment for aarch64 (Debian multiarch + cross gcc).
# pkg-config must see only the arm64 .pc files, never the host's.
export_arm64_env() {
  export CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++
  export AR=aarch64-linux-gnu-ar STRIP=aarch64-linux-gnu-strip
  export PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig
  export PKG_CONFIG_PATH=""
  export PKG_CONFIG_SYSROOT_DIR=""
}
