import { describe, expect, it } from "vitest";
import { bearerToken, SHARED_TOKEN_ACCOUNT, sharedTokenAuthorizer } from "./whep-auth.js";

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
});
