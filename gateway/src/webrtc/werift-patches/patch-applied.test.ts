import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

/**
 * patches/werift+<version>.patch (docs/werift-patches.md) changes werift's
 * ESM bundle, lib/index.mjs: the file `import "werift"` loads. npm ci applies
 * it from the root package.json's postinstall (patch-package, which fails the
 * install if it does not apply). These checks say plainly what is wrong when
 * werift is bumped or resolved differently; the behaviour itself is tested
 * by the other files here.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
// A root dependency: npm installs it at the top of the tree (its exports hide package.json).
const weriftDir = join(root, "node_modules/werift");

it("patches the werift version the root package.json pins", () => {
  const pinned = (
    JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    }
  ).dependencies.werift;
  const installed = (
    JSON.parse(readFileSync(join(weriftDir, "package.json"), "utf8")) as { version: string }
  ).version;
  const patches = readdirSync(join(root, "patches")).filter((f) => f.startsWith("werift+"));
  expect(installed).toBe(pinned);
  expect(patches).toEqual([`werift+${installed}.patch`]);
});

it('has the patch applied to the bundle that `import "werift"` loads', () => {
  const manifest = JSON.parse(readFileSync(join(weriftDir, "package.json"), "utf8")) as {
    exports: Record<string, { import?: string }>;
  };
  expect(manifest.exports["."]?.import).toBe("./lib/index.mjs");
  const bundle = readFileSync(join(weriftDir, "lib/index.mjs"), "utf8");
  for (const marker of [
    "function verifyServerKeyExchangeSignature(",
    "function verifyCertificateVerifySignature(",
    "var ICE_PAC_TIMEOUT = ",
    "static PermissionRefreshTime = ",
    "function allocateTurnRacingTransports(",
    "var STUN_AFTER_RELAY_GRACE = ",
    "remoteRejected = false;",
  ]) {
    expect(bundle, marker).toContain(marker);
  }
});
