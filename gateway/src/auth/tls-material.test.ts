import { X509Certificate, createPrivateKey } from "node:crypto";
import { statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureStateDir } from "./state-dir.js";
import { CERT_FILE, KEY_FILE, loadTlsMaterial, makeSelfSigned } from "./tls-material.js";

const NAMES = { dns: ["localhost", "porch.local"], ip: ["127.0.0.1", "::1"] };

/**
 * The certificate of the HTTPS and MQTT-over-TLS listeners (issue 10,
 * "TLS"): self-signed on the first start and kept, renewed 30 days before
 * it expires, or the user's own files, checked before they are served.
 */
describe("the gateway's TLS certificate", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "camgw-tls-"));
    await ensureStateDir(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is made once, self-signed ECDSA P-256 for this machine's names, its key kept 0600", async () => {
    const first = await loadTlsMaterial({ stateDir: dir, names: NAMES });
    expect(first).toMatchObject({ origin: "self-signed", created: true });
    const cert = new X509Certificate(first.cert);
    expect(cert.fingerprint256).toBe(first.fingerprint);
    expect(cert.checkPrivateKey(createPrivateKey(first.key))).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: "prime256v1" });
    expect(cert.subjectAltName).toBe(
      "DNS:localhost, DNS:porch.local, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
    );
    expect(cert.ca).toBe(false);
    expect(cert.verify(cert.publicKey)).toBe(true);
    for (const file of [CERT_FILE, KEY_FILE]) {
      expect(statSync(join(dir, file)).mode & 0o777, file).toBe(0o600);
    }
    // The next start serves the same one: the fingerprint a person checked stays true.
    const again = await loadTlsMaterial({ stateDir: dir, names: NAMES });
    expect(again).toMatchObject({ created: false, fingerprint: first.fingerprint });
  });

  it("is renewed on a start less than 30 days before it expires", async () => {
    const first = await loadTlsMaterial({ stateDir: dir, names: NAMES });
    const expires = new Date(new X509Certificate(first.cert).validTo).getTime();
    const early = await loadTlsMaterial({
      stateDir: dir,
      names: NAMES,
      now: new Date(expires - 31 * 86_400_000),
    });
    expect(early.fingerprint).toBe(first.fingerprint);
    const late = await loadTlsMaterial({
      stateDir: dir,
      names: NAMES,
      now: new Date(expires - 29 * 86_400_000),
    });
    expect(late.created).toBe(true);
    expect(late.fingerprint).not.toBe(first.fingerprint);
  });

  it("is the user's own when tls-cert and tls-key are set, checked to belong together", async () => {
    const mine = await makeSelfSigned(NAMES);
    const other = await makeSelfSigned(NAMES);
    const files = {
      cert: join(dir, "mine.crt"),
      key: join(dir, "mine.key"),
      otherKey: join(dir, "other.key"),
      junk: join(dir, "junk.crt"),
    };
    await writeFile(files.cert, mine.cert);
    await writeFile(files.key, mine.key);
    await writeFile(files.otherKey, other.key);
    await writeFile(files.junk, "not a certificate\n");
    const used = await loadTlsMaterial({ stateDir: dir, certFile: files.cert, keyFile: files.key });
    expect(used).toEqual({ ...mine, origin: "configured", created: false });
    // Nothing self-signed is made beside it.
    expect(() => statSync(join(dir, CERT_FILE))).toThrow(/ENOENT/);

    await expect(
      loadTlsMaterial({ stateDir: dir, certFile: files.cert, keyFile: files.otherKey }),
    ).rejects.toThrow(`${files.otherKey} is not the key of ${files.cert}`);
    await expect(loadTlsMaterial({ stateDir: dir, certFile: files.cert })).rejects.toThrow(
      "tls-cert and tls-key go together",
    );
    await expect(
      loadTlsMaterial({ stateDir: dir, certFile: files.junk, keyFile: files.key }),
    ).rejects.toThrow(`${files.junk} is not a PEM certificate`);
    await expect(
      loadTlsMaterial({ stateDir: dir, certFile: join(dir, "gone.crt"), keyFile: files.key }),
    ).rejects.toThrow(/cannot read the TLS certificate .*gone\.crt/);
  });
});
