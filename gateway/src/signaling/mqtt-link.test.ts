/**
 * The device's MQTT link against a real broker (the embedded aedes): status
 * and will, the way from rx/<viewerId> to the dispatcher and back to
 * tx/<viewerId>, floods as the broker delivers them, and reconnection. The
 * protocol itself is tested on the dispatcher (dispatcher.test.ts).
 */
import { createServer, type Server, type Socket } from "node:net";
import { Aedes } from "aedes";
import mqtt from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../errors.js";
import { EmbeddedBroker } from "./broker.js";
import { messagesWaitingTurn } from "./dispatcher.js";
import type { LinkRetry } from "./mqtt-link.js";
import { FIXED_ANSWER, FixedAnswerHost, GOOD_OFFER } from "./testing/fixed-answer-host.js";
import { MqttDevice, STATUS, type MqttDeviceOptions } from "./testing/mqtt-device.js";
import { RawViewer } from "./testing/raw-viewer.js";
import { TcpProxy } from "./testing/tcp-proxy.js";
import { waitFor } from "./testing/wait-for.js";

let broker: EmbeddedBroker;
let url: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(async () => {
  broker = await EmbeddedBroker.start({ host: "127.0.0.1", port: 0 });
  url = `mqtt://127.0.0.1:${broker.port}`;
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await broker.close();
});

function makeDevice(
  host = new FixedAnswerHost(),
  extra: Partial<MqttDeviceOptions> = {},
): MqttDevice {
  const device = new MqttDevice({ url, host, ...extra });
  cleanups.push(() => device.close());
  return device;
}

async function startDevice(
  host = new FixedAnswerHost(),
  extra: Partial<MqttDeviceOptions> = {},
): Promise<{ device: MqttDevice; host: FixedAnswerHost }> {
  const device = await makeDevice(host, extra).start();
  return { device, host };
}

async function viewer(viewerId: string): Promise<RawViewer> {
  const v = await RawViewer.connect(url, "camgw", "porch", viewerId);
  cleanups.push(() => v.close());
  return v;
}

/** The retained status as a fresh subscriber sees it. */
async function retainedStatus(deviceId = "porch"): Promise<Record<string, unknown>> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    const got = new Promise<Record<string, unknown>>((resolve) => {
      client.on("message", (_t, payload) =>
        resolve(JSON.parse(payload.toString()) as Record<string, unknown>),
      );
    });
    await client.subscribeAsync(`camgw/${deviceId}/status`, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync(true);
  }
}

