import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import mqtt from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { EmbeddedBroker } from "./broker.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof EmbeddedBroker.start>[0]): Promise<EmbeddedBroker> {
  const broker = await EmbeddedBroker.start({ host: "127.0.0.1", ...options });
  cleanups.push(() => broker.close());
  return broker;
}

async function retainedRoundTrip(url: string): Promise<string> {
  const publisher = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  await publisher.publishAsync("camgw/x/status", "hello", { qos: 1, retain: true });
  await publisher.endAsync();
  const subscriber = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    const got = new Promise<string>((resolve) =>
      subscriber.on("message", (_t, p) => resolve(p.toString())),
    );
    await subscriber.subscribeAsync("camgw/+/status", { qos: 1 });
    return await got;
  } finally {
    await subscriber.endAsync(true);
  }
}

describe("EmbeddedBroker", () => {
  it("serves MQTT over TCP and keeps retained messages", async () => {
    const broker = await start({ port: 0 });
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.wsPort).toBeUndefined();
    expect(await retainedRoundTrip(`mqtt://127.0.0.1:${broker.port}`)).toBe("hello");
  });

  it("serves MQTT over WebSocket on its own port", async () => {
    const broker = await start({ port: null, wsPort: 0 });
    expect(broker.port).toBeUndefined();
    expect(await retainedRoundTrip(`ws://127.0.0.1:${broker.wsPort}/mqtt`)).toBe("hello");
  });

  it("attaches to an HTTP server at /mqtt and leaves other upgrade paths to their owners", async () => {
    const broker = await start({ port: 0 });
    const server: Server = createServer((_req, res) => res.end("page"));
    const echo = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => {
      if (req.url === "/echo")
        echo.handleUpgrade(req, socket, head, (ws) => ws.on("message", (m) => ws.send(m)));
    });
    const detach = broker.attachTo(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(async () => {
      detach();
      echo.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    expect(await retainedRoundTrip(`ws://127.0.0.1:${port}/mqtt`)).toBe("hello");
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.on("open", () => ws.send("ping"));
      ws.on("message", (m: Buffer) => resolve(m.toString()));
      ws.on("error", reject);
    });
    ws.close();
    expect(echoed).toBe("ping");
  });

  it("refuses a wrong password with CONNACK 4 when credentials are configured", async () => {
    const broker = await start({ port: 0, username: "cam", password: "s3cret" });
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const error = await mqtt
      .connectAsync(url, { username: "cam", password: "wrong", reconnectPeriod: 0 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 4 });
    const ok = await mqtt.connectAsync(url, {
      username: "cam",
      password: "s3cret",
      reconnectPeriod: 0,
    });
    await ok.endAsync();
  });

  it("closes its clients on close(), and close() twice is fine", async () => {
    const broker = await start({ port: 0 });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      reconnectPeriod: 0,
    });
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    expect(broker.connectedClients).toBe(1);
    await Promise.all([broker.close(), broker.close()]);
    await closed;
    await client.endAsync(true);
  });

  it("fails to start with a clear error when the port is taken, leaving nothing running", async () => {
    const first = await start({ port: 0 });
    await expect(
      EmbeddedBroker.start({ host: "127.0.0.1", port: first.port ?? 0 }),
    ).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${first.port}`));
  });
});
