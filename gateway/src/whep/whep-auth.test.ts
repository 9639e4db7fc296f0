import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AccountStore } from "../auth/account-store.js";
import {
  accountTokenAuthorizer,
  bearerToken,
  SHARED_TOKEN_ACCOUNT,
  sharedTokenAuthorizer,
} from "./whep-auth.js";

describe("WHEP bearer tokens", () => {
  it("reads RFC 6750 Bearer credentials and nothing else", () => {
    expect(bearerToken("Bearer abc.DEF-123_~+/=")).toBe("abc.DEF-123_~+/=");
    expect(bearerToken("bearer abc")).toBe("abc");
    for (const bad of [undefined, "", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "Bearer ä"]) {
      expect(bearerToken(bad), String(bad)).toBeUndefined();
    }
  });

  it("lets the shared token in as the whep account, and no other", async () => {
    const auth = sharedTokenAuthorizer("s3cret-token");
    expect(await auth.authorize("s3cret-token")).toEqual({ account: SHARED_TOKEN_ACCOUNT });
    expect(await auth.authorize("s3cret-toke")).toBeNull();
    expect(await auth.authorize("")).toBeNull();
    expect(auth.disabledReason).toBeUndefined();
  });

  it("refuses everyone when no token is configured, and says why", async () => {
    const auth = sharedTokenAuthorizer("");
    expect(await auth.authorize("")).toBeNull();
    expect(await auth.authorize("anything")).toBeNull();
    expect(auth.disabledReason).toMatch(/whep-token/);
  });

  it("lets a viewer in with its own token (camgw viewer add), as that account, until it is removed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "camgw-whep-auth-"));
    try {
      const accounts = await AccountStore.open(dir);
      const alice = await accounts.add("alice");
      const auth = accountTokenAuthorizer(
        (token) => accounts.verifyToken(token),
        sharedTokenAuthorizer("shared-s3cret"),
      );
      expect(await auth.authorize(alice.token)).toEqual({ account: "alice" });
      expect(await auth.authorize(`${alice.token}x`)).toBeNull();
      expect(await auth.authorize("shared-s3cret")).toEqual({ account: SHARED_TOKEN_ACCOUNT });
      await accounts.remove("alice");
      expect(await auth.authorize(alice.token)).toBeNull();
      const noShared = accountTokenAuthorizer(
        (token) => accounts.verifyToken(token),
        sharedTokenAuthorizer(""),
      );
      expect(await noShared.authorize("")).toBeNull();
      expect(noShared.disabledReason).toBeUndefined();
      accounts.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
