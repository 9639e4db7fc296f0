#!/usr/bin/env bash
# First step of every make target: is there a Node.js (and npm) new enough
# for camgw? Says what is needed and how to get it, instead of letting npm or
# the build fail later with a message that does not say so.
set -euo pipefail
cd "$(dirname "$0")/.."
node=${NODE:-node}
if ! command -v "$node" >/dev/null; then
  echo "camgw needs Node.js 20.19 or newer, and there is no '$node' here." >&2
  echo "  Debian 13 (trixie) and Raspberry Pi OS (trixie): sudo apt-get install nodejs npm" >&2
  echo "  Debian 12 (bookworm) ships Node.js 18, too old: see README.md, \"What it runs on\"." >&2
  exit 1
fi
"$node" gateway/bin/node-version.js
if ! command -v npm >/dev/null; then
  echo "camgw's build needs npm beside Node.js: sudo apt-get install npm" >&2
  exit 1
fi
