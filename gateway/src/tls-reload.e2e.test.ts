import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type GatewayProcess } from "./testing/gateway-process.js";
import { fingerprintSeen, userCertFiles, type UserCertFiles } from "./testing/tls-files.js";
import { waitUntil } from "./testing/wait-until.js";

const portOf = (url: string | undefined): number => Number(new URL(url ?? "").port);

/**
 * A user's own certificate (`tls-cert`/`tls-key`), renewed on disk the way
 * certbot renews one, is served by a running `camgw run` on HTTPS and MQTT
 * over TLS without a restart, and the new fingerprint is logged; a broken
 * new file is logged as an error and the old certificate stays served. The
 * files are polled every 10 s and read once still for 15 s (tls-renewal.ts),
 * so this test takes about a minute.
 * (A self-signed one near its expiry takes the same path; its clock is
 * tested in auth/tls-renewal.test.ts.)
 */
describe("camgw run serves a renewed certificate without a restart", () => {
  let dir: string;
  let gw: GatewayProcess;
  let files: UserCertFiles;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "camgw-tls-reload-"));
    files = await userCertFiles(dir);
    gw = await startGateway({ args: ["--tls-cert", files.cert, "--tls-key", files.key] });
  });

  afterAll(async () => {
    await gw.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps the old certificate when the new file is broken, then serves the renewed pair and logs its fingerprint", async () => {
    const https = portOf(gw.httpsUrl);
    const mqtts = portOf(gw.mqttsUrl);
    const before = gw.fingerprint;
    expect(await fingerprintSeen(https)).toBe(before);

    await files.breakCert();
    await waitUntil(() => /TLS: cannot load the new TLS certificate/.test(gw.output()), 60_000);
    expect(gw.output()).toContain(`still serving SHA-256 ${before}`);
    expect(await fingerprintSeen(https)).toBe(before);

    const renewed = await files.renew();
    await waitUntil(
      () => gw.output().includes(`serving the new TLS certificate from ${files.cert}`),
      60_000,
    );
    expect(gw.output()).toContain(`SHA-256 ${renewed}`);
    // The certificate was written before its key: read once both were still, no mismatch logged.
    expect(gw.output()).not.toContain("is not the key of");
    expect(await fingerprintSeen(https)).toBe(renewed);
    expect(await fingerprintSeen(mqtts)).toBe(renewed);
    // Logged once.
    expect(gw.output().split(`SHA-256 ${renewed}`)).toHaveLength(2);
  }, 180_000);
});