/** A TCP port where nothing listens: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("MqttLink status", () => {
  it("publishes a retained online status with name, version, streams and ts", async () => {
    const before = Date.now();
    await startDevice();
    const status = await retainedStatus();
    expect(status).toMatchObject({ v: 1, type: "status", online: true, ...STATUS });
    expect(status.ts).toBeGreaterThanOrEqual(before);
  });

  it("publishes the offline status on close, after the host's byes", async () => {
    const { device, host } = await startDevice();
    const v = await viewer("v1");
    await v.send({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await waitFor(() => v.received.some((m) => m.type === "candidate" && m.candidate === null));
    host.close();
    await device.close();
    await device.link.close();
    expect(v.received.at(-1)).toEqual({ v: 1, type: "bye", session: "s1", reason: "shutdown" });
    expect(await retainedStatus()).toEqual({ v: 1, type: "status", online: false });
    expect(device.link.state).toBe("closed");
  });

  it("lets the broker publish the offline will when the connection drops without a goodbye", async () => {
    const proxy = await TcpProxy.start(broker.port ?? 0);
    cleanups.push(() => proxy.close());
    url = `mqtt://127.0.0.1:${proxy.port}`;
    await startDevice(new FixedAnswerHost(), { backoff: { minMs: 60_000, maxMs: 60_000 } });
    url = `mqtt://127.0.0.1:${broker.port}`;
    const watcher = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    cleanups.push(() => watcher.endAsync(true));
    const statuses: Record<string, unknown>[] = [];
    watcher.on("message", (_t, p) =>
      statuses.push(JSON.parse(p.toString()) as Record<string, unknown>),
    );
    await watcher.subscribeAsync("camgw/porch/status", { qos: 1 });
    await waitFor(() => statuses.length === 1);
    proxy.cut();
    await waitFor(() => statuses.length === 2, 5000, "the will");
    expect(statuses).toEqual([
      expect.objectContaining({ online: true }),
      { v: 1, type: "status", online: false },
    ]);
  });
});

describe("MqttLink messages", () => {
  it("delivers rx/<viewerId> to the dispatcher with the viewer's id and answers on tx/<viewerId>", async () => {
    const { host } = await startDevice();
    const v = await viewer("v1");
    expect(await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER })).toEqual({
      v: 1,
      type: "answer",
      session: "s1",
      sdp: FIXED_ANSWER,
    });
    expect(await v.next()).toMatchObject({ type: "candidate", session: "s1" });
    expect(await v.next()).toEqual({ v: 1, type: "candidate", session: "s1", candidate: null });
    expect([...host.sessions.keys()]).toEqual(["v1/s1"]);
  });

  it("survives a flood of offers from one viewer: busy or dropped past the limit, others still served", async () => {
    const { device, host } = await startDevice(new FixedAnswerHost(1000));
    const flooder = await viewer("flood");
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 200; i++)
      sends.push(flooder.send({ v: 1, type: "offer", session: `f${i}`, sdp: GOOD_OFFER }));
    await Promise.all(sends);
    const calm = await viewer("calm");
    expect(await calm.ask({ v: 1, type: "offer", session: "c1", sdp: GOOD_OFFER })).toMatchObject({
      type: "answer",
    });
    // Received on arrival, taken one per event-loop turn (dispatcher.ts): wait for both.
    await waitFor(
      () => device.dispatcher.metrics().received === 201 && messagesWaitingTurn() === 0,
    );
    const m = device.dispatcher.metrics();
    // The default offer bucket holds 8; a second or two of refill may add a few.
    expect(host.offerCalls).toBeLessThan(20);
    // Each flood offer was taken (calm's one aside), refused by the rate
    // limit, or dropped unread behind the queued ones.
    expect(m.rateLimited + m.overflowed).toBe(200 - (host.offerCalls - 1));
    expect((m.errorReplies.busy ?? 0) + m.dropped).toBe(m.rateLimited);
    expect(m.errorReplies.busy).toBeGreaterThan(0);
    expect(m.dropped).toBeGreaterThan(0);
    expect(device.link.connected).toBe(true);
  });
});

describe("MqttLink connection", () => {
  it("reconnects after the broker restarts, re-publishes its status and keeps its sessions", async () => {
    const { device, host } = await startDevice(new FixedAnswerHost(), {
      backoff: { minMs: 50, maxMs: 200 },
    });
    const v = await viewer("v1");
    await v.ask({ v: 1, type: "offer", session: "s1", sdp: GOOD_OFFER });
    await v.close();
    const port = broker.port ?? 0;
    await broker.close();
    await waitFor(() => !device.link.connected);
    broker = await EmbeddedBroker.start({ host: "127.0.0.1", port });
    await waitFor(() => device.link.connected, 10_000, "reconnect");
    // The new broker knows nothing: the retained status is the device's re-publish.
    expect(await retainedStatus()).toMatchObject({ online: true, name: "Porch" });
    expect(host.sessions.has("v1/s1")).toBe(true);
    const again = await viewer("v1");
    // rx/+ was subscribed again: the old session still takes candidates.
    await again.send({ v: 1, type: "candidate", session: "s1", candidate: null });
    await waitFor(() => host.sessions.get("v1/s1")?.remoteCandidates.length === 1);
    expect(device.link.stats.connects).toBe(2);
    expect(device.link.stats.connectFailures).toBeGreaterThanOrEqual(1);
  });

  it("rejects waitConnected() with a clear error when nothing listens, and keeps trying", async () => {
    const port = await closedPort();
    const device = makeDevice(new FixedAnswerHost(), {
      url: `mqtt://127.0.0.1:${port}`,
      backoff: { minMs: 20, maxMs: 40 },
    });
    await expect(device.start(500)).rejects.toMatchObject({
      name: "BrokerError",
      code: "unreachable",
      message: `no connection to MQTT broker mqtt://127.0.0.1:${port} within 500 ms`,
    });
    expect(device.link.state).not.toBe("closed");
    expect(device.link.problem).toMatchObject({ code: "unreachable", message: /ECONNREFUSED/ });
  });

  it("retries with growing delays while nothing listens, one event per failed attempt", async () => {
    const port = await closedPort();
    const device = makeDevice(new FixedAnswerHost(), {
      url: `mqtt://127.0.0.1:${port}`,
      backoff: { minMs: 10, maxMs: 80 },
    });
    const retries: LinkRetry[] = [];
    device.link.on("retrying", (r) => retries.push(r));
    device.link.connect();
    await waitFor(() => retries.length >= 6, 10_000, "six failed attempts");
    expect(retries.slice(0, 6).map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    const ceilings = [10, 20, 40, 80, 80, 80];
    retries.slice(0, 6).forEach((r, i) => {
      const ceiling = ceilings[i] ?? 0;
      expect(r.delayMs).toBeGreaterThanOrEqual(ceiling / 2);
      expect(r.delayMs).toBeLessThanOrEqual(ceiling);
      expect(r).toMatchObject({ fatal: false, error: { code: "unreachable" } });
    });
    expect(device.link.stats.connectFailures).toBe(retries.length);
  });

  it("closes at once while a retry is pending, and never tries again", async () => {
    const port = await closedPort();
    const device = makeDevice(new FixedAnswerHost(), {
      url: `mqtt://127.0.0.1:${port}`,
      // An hour: a close() that waited for the retry would hang this test.
      backoff: { minMs: 3_600_000, maxMs: 3_600_000 },
    });
    const retries: LinkRetry[] = [];
    device.link.on("retrying", (r) => retries.push(r));
    device.link.connect();
    const waiting = device.link.waitConnected(3_600_000);
    await waitFor(() => device.link.state === "waiting");
    await device.close();
    expect(device.link.state).toBe("closed");
    await expect(waiting).rejects.toMatchObject({ code: "closed" });
    expect(retries).toHaveLength(1);
  });

  it("closes at once during an attempt to a broker that never answers", async () => {
    // Accepts TCP and says nothing: the attempt would wait an hour for CONNACK.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          silent.close(() => resolve());
        }),
    );
    const device = makeDevice(new FixedAnswerHost(), {
      url: `mqtt://127.0.0.1:${(silent.address() as { port: number }).port}`,
      connectTimeoutMs: 3_600_000,
    });
    device.link.connect();
    await waitFor(() => sockets.size === 1, 5000, "the attempt's connection");
    expect(device.link.state).toBe("connecting");
    await device.close();
    expect(device.link.state).toBe("closed");
  });

  it("takes a refused subscription to rx/+ as a failed attempt, and connects once the ACL allows it", async () => {
    // aedes with an ACL hook, as a broker whose ACL does not yet let the device read rx/+.
    let allowed = false;
    const acl = await Aedes.createBroker({
      authorizeSubscribe: (_client, sub, done) => {
        done(null, allowed ? sub : null);
      },
    });
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      acl.handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => acl.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const device = makeDevice(new FixedAnswerHost(), {
      url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`,
      backoff: { minMs: 20, maxMs: 40 },
    });
    const retries: LinkRetry[] = [];
    device.link.on("retrying", (r) => retries.push(r));
    await expect(device.start()).rejects.toMatchObject({
      name: "BrokerError",
      code: "subscription",
      message: /refused the subscription to camgw\/porch\/rx\/\+ \(SUBACK 0x80\)/,
    });
    await waitFor(() => retries.length >= 2, 5000, "a second attempt");
    expect(retries.every((r) => r.fatal && r.error.code === "subscription")).toBe(true);
    expect(device.link.connected).toBe(false);
    allowed = true;
    await device.link.waitConnected(5000);
    expect(device.link.problem).toBeUndefined();
  });

  it("refuses a bad device id or prefix at construction, as a config error", () => {
    const host = new FixedAnswerHost();
    expect(() => new MqttDevice({ url, deviceId: "a/b", host })).toThrow(ConfigError);
    expect(() => new MqttDevice({ url, deviceId: "a/b", host })).toThrow(/device id/);
    expect(() => new MqttDevice({ url, deviceId: "a", prefix: "x/#", host })).toThrow(/prefix/);
  });
});
