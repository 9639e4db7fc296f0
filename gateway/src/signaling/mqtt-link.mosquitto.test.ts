/**
 * The device's MQTT link against a real external broker: Debian's Mosquitto
 * with a plain listener and a TLS listener that requires a username and
 * password.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Mosquitto, makeTlsMaterial, type TlsMaterial } from "../testing/mosquitto.js";
import type { LinkRetry } from "./mqtt-link.js";
import { FIXED_ANSWER, FixedAnswerHost, GOOD_OFFER } from "./testing/fixed-answer-host.js";
import { MqttDevice, STATUS, type MqttDeviceOptions } from "./testing/mqtt-device.js";
import { TcpProxy } from "./testing/tcp-proxy.js";
import { waitFor } from "./testing/wait-for.js";
import { ViewerClient } from "./viewer-client.js";

let dir: string;
let tls: TlsMaterial;
let mosquitto: Mosquitto;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "camgw-mosquitto-"));
  tls = await makeTlsMaterial(dir);
  mosquitto = await Mosquitto.start({ dir, tls: { material: tls, users: { cam: "s3cret" } } });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await mosquitto.stop();
  await rm(dir, { recursive: true, force: true });
});

function tlsDevice(host: FixedAnswerHost, extra: Partial<MqttDeviceOptions> = {}): MqttDevice {
  const device = new MqttDevice({
    url: `mqtts://127.0.0.1:${mosquitto.port("tls")}`,
    caFile: tls.caFile,
    username: "cam",
    password: "s3cret",
    host,
    connectTimeoutMs: 5000,
    ...extra,
  });
  cleanups.push(() => device.close());
  return device;
}

async function plainViewer(): Promise<ViewerClient> {
  const viewer = new ViewerClient({
    url: `mqtt://127.0.0.1:${mosquitto.plainPort}`,
    mqttOptions: { reconnectPeriod: 100 },
  });
  cleanups.push(() => viewer.close());
  await viewer.waitConnected();
  return viewer;
}

describe("MqttLink with Mosquitto", () => {
  it("connects over TLS with a username and password, and a viewer on the plain listener gets an answer", async () => {
    const host = new FixedAnswerHost();
    await tlsDevice(host).start();
    const viewer = await plainViewer();
    await waitFor(() => viewer.devices.get("porch")?.online === true);
    expect(viewer.devices.get("porch")).toMatchObject({ name: "Porch", streams: STATUS.streams });
    const call = viewer.call("porch", { sdp: GOOD_OFFER });
    expect(await call.answer).toBe(FIXED_ANSWER);
    expect(host.sessionCount).toBe(1);
  });

  it("rejects waitConnected() with a refused broker error on a wrong password, and keeps trying", async () => {
    const device = tlsDevice(new FixedAnswerHost(), {
      password: "wrong",
      backoff: { minMs: 20, maxMs: 40 },
    });
    const retries: LinkRetry[] = [];
    device.link.on("retrying", (r) => retries.push(r));
    const error = await device.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "BrokerError", code: "refused" });
    expect(String(error)).toMatch(
      /refused the connection: (not authorized|bad username or password) \(CONNACK [45]\)/,
    );
    expect(device.link.connected).toBe(false);
    await waitFor(() => retries.length >= 2, 5000, "a second attempt");
    expect(retries.every((r) => r.fatal && r.error.code === "refused")).toBe(true);
  });

  it("rejects waitConnected() with a tls error when the broker's certificate is not from a trusted CA", async () => {
    const device = tlsDevice(new FixedAnswerHost(), { caFile: undefined });
    await expect(device.start()).rejects.toMatchObject({ name: "BrokerError", code: "tls" });
  });

  it("leaves the offline will, published by Mosquitto, when the device's connection is cut", async () => {
    const proxy = await TcpProxy.start(mosquitto.port("tls"));
    cleanups.push(() => proxy.close());
    const device = tlsDevice(new FixedAnswerHost(), {
      url: `mqtts://127.0.0.1:${proxy.port}`,
      backoff: { minMs: 60_000, maxMs: 60_000 },
    });
    await device.start();
    expect(device.link.connected).toBe(true);
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${mosquitto.plainPort}`, {
      reconnectPeriod: 0,
    });
    cleanups.push(() => watcher.endAsync(true));
    const statuses: Record<string, unknown>[] = [];
    watcher.on("message", (_t, p) =>
      statuses.push(JSON.parse(p.toString()) as Record<string, unknown>),
    );
    await watcher.subscribeAsync("camgw/porch/status", { qos: 1 });
    await waitFor(() => statuses.length === 1);
    expect(statuses[0]).toMatchObject({ online: true });
    proxy.cut();
    await waitFor(() => statuses.length === 2, 5000, "the will");
    expect(statuses[1]).toEqual({ v: 1, type: "status", online: false });
  });

  it("reconnects when Mosquitto restarts on the same port, re-publishes its status and keeps its sessions", async () => {
    const host = new FixedAnswerHost();
    const device = tlsDevice(host, { backoff: { minMs: 50, maxMs: 300 } });
    await device.start();
    const viewer = await plainViewer();
    const first = viewer.call("porch", { sdp: GOOD_OFFER });
    await first.answer;
    const seen: boolean[] = [];
    viewer.on("device", (d) => seen.push(d.online));
    await mosquitto.restart();
    await waitFor(() => device.link.stats.connects === 2, 10_000, "the device to reconnect");
    await waitFor(
      () => device.link.connected && viewer.state === "connected",
      10_000,
      "both to reconnect",
    );
    // Mosquitto runs without persistence: an online status now is the device's re-publish.
    await waitFor(() => seen.includes(true), 5000, "the re-published status");
    expect(host.sessions.has(`${viewer.viewerId}/${first.session}`)).toBe(true);
    expect(first.ended).toBe(false);
    const second = viewer.call("porch", { sdp: GOOD_OFFER });
    expect(await second.answer).toBe(FIXED_ANSWER);
    expect(host.sessionCount).toBe(2);
  });
});
