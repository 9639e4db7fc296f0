import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { makeTlsMaterial, Mosquitto } from "../testing/mosquitto.js";
import { freePort } from "../testing/ports.js";
import { BrokerBridge } from "./broker-bridge.js";

/** The bridge between real sockets: a web server, Debian's Mosquitto, mqtt.js over WebSocket. */
describe("BrokerBridge to Mosquitto", () => {
  let mosquitto: Mosquitto;
  let web: Server;
  let wsUrl: string;

  beforeAll(async () => {
    mosquitto = await Mosquitto.start();
    web = createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => web.listen(0, "127.0.0.1", resolve));
    wsUrl = `ws://127.0.0.1:${(web.address() as AddressInfo).port}/mqtt`;
  });

  afterAll(async () => {
    web.closeAllConnections();
    await new Promise<void>((resolve) => web.close(() => resolve()));
    await mosquitto.close();
  });

  it("carries MQTT both ways, refuses connections over its cap, and ends them all on close", async () => {
    const bridge = new BrokerBridge({
      url: mosquitto.mqttUrl,
      maxConnections: 1,
      rejectUnauthorized: true,
    });
    const detach = bridge.attachTo(web, "/mqtt");
    const client = mqtt.connect(wsUrl, { reconnectPeriod: 0, clientId: "bridged" });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("error", reject);
      });
      await client.subscribeAsync("bridge/test");
      const got = new Promise<[string, Buffer]>((resolve) =>
        client.once("message", (topic, payload) => resolve([topic, payload])),
      );
      await client.publishAsync("bridge/test", "through the bridge");
      const [topic, payload] = await got;
      expect(topic).toBe("bridge/test");
      expect(payload.toString()).toBe("through the bridge");
      expect(bridge.connections).toBe(1);

      expect(await upgradeStatus(wsUrl)).toBe(503);

      const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
      await bridge.close();
      await closed;
      expect(bridge.connections).toBe(0);
      await bridge.close();
      // Detached: the web server answers the upgrade as a plain request.
      expect(await upgradeStatus(wsUrl)).toBe(404);
    } finally {
      detach();
      await client.endAsync(true);
    }
  });

  it("closes the browser's WebSocket when the broker is unreachable, and says why", async () => {
    const port = await freePort();
    const bridge = new BrokerBridge({ url: `mqtt://127.0.0.1:${port}`, rejectUnauthorized: true });
    const detach = bridge.attachTo(web, "/mqtt");
    const errors: Error[] = [];
    bridge.on("clientError", (err) => errors.push(err));
    try {
      const ws = new WebSocket(wsUrl, "mqtt");
      await once(ws, "close");
      expect(errors[0]?.message).toMatch(/MQTT broker 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
      expect(bridge.connections).toBe(0);
    } finally {
      detach();
      await bridge.close();
    }
  });

  it("reaches an mqtts:// broker with the CA it is given, and refuses one it cannot check", async () => {
    const dir = await mkdtemp(join(tmpdir(), "camgw-bridge-tls-"));
    const material = await makeTlsMaterial(dir);
    const secure = await Mosquitto.start({ dir, tls: { material, users: { viewer: "pw" } } });
    const url = `mqtts://127.0.0.1:${secure.port("tls")}`;
    const trusting = new BrokerBridge({
      url,
      ca: await readFile(material.caFile),
      rejectUnauthorized: true,
    });
    const unchecked = new BrokerBridge({ url, rejectUnauthorized: true });
    const errors: Error[] = [];
    unchecked.on("clientError", (err) => errors.push(err));
    try {
      let detach = trusting.attachTo(web, "/mqtt");
      const client = mqtt.connect(wsUrl, {
        reconnectPeriod: 0,
        clientId: "viewer",
        username: "viewer",
        password: "pw",
      });
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("error", reject);
      });
      await client.endAsync();
      detach();
      detach = unchecked.attachTo(web, "/mqtt");
      const ws = new WebSocket(wsUrl, "mqtt");
      await once(ws, "close");
      detach();
      expect(errors[0]?.message).toMatch(/self-signed|unable to verify|certificate/i);
    } finally {
      await trusting.close();
      await unchecked.close();
      await secure.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a URL it cannot bridge", () => {
    expect(
      () => new BrokerBridge({ url: "wss://broker.example/mqtt", rejectUnauthorized: true }),
    ).toThrow(/mqtt:\/\/ or mqtts:\/\//);
  });
});

/** The HTTP status a WebSocket upgrade gets (101 when it opens); undefined on timeout or error. */
function upgradeStatus(url: string, timeoutMs = 5000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, "mqtt");
    const timer = setTimeout(() => {
      ws.terminate();
      resolve(undefined);
    }, timeoutMs);
    const done = (status: number | undefined): void => {
      clearTimeout(timer);
      ws.terminate();
      resolve(status);
    };
    ws.once("unexpected-response", (_req, res) => done(res.statusCode));
    ws.once("open", () => done(101));
    ws.once("error", () => done(undefined));
  });
}
