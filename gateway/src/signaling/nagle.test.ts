/**
 * Proves at the system-call level that signaling sockets run with Nagle off
 * (TCP_NODELAY), on the device's MQTT client (mqtt:// and mqtts://, first
 * connection and reconnect) and on the embedded broker's accepted sockets,
 * and that plain MQTT.js does not (the control). A child process runs under
 * strace; the test reads which sockets got setsockopt(TCP_NODELAY, 1).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mosquitto, makeTlsMaterial } from "../testing/mosquitto.js";

const hasStrace = spawnSync("strace", ["-V"]).status === 0;
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

const CHILD = `
import mqtt from "mqtt";
import { EmbeddedBroker } from ${JSON.stringify(here("./broker.ts"))};
import { MqttDevice } from ${JSON.stringify(here("./testing/mqtt-device.ts"))};
import { FixedAnswerHost } from ${JSON.stringify(here("./testing/fixed-answer-host.ts"))};
const [tlsPort, caFile, plainPort] = process.argv.slice(2);
const status = { name: "n", version: "0", streams: [] };
const host = new FixedAnswerHost();
let broker = await EmbeddedBroker.start({ host: "127.0.0.1", port: 0 });
const port = broker.port;
const plain = await new MqttDevice({ url: "mqtt://127.0.0.1:" + port, deviceId: "plain", status, host,
  backoff: { minMs: 20, maxMs: 50 } }).start();
const secure = await new MqttDevice({ url: "mqtts://127.0.0.1:" + tlsPort, caFile, username: "cam", password: "s3cret",
  deviceId: "secure", status, host }).start();
// Reconnect: a new broker on the same port; the device's new socket must be covered too.
await broker.close();
broker = await EmbeddedBroker.start({ host: "127.0.0.1", port });
while (plain.link.stats.connects < 2) await new Promise((r) => setTimeout(r, 10));
// Control: MQTT.js as it comes, to a port nothing else uses.
const control = await mqtt.connectAsync("mqtt://127.0.0.1:" + plainPort, { reconnectPeriod: 0 });
await control.endAsync();
await plain.close();
await secure.close();
await broker.close();
console.log(JSON.stringify({ brokerPort: port }));
`;

interface Trace {
  /** Destination port of each client socket given TCP_NODELAY=1 before connect(), one entry per socket. */
  clientNoDelay: number[];
  /** Every "local->remote" port pair given TCP_NODELAY=1 once connected (client or accepted sockets). */
  connectedNoDelay: { local: number; remote: number }[];
}

/**
 * Reads `strace -yy -e trace=setsockopt,connect` output. A socket given
 * TCP_NODELAY before connect() is named by its inode; connect() on the same
 * inode gives its destination. Once connected, sockets are named by ports.
 */
function readTrace(text: string): Trace {
  const inodeToPort = new Map<string, number>();
  for (const m of text.matchAll(
    /connect\(\d+<TCP:\[(\d+)\]>, \{sa_family=AF_INET, sin_port=htons\((\d+)\)/g,
  )) {
    inodeToPort.set(m[1] ?? "", Number(m[2]));
  }
  const early = new Map<string, number>();
  const connected: { local: number; remote: number }[] = [];
  for (const m of text.matchAll(
    /setsockopt\(\d+<TCP:\[([^\]]+)\]>, SOL_TCP, TCP_NODELAY, \[1\]/g,
  )) {
    const socket = m[1] ?? "";
    const pair = /^127\.0\.0\.1:(\d+)->127\.0\.0\.1:(\d+)$/.exec(socket);
    if (pair) {
      connected.push({ local: Number(pair[1]), remote: Number(pair[2]) });
    } else {
      const port = inodeToPort.get(socket);
      if (port !== undefined) early.set(socket, port);
    }
  }
  return { clientNoDelay: [...early.values()], connectedNoDelay: connected };
}

describe.skipIf(!hasStrace)("Nagle on signaling sockets (strace)", () => {
  let dir: string;
  let mosquitto: Mosquitto;
  let trace: Trace;
  let traceText: string;
  let brokerPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "camgw-nagle-"));
    const tls = await makeTlsMaterial(dir);
    mosquitto = await Mosquitto.start({ dir, tls: { material: tls, users: { cam: "s3cret" } } });
    const entry = join(dir, "child.ts");
    await writeFile(entry, CHILD);
    const out = join(dir, "child.mjs");
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: out,
      logLevel: "error",
      nodePaths: [fileURLToPath(new URL("../../../node_modules", import.meta.url))],
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });
    const traceFile = join(dir, "strace.txt");
    const args = ["-f", "-qq", "-yy", "-e", "trace=setsockopt,connect", "-o", traceFile];
    const child = spawn("strace", [
      ...args,
      process.execPath,
      out,
      String(mosquitto.port("tls")),
      tls.caFile,
      String(mosquitto.plainPort),
    ]);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    if (code !== 0) throw new Error(`child exited ${code}: ${stderr}`);
    brokerPort = (JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { brokerPort: number })
      .brokerPort;
    traceText = await readFile(traceFile, "utf8");
    trace = readTrace(traceText);
  });

  afterAll(async () => {
    await mosquitto.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("sets TCP_NODELAY on the device's mqtt:// socket, and again on the socket of its reconnect", () => {
    expect(trace.clientNoDelay.filter((p) => p === brokerPort).length).toBeGreaterThanOrEqual(2);
  });

  it("sets TCP_NODELAY on the device's mqtts:// socket", () => {
    expect(trace.clientNoDelay).toContain(mosquitto.port("tls"));
  });

  it("sets TCP_NODELAY on the sockets the embedded broker accepts", () => {
    expect(trace.connectedNoDelay.some((s) => s.local === brokerPort)).toBe(true);
  });

  it("sees no TCP_NODELAY on a plain MQTT.js connection (the control)", () => {
    expect(trace.clientNoDelay).not.toContain(mosquitto.plainPort);
    expect(trace.connectedNoDelay.some((s) => s.remote === mosquitto.plainPort)).toBe(false);
    // The trace did see that connection: the control is not vacuous.
    expect(traceText).toContain(`sin_port=htons(${mosquitto.plainPort})`);
  });
});
