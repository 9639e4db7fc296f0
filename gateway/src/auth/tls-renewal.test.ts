import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HttpServer } from "../http/http-server.js";
import { MetricsRegistry } from "../http/metrics.js";
import { EmbeddedBroker } from "../signaling/broker.js";
import { ensureStateDir } from "./state-dir.js";
import { fingerprintSeen, LOOPBACK_NAMES, userCertFiles } from "../testing/tls-files.js";
import { CERT_FILE, loadTlsMaterial, type TlsMaterial } from "./tls-material.js";
import { TlsRenewal } from "./tls-renewal.js";

const DAY_MS = 86_400_000;

/**
 * A running gateway's certificate is renewed without a restart (issue 10,
 * "TLS"): the real HTTPS server and the embedded broker's MQTT/TLS listener,
 * wired as app.ts wires them, start showing a TLS client the new
 * certificate once TlsRenewal finds one: a self-signed one near its expiry
 * (the clock moved), or the user's files replaced.
 */
describe("the TLS certificate of a running gateway", () => {
  let dir: string;
  let http: HttpServer | undefined;
  let broker: EmbeddedBroker | undefined;
  let renewal: TlsRenewal | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "camgw-tls-renewal-"));
    await ensureStateDir(dir);
  });
  afterEach(async () => {
    renewal?.close();
    await broker?.close();
    await http?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** HTTPS and MQTT/TLS on free loopback ports, serving `tls`, swapped on `renewed`. */
  async function serve(tls: TlsMaterial): Promise<{ https: number; mqtts: number }> {
    http = new HttpServer({
      listeners: [{ host: "127.0.0.1", port: 0, tls }],
      viewerRoot: null,
      health: () => [],
      metrics: new MetricsRegistry(),
    });
    const [https] = await http.listen();
    broker = await EmbeddedBroker.start({
      host: "127.0.0.1",
      port: null,
      tls: { port: 0, cert: tls.cert, key: tls.key },
    });
    return { https: https?.port ?? 0, mqtts: broker.tlsPort ?? 0 };
  }

  const follow = (r: TlsRenewal): void => {
    r.on("renewed", (tls) => {
      http?.setTls(tls);
      broker?.setTls(tls);
    });
  };

  it("serves a new self-signed certificate once a daily check finds it 30 days from expiry", async () => {
    const first = await loadTlsMaterial({ stateDir: dir, names: LOOPBACK_NAMES });
    const ports = await serve(first);
    const expires = new Date(new X509Certificate(first.cert).validTo).getTime();
    let clock = new Date(expires - 31 * DAY_MS);
    const renewed: TlsMaterial[] = [];
    // A "day" of 50 ms: the timer's own checks find it, not a call of the test's.
    renewal = new TlsRenewal({
      stateDir: dir,
      names: LOOPBACK_NAMES,
      current: first,
      now: () => clock,
      intervalMs: 50,
    });
    follow(renewal);
    const errors: Error[] = [];
    renewal.on("renewed", (tls) => renewed.push(tls));
    renewal.on("error", (err) => errors.push(err));
    // 31 days left: nothing changes.
    expect(await renewal.check()).toBeNull();
    expect(await fingerprintSeen(ports.https)).toBe(first.fingerprint);
    expect(await fingerprintSeen(ports.mqtts)).toBe(first.fingerprint);

    clock = new Date(expires - 29 * DAY_MS);
    await expect.poll(() => renewed.length, { timeout: 10_000 }).toBe(1);
    const next = renewed[0];
    expect(next?.fingerprint).not.toBe(first.fingerprint);
    expect(next?.origin).toBe("self-signed");
    expect(new X509Certificate(await readFile(join(dir, CERT_FILE))).fingerprint256).toBe(
      next?.fingerprint,
    );
    expect(await fingerprintSeen(ports.https)).toBe(next?.fingerprint);
    expect(await fingerprintSeen(ports.mqtts)).toBe(next?.fingerprint);
    // Renewed once: the next checks find the new one good for 825 days.
    expect(await renewal.check()).toBeNull();
    expect(renewed).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it("serves the user's renewed certificate when its files change, and keeps the old one when the new files do not load", async () => {
    const files = await userCertFiles(dir);
    const current = await loadTlsMaterial({
      stateDir: dir,
      certFile: files.cert,
      keyFile: files.key,
    });
    const ports = await serve(current);
    const errors: Error[] = [];
    renewal = new TlsRenewal({
      stateDir: dir,
      certFile: files.cert,
      keyFile: files.key,
      current,
      filePollMs: 50,
    });
    follow(renewal);
    renewal.on("error", (err) => errors.push(err));

    // A half-written certificate: an error that names the one still served.
    await files.breakCert();
    await expect.poll(() => errors.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(errors[0]?.message).toContain(`is not a PEM certificate`);
    expect(errors[0]?.message).toContain(`still serving SHA-256 ${files.fingerprint}`);
    expect(await fingerprintSeen(ports.https)).toBe(files.fingerprint);

    // The renewed pair, written as certbot would: certificate, then key.
    const renewed = await files.renew();
    await expect.poll(() => fingerprintSeen(ports.https), { timeout: 10_000 }).toBe(renewed);
    expect(await fingerprintSeen(ports.mqtts)).toBe(renewed);
    expect(renewal.current).toMatchObject({
      origin: "configured",
      fingerprint: renewed,
    });
    // Nothing self-signed was made beside the user's files.
    await expect(readFile(join(dir, CERT_FILE))).rejects.toThrow(/ENOENT/);
  });
});
