import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  getJson,
  startGateway,
  startProbeProcess,
  type GatewayProcess,
  type ProbeProcess,
} from "./testing/gateway-process.js";
import { waitUntil } from "./testing/wait-until.js";

/** The default of `max-connections-per-address` (http/address-cap.ts). */
const CAP = 16;
/**
 * Two LAN hosts, played by loopback addresses the cap does not exempt (it
 * exempts only 127.0.0.1 and ::1, this machine's own clients).
 */
const FLOODER = "127.0.0.2";
const NEIGHBOUR = "127.0.0.3";

/** An MQTT 3.1.1 CONNECT without a login, client id "x" (MQTT 3.1.1, 3.1). */
const ANONYMOUS_CONNECT = Buffer.from([
  0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, 1, 0x78,
]);

const portOf = (url: string | undefined): number => Number(new URL(url ?? "").port);

/**
 * Issue 10's "one client's flood never disturbs another's video", for
 * connections: `camgw run` on the virtual board, a viewer watching, and a
 * LAN host that opens as many connections as it may to the web ports and to
 * the broker's TLS port. Its next one is closed at once, on every listener
 * of the group, while another host is still served and the viewer keeps
 * playing; /metrics counts the refusals.
 */
describe("camgw run caps the connections one client address holds", () => {
  let gw: GatewayProcess;
  let watching: ProbeProcess;
  const held: Socket[] = [];

  beforeAll(async () => {
    gw = await startGateway({ args: ["--device-id", "porch"] });
    const alice = await gw.addViewer("alice");
    watching = startProbeProcess(gw, "porch", alice.localUrl);
    await waitUntil(async () =>
      /^camgw_connected_sessions 1$/m.test(String((await getJson(`${gw.httpUrl}metrics`)).body)),
    );
  });

  afterAll(async () => {
    for (const s of held.splice(0)) s.destroy();
    await watching.stop().catch(() => undefined);
    await gw.stop();
  });

  /** A TLS connection from `from`, once its handshake is done (the server admitted it); null when closed before. */
  const tlsFrom = (port: number, from: string): Promise<TLSSocket | null> =>
    new Promise((resolve) => {
      // tls.connect's own options have no localAddress: it gets the TCP socket.
      const tcp = tcpConnect({ host: "127.0.0.1", port, localAddress: from });
      held.push(tcp);
      tcp.on("error", () => undefined);
      const socket = tlsConnect({ socket: tcp, rejectUnauthorized: false });
      held.push(socket);
      socket.once("secureConnect", () => resolve(socket));
      socket.once("close", () => resolve(null));
      socket.on("error", () => undefined);
    });

  /** What the server said on a TCP connection from `from` after `send`: `enough` bytes, or less when it closed it. */
  const saidTo = (
    port: number,
    from: string,
    send: Buffer | string,
    enough = typeof send === "string" ? "HTTP/1.1 200 ".length : 4,
  ): Promise<Buffer> =>
    new Promise((resolve) => {
      const socket = tcpConnect({ host: "127.0.0.1", port, localAddress: from }, () => {
        socket.write(send);
      });
      held.push(socket);
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => {
        chunks.push(c);
        // The start of the answer is enough; the server may keep the socket open after it.
        if (Buffer.concat(chunks).length >= enough) socket.destroy();
      });
      socket.once("close", () => resolve(Buffer.concat(chunks)));
      socket.on("error", () => undefined);
    });

  const metrics = async (): Promise<string> => String((await getJson(`${gw.httpUrl}metrics`)).body);

  it(`closes a host's connection to the web ports over ${CAP} at once, and serves another host`, async () => {
    const https = portOf(gw.httpsUrl);
    const mine = await Promise.all(Array.from({ length: CAP }, () => tlsFrom(https, FLOODER)));
    expect(mine.every((s) => s !== null)).toBe(true);

    // One more, on the HTTPS port and on the plain one: the cap is the host's, across the ports.
    expect(await tlsFrom(https, FLOODER)).toBeNull();
    const plain = await saidTo(
      portOf(gw.httpUrl),
      FLOODER,
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    expect(plain.toString()).toBe("");

    // Another host on the LAN is served.
    const neighbour = await saidTo(
      portOf(gw.httpUrl),
      NEIGHBOUR,
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    expect(neighbour.toString()).toMatch(/^HTTP\/1\.1 200 /);
    expect(await tlsFrom(https, NEIGHBOUR)).not.toBeNull();
    expect(await metrics()).toMatch(
      /^camgw_http_connections_refused_total\{reason="per-address"\} 2$/m,
    );

    // Once the flood ends, the host is served again.
    for (const s of mine) s?.destroy();
    await waitUntil(async () =>
      /^HTTP\/1\.1 200 /.test(
        (
          await saidTo(portOf(gw.httpUrl), FLOODER, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        ).toString(),
      ),
    );
  });

  it(`closes a host's MQTT connection over ${CAP} at once, and serves another host`, async () => {
    const mqtts = portOf(gw.mqttsUrl);
    const mine = await Promise.all(Array.from({ length: CAP }, () => tlsFrom(mqtts, FLOODER)));
    expect(mine.every((s) => s !== null)).toBe(true);

    expect(await tlsFrom(mqtts, FLOODER)).toBeNull();
    // The plain MQTT port is of the same group: closed before its CONNECT is read.
    expect((await saidTo(portOf(gw.mqttUrl), FLOODER, ANONYMOUS_CONNECT)).length).toBe(0);
    // Another host gets its CONNACK (return code 5: not authorized, it sent no login).
    expect([...(await saidTo(portOf(gw.mqttUrl), NEIGHBOUR, ANONYMOUS_CONNECT))]).toEqual([
      0x20, 2, 0, 5,
    ]);
    expect(await metrics()).toMatch(
      /^camgw_broker_connections_refused_total\{reason="per-address"\} 2$/m,
    );
    for (const s of mine) s?.destroy();
  });

  it("the viewer watching from this machine kept playing through both floods", async () => {
    const report = await watching.stop();
    console.log(
      `the viewer watched ${report.frames} frames at ${report.fps} fps through the floods; longest gap ${report.longestGapMs} ms`,
    );
    expect(report).toMatchObject({ video: true, ended: null });
    expect(report.frames).toBeGreaterThan(0);
  });
});
