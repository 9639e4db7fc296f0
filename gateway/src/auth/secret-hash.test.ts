import { describe, expect, it } from "vitest";
import { hashSecret, randomSecret, verifySecret } from "./secret-hash.js";

describe("randomSecret", () => {
  it("never starts a secret with a dash, which a command line would take for an option", () => {
    // Without the check one base64url secret in 64 starts with "-": 4000
    // draws all missing it by chance has a probability of about 1e-27.
    const secrets = Array.from({ length: 4000 }, () => randomSecret(18));
    expect(secrets.filter((s) => s.startsWith("-"))).toEqual([]);
    expect(new Set(secrets).size).toBe(secrets.length);
    expect(secrets.every((s) => /^[A-Za-z0-9_-]{24}$/.test(s))).toBe(true);
  });
});

describe("hashSecret", () => {
  it("verifies the secret it hashed and refuses any other", async () => {
    const secret = randomSecret();
    const hash = await hashSecret(secret, 1000);
    expect(await verifySecret(secret, hash)).toBe(true);
    expect(await verifySecret(`${secret}x`, hash)).toBe(false);
  });
});
