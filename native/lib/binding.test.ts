import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { locateAddon } from "./binding.js";

describe("locateAddon", () => {
  // A throwaway tree shaped like a checkout: the addon where node-gyp puts
  // it, and the two places modules load it from (native/lib under vitest,
  // the compiled build/native/lib). Made in beforeAll, so a run that skips
  // these tests (-t) leaves nothing behind.
  let root = "";
  let built = "";
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "camgw-locate-"));
    built = join(root, "native", "build", "Release", "camgw_native.node");
    mkdirSync(join(root, "native", "build", "Release"), { recursive: true });
    mkdirSync(join(root, "native", "lib"), { recursive: true });
    mkdirSync(join(root, "build", "native", "lib"), { recursive: true });
    writeFileSync(built, "");
  });
  afterAll(() => {
    if (root !== "") rmSync(root, { recursive: true, force: true });
  });

  it("finds the built addon from the sources and from the compiled modules alike", () => {
    expect(locateAddon(join(root, "native", "lib"), {})).toBe(built);
    expect(locateAddon(join(root, "build", "native", "lib"), {})).toBe(built);
  });

  it("takes CAMGW_NATIVE_ADDON first, and refuses one that names no file", () => {
    const other = join(root, "asan.node");
    writeFileSync(other, "");
    expect(locateAddon(join(root, "native", "lib"), { CAMGW_NATIVE_ADDON: other })).toBe(other);
    expect(() =>
      locateAddon(join(root, "native", "lib"), { CAMGW_NATIVE_ADDON: join(root, "gone.node") }),
    ).toThrow(/CAMGW_NATIVE_ADDON names .*gone\.node, which does not exist/);
  });

  it("says how to build the addon when there is none above the module", () => {
    const bare = mkdtempSync(join(tmpdir(), "camgw-locate-bare-"));
    try {
      expect(() => locateAddon(bare, {})).toThrow(/run `make native-build`/);
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
