import { mkdtemp, rm } from "node:fs/promises";
import { get } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccountStore, type NewViewer } from "../auth/account-store.js";
import { loadTlsMaterial } from "../auth/tls-material.js";
import { DEFAULT_MAX_CONNECTIONS_PER_ADDRESS } from "./address-cap.js";
import { HttpServer, MAX_HTTP_CONNECTIONS } from "./http-server.js";
import { MetricsRegistry } from "./metrics.js";

/**
 * Issue 10's limits on the gateway's web ports, on real sockets: slow,
 * silent and idle clients are cut off (headers within 10 s, a TLS handshake
 * within 10 s, a kept-alive connection idle for 5 s), connections are
 * capped, and /metrics (with the details of /healthz) asks for a viewer's
 * token when `metrics-access` is `token`.
 */
/** The status of a GET on a connection of its own; 0 when the connection is closed unanswered. */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => resolve(0));
  });
}

describe("the gateway's web ports", () => {
  let dir: string;
  let store: AccountStore;
  let viewer: NewViewer;
  let server: HttpServer;
  let plainPort: number;
  let tlsPort: number;
  const sockets: Socket[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "camgw-http-limits-"));
    store = await AccountStore.open(dir);
    viewer = await store.add("alice");
    const tls = await loadTlsMaterial({ stateDir: dir });
    const metrics = new MetricsRegistry();
    metrics.register(() => [{ name: "camgw_viewers", help: "Viewers", type: "gauge", value: 1 }]);
    server = new HttpServer({
      listeners: [
        { host: "127.0.0.1", port: 0 },
        { host: "127.0.0.1", port: 0, tls: { cert: tls.cert, key: tls.key } },
      ],
      viewerRoot: null,
      health: () => [{ name: "source", ok: true, detail: "/dev/video0" }],
      metrics,
      access: {
        verifyToken: (token) => store.verifyToken(token),
        metrics: "token",
        allowedOrigins: [],
      },
    });
    [plainPort, tlsPort] = (await server.listen()).map((a) => a.port) as [number, number];
  });

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await server.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A raw TCP connection, open once it resolves. */
  const open = (port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(socket));
      socket.on("error", reject);
      sockets.push(socket);
    });

  /** Resolves with the ms until the server closed `socket` (and what it said), or null after `ms`. */
  const closedWithin = (
    socket: Socket,
    ms: number,
  ): Promise<{ afterMs: number; said: string } | null> =>
    new Promise((resolve) => {
      const started = performance.now();
      let said = "";
      socket.on("data", (c: Buffer) => (said += c.toString()));
      const timer = setTimeout(() => resolve(null), ms);
      socket.once("close", () => {
        clearTimeout(timer);
        resolve({ afterMs: performance.now() - started, said });
      });
      socket.on("error", () => undefined);
    });

  it("cuts off a client that trickles its headers, one that never starts its TLS handshake, and one left idle after its answer", async () => {
    const slowloris = await open(plainPort);
    slowloris.write("GET / HTTP/1.1\r\nHost: camera\r\n");
    // One header line a second: never idle, never done.
    const trickle = setInterval(() => slowloris.write(`X-${Date.now()}: 1\r\n`), 1000);
    const silent = await open(tlsPort);
    // A kept-alive connection that asks nothing more after its answer.
    const idle = await open(plainPort);
    idle.write("GET /healthz HTTP/1.1\r\nHost: camera\r\nConnection: keep-alive\r\n\r\n");
    // Node 20's defaults would hold these ~30-40 s and 120 s (http-server.ts).
    const [slow, quiet, done] = await Promise.all([
      closedWithin(slowloris, 25_000),
      closedWithin(silent, 25_000),
      closedWithin(idle, 25_000),
    ]);
    clearInterval(trickle);
    console.log(
      `a trickling client was cut off after ${Math.round(slow?.afterMs ?? NaN)} ms, a silent TLS one after ${Math.round(quiet?.afterMs ?? NaN)} ms, an idle one ${Math.round(done?.afterMs ?? NaN)} ms after its request`,
    );
    expect(slow).not.toBeNull();
    expect(slow?.said).toMatch(/^HTTP\/1\.1 408 /);
    expect(quiet).not.toBeNull();
    expect(done).not.toBeNull();
    expect(done?.said).toMatch(/^HTTP\/1\.1 200 /);
  }, 40_000);

  it(`holds at most ${MAX_HTTP_CONNECTIONS} connections per port, and serves again once they go`, async () => {
    const held = await Promise.all(
      Array.from({ length: MAX_HTTP_CONNECTIONS }, () => open(plainPort)),
    );
    // The server counts a connection once it accepted it.
    const plain = server.servers[0];
    await expect
      .poll(
        () =>
          new Promise<number>(
            (resolve) => plain?.getConnections((_e, n) => resolve(n)) ?? resolve(0),
          ),
        { timeout: 10_000 },
      )
      .toBe(MAX_HTTP_CONNECTIONS);
    // One more is accepted by the kernel and closed by the server at once, unanswered.
    const extra = connect(plainPort, "127.0.0.1");
    sockets.push(extra);
    const refused = await closedWithin(extra, 5_000);
    expect(refused?.said).toBe("");
    // Counted for /metrics (camgw_http_connections_refused_total{reason="full"}).
    expect(server.connectionStats.refused.full).toBe(1);
    for (const s of held) s.destroy();
    await expect
      .poll(() => statusOf(`http://127.0.0.1:${plainPort}/healthz`), { timeout: 10_000 })
      .toBe(200);
  });

  it("caps the connections of one client address across both ports, exempting only 127.0.0.1", async () => {
    const cap = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    const from = (port: number, localAddress: string): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = connect({ port, host: "127.0.0.1", localAddress }, () => resolve(socket));
        socket.on("error", reject);
        sockets.push(socket);
      });
    /** Whether a GET on a held socket is answered: the server admitted it. */
    const answered = (socket: Socket): Promise<boolean> =>
      new Promise((resolve) => {
        socket.once("data", () => resolve(true));
        socket.once("close", () => resolve(false));
        socket.write("GET /healthz HTTP/1.1\r\nHost: camera\r\n\r\n");
      });
    // A LAN host (127.0.0.2 is not exempt) holds its share on the plain port, all answered.
    const lan = await Promise.all(Array.from({ length: cap }, () => from(plainPort, "127.0.0.2")));
    expect(await Promise.all(lan.map(answered))).toEqual(lan.map(() => true));
    // The next one, on either port (the cap is the host's, not the port's), is closed unanswered.
    for (const port of [plainPort, tlsPort]) {
      const extra = connect({ port, host: "127.0.0.1", localAddress: "127.0.0.2" });
      sockets.push(extra);
      expect(await closedWithin(extra, 5_000)).toMatchObject({ said: "" });
    }
    expect(server.connectionStats.refused).toEqual({ "per-address": 2, full: 0 });
    // This machine's own address is not capped.
    const local = await Promise.all(
      Array.from({ length: cap + 2 }, () => from(plainPort, "127.0.0.1")),
    );
    expect(await Promise.all(local.map(answered))).toEqual(local.map(() => true));
    expect(server.connectionStats.refused["per-address"]).toBe(2);
  });

  it("asks for a viewer's token for /metrics and the details of /healthz (metrics-access: token)", async () => {
    const url = `http://127.0.0.1:${plainPort}`;
    const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
    const none = await fetch(`${url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="camgw"');
    expect(await none.text()).not.toContain("camgw_viewers");
    expect((await fetch(`${url}/metrics`, bearer(`alice.${"x".repeat(32)}`))).status).toBe(401);
    expect((await fetch(`${url}/metrics`, bearer(`nobody.${"x".repeat(32)}`))).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, bearer(viewer.token));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("camgw_viewers 1");

    // /healthz stays open, with nothing private in it unless the token comes along.
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({
      status: "ok",
      down: [],
      parts: { source: { ok: true } },
    });
    expect(await (await fetch(`${url}/healthz`, bearer(viewer.token))).json()).toMatchObject({
      parts: { source: { ok: true, detail: "/dev/video0" } },
    });
    // A removed viewer's token no longer opens it.
    await store.remove("alice");
    expect((await fetch(`${url}/metrics`, bearer(viewer.token))).status).toBe(401);
  });
});
