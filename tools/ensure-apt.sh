#!/usr/bin/env bash
# Installs the Debian packages listed in the given folders' *.txt files that
# are missing: deps/apt/run (what building and running need) and deps/apt/dev
# (tests, packaging, flashing). One package a line; '#' starts a comment.
# Uses sudo when not root, and never prompts (CI has no stdin).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -gt 0 ]] || { echo "usage: tools/ensure-apt.sh deps/apt/run [deps/apt/dev]" >&2; exit 2; }
lists=()
for dir in "$@"; do lists+=("$dir"/*.txt); done
mapfile -t wanted < <(cat "${lists[@]}" | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
arch=$(dpkg --print-architecture)
missing=()
for p in "${wanted[@]}"; do
  # Ask for the native architecture first: with multiarch on (deploy's arm64
  # cross build), a plain query prints one status per installed architecture.
  # Architecture-independent packages only answer the plain query.
  status=$(dpkg-query -W -f='${Status}' "$p:$arch" 2>/dev/null) ||
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=""
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
echo "ensure-apt: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine; refresh them once.
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
