#!/usr/bin/env bash
# Bundles camgw for arm64 into dist/camgw_<version>_arm64.deb.
# Inputs (built by `make dist`'s prerequisites):
#   build/gateway, build/native, build/firmware-sim (tsc), gateway/bin,
#   firmware-sim/bin, web-viewer/dist, ADDON (the arm64 camgw_native.node
#   from cross-addon.sh) and SIMLIB (the arm64 libcamgw-vdev.so from
#   cross-sim.sh).
#   usage: build-deb.sh ADDON SIMLIB OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib/common.sh
. "$here/../lib/common.sh"

addon=${1:?usage: build-deb.sh ADDON SIMLIB OUT_DIR}
simlib=${2:?usage: build-deb.sh ADDON SIMLIB OUT_DIR}
outdir=${3:?usage: build-deb.sh ADDON SIMLIB OUT_DIR}
need_tool dpkg-deb dpkg
need_file "$addon" "run deploy/dist/cross-addon.sh first"
need_file "$simlib" "run deploy/dist/cross-sim.sh first"
need_file "$root/build/firmware-sim/src/cli.js" "the virtual board's harness is not compiled (make ts-build)"
need_file "$root/build/gateway/src/cli.js" "the gateway is not compiled: run 'npx tsc -p tsconfig.build.json' (make ts-build)"
need_file "$root/gateway/bin/camgw.js" "gateway/bin/camgw.js (the CLI entry) is not there yet"
need_file "$root/web-viewer/dist" "run make viewer-build"

version=$(camgw_version "$root")
deb="$outdir/camgw_${version}_arm64.deb"
# Up to date when nothing that goes into the package is newer than it.
inputs=("$addon" "$simlib" "$root/build/firmware-sim" "$root/firmware-sim/bin" "$root/build/gateway" "$root/build/native" "$root/gateway/bin" "$root/gateway/package.json"
  "$root/web-viewer/dist" "$root/package.json" "$root/package-lock.json" "$here/.." "$root/docs/deploy.md")
if [[ -f "$deb" && -z "$(find "${inputs[@]}" -newer "$deb" -print -quit 2>/dev/null)" ]]; then
  note "$deb is up to date"
  exit 0
fi
[[ "$version" =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "gateway/package.json version '$version' is not a Debian version"
stage="$root/build/deploy/stage"
rm -rf "$stage"
opt="$stage/opt/camgw"
mkdir -p "$opt/gateway/bin" "$opt/native/build/Release" "$opt/firmware-sim/bin" "$opt/firmware-sim/build" "$opt/web-viewer" "$opt/build" \
  "$stage/usr/bin" "$stage/etc/camgw" "$stage/lib/systemd/system" "$stage/DEBIAN" \
  "$stage/usr/share/doc/camgw"

# Compiled TypeScript: only what runs on the board (no tests).
cp -a "$root/build/gateway" "$opt/build/"
cp -a "$root/build/native" "$opt/build/"
# The virtual board, for a board without a camera (`source: auto` falls back
# to it, `source: sim` asks for it): `camgw run` re-executes itself through
# firmware-sim/bin with the arm64 library preloaded.
cp -a "$root/build/firmware-sim" "$opt/build/"
cp -a "$root/firmware-sim/bin/." "$opt/firmware-sim/bin/"
cp "$simlib" "$opt/firmware-sim/build/libcamgw-vdev.so"
find "$opt/build" \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.test.d.ts' \) -delete
cp -a "$root/gateway/bin/." "$opt/gateway/bin/"
cp "$root/gateway/package.json" "$opt/gateway/package.json"
cp "$addon" "$opt/native/build/Release/camgw_native.node"
aarch64-linux-gnu-strip --strip-unneeded "$opt/native/build/Release/camgw_native.node" "$opt/firmware-sim/build/libcamgw-vdev.so"
cp -a "$root/web-viewer/dist" "$opt/web-viewer/"

# Production npm dependencies, from the root lockfile (the same versions the
# tests ran with). The workspaces are stubbed so `npm ci` accepts the lock;
# their links are dropped afterwards. --cpu/--os pick arm64 binaries for any
# native dependency (today all are pure JS). --omit=optional: the only
# optional ones are ws's native speed-ups (bufferutil, utf-8-validate), which
# ship x64 prebuilds only and which ws does without.
deps="$root/build/deploy/npm-prod"
rm -rf "$deps"
mkdir -p "$deps"
cp "$root/package.json" "$root/package-lock.json" "$deps/"
for ws in $(node -p 'require(process.argv[1]).workspaces.join(" ")' "$root/package.json"); do
  mkdir -p "$deps/$ws"
  cp "$root/$ws/package.json" "$deps/$ws/"
done
(cd "$deps" && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --prefer-offline \
  --cpu=arm64 --os=linux --loglevel=error) || die "npm ci --omit=dev failed in $deps"
# --ignore-scripts skipped the root postinstall: apply our werift patches
# (docs/werift-patches.md: DTLS signatures, ICE, TURN) here, or the board
# would run werift as shipped.
cp -r "$root/patches" "$deps/"
(cd "$deps" && "$root/node_modules/.bin/patch-package" --error-on-fail --error-on-warn) ||
  die "the werift patch did not apply in $deps"
# The workspace links (camgw, @camgw/*) point at sources not shipped.
find "$deps/node_modules" -maxdepth 2 -type l -delete
find "$deps/node_modules" -maxdepth 1 -type d -empty -delete
cp -a "$deps/node_modules" "$opt/node_modules"

# The installed tree's package.json: ESM ("type": "module") for build/**.js
# and the dependency list, for anyone inspecting the install.
node -e '
  const root = require(process.argv[1]);
  const pkg = { name: "camgw", version: process.argv[2], private: true, type: "module",
    description: root.description, license: root.license, dependencies: root.dependencies };
  require("fs").writeFileSync(process.argv[3], JSON.stringify(pkg, null, 2) + "\n");
' "$root/package.json" "$version" "$opt/package.json"

install -m 0755 "$here/../package/camgw.sh" "$stage/usr/bin/camgw"
install -m 0644 "$here/../package/config.yaml" "$stage/etc/camgw/config.yaml"
install -m 0644 "$here/../package/camgw.service" "$stage/lib/systemd/system/camgw.service"
install -m 0644 "$root/docs/deploy.md" "$stage/usr/share/doc/camgw/deploy.md"
install -m 0644 "$here/../package/copyright" "$stage/usr/share/doc/camgw/copyright"
for s in postinst prerm postrm; do install -m 0755 "$here/../package/$s" "$stage/DEBIAN/$s"; done
install -m 0644 "$here/../package/conffiles" "$stage/DEBIAN/conffiles"
size_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$size_kb/" "$here/../package/control.in" >"$stage/DEBIAN/control"

# Files owned by root whatever user builds; directories 0755, no group write.
chmod -R u+rwX,go+rX,go-w "$stage"
mkdir -p "$outdir"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
note "wrote $deb ($(du -h "$deb" | cut -f1))"
