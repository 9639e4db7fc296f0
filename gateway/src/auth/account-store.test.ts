import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccountStore } from "./account-store.js";
import { ensureStateDir } from "./state-dir.js";

/**
 * The running gateway's store and `camgw viewer add`'s, two processes on one
 * state directory, played here by two stores.
 */
describe("a running gateway's accounts", () => {
  let dir: string;
  let gateway: AccountStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "camgw-accounts-"));
    await ensureStateDir(dir);
    gateway = await AccountStore.open(dir);
    gateway.watch();
  });

  afterEach(async () => {
    gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("let a viewer added by another process log in at once, before the directory watch reports it", async () => {
    const cli = await AccountStore.open(dir);
    const added = await cli.add("mallory");
    // No wait: the watch's reload comes tens of ms later; a link opened at once must work.
    expect(await gateway.verifyPassword(added.username, added.password)).toBe(true);
    expect(await gateway.verifyToken(added.token)).toBe("mallory");
    expect(gateway.has("mallory")).toBe(true);
  });

  it("still refuse a name that is in no file, and a wrong password of a known one", async () => {
    const cli = await AccountStore.open(dir);
    const added = await cli.add("alice");
    expect(await gateway.verifyPassword("bob", added.password)).toBe(false);
    expect(await gateway.verifyPassword("alice", `${added.password}x`)).toBe(false);
    expect(await gateway.verifyToken("bob.secret")).toBeUndefined();
  });
});
