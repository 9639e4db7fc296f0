#!/usr/bin/env bash
# Makes this (x86) Debian machine able to cross-build camgw for arm64:
# registers the arm64 dpkg architecture (multiarch) and installs the arm64
# development libraries the native addon and virtual board link against.
# Idempotent: does nothing when all is already there. Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(libx264-dev:arm64 libyuv-dev:arm64 libturbojpeg0-dev:arm64 libasound2-dev:arm64 libopus-dev:arm64)
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "ensure-arm64: adding the arm64 dpkg architecture"
  $sudo dpkg --add-architecture arm64
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "ensure-arm64: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# After adding an architecture the lists lack its packages; refresh once.
# A third-party source that does not serve arm64 only warns here.
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq || true
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
