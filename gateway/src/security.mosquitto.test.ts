import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PairingCredentials } from "./auth/pairing-link.js";
import { runProbe } from "./probe/probe.js";
import { TcpProxy } from "./signaling/testing/tcp-proxy.js";
import { ViewerClient } from "./signaling/viewer-client.js";
import {
  getJson,
  probeLogin,
  startGateway,
  startProbeProcess,
  type GatewayProcess,
} from "./testing/gateway-process.js";
import { Mosquitto } from "./testing/mosquitto.js";
import { freePort } from "./testing/ports.js";
import {
  collect,
  connected,
  publishOutcome,
  subscribeCodes,
  tryConnect,
} from "./testing/mqtt-attacker.js";
import { sleep, waitUntil } from "./testing/wait-until.js";
import { startConfiguredMosquitto } from "./testing/configured-mosquitto.js";

/**
 * camgw with Debian's Mosquitto in front: with the files `camgw
 * broker-config mosquitto` writes, Mosquitto refuses what the embedded
 * broker refuses; and on a Mosquitto without any ACL, the device still
 * defends itself (unknown viewers, retained rx messages, its status).
 */
describe("camgw behind Mosquitto set up with camgw broker-config", () => {
  let mosquitto: Mosquitto;
  let gw: GatewayProcess;
  let mallory: PairingCredentials;
  let filesDir: string;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    // The gateway first (its link retries until Mosquitto is up): its first
    // start makes the owner, and the accounts broker-config reads.
    gw = await startGateway({ args: ["--device-id", "porch", "--broker", url] });
    mallory = await gw.addViewer("mallory");
    filesDir = await mkdtemp(join(tmpdir(), "camgw-broker-files-"));
    mosquitto = await startConfiguredMosquitto({
      stateDir: gw.stateDir,
      deviceId: "porch",
      port,
      filesDir,
    });
    await waitUntil(async () =>
      /^camgw_signaling_connected 1$/m.test(String((await getJson(`${gw.httpUrl}metrics`)).body)),
    );
  });

  afterAll(async () => {
    await gw.stop();
    await mosquitto.close();
    await rm(filesDir, { recursive: true, force: true });
  });

  it("writes hashes, never a password, and the rules Mosquitto needs", async () => {
    const passwd = await readFile(join(filesDir, "passwd"), "utf8");
    expect(passwd).toMatch(/^camgw-device-porch:\$7\$\d+\$/m);
    expect(passwd).toMatch(/^owner:\$7\$/m);
    expect(passwd).toMatch(/^mallory:\$7\$/m);
    expect(passwd).not.toContain(mallory.password);
    const conf = await readFile(join(filesDir, "camgw.conf"), "utf8");
    expect(conf).toMatch(/^use_username_as_clientid true$/m);
    expect(conf).toMatch(/^max_packet_size 70000$/m);
    expect(conf).toMatch(/^allow_anonymous false$/m);
  });

  it("lets the device and a viewer with its pairing link watch", async () => {
    const report = await runProbe({
      ...probeLogin(gw),
      broker: url,
      deviceId: "porch",
      seconds: 2,
    });
    expect(report.video).toBe(true);
  });

  it("refuses anonymous and wrong-password clients", async () => {
    expect(await tryConnect(url, { clientId: "anon" })).toEqual({ refused: 5 });
    const wrong = await tryConnect(url, { username: "owner", password: "guess", clientId: "x" });
    // Mosquitto 2.0 answers a wrong password with 5 (not authorized), the embedded broker 4.
    expect("refused" in wrong && [4, 5].includes(wrong.refused)).toBe(true);
  });

  it("gives a subscriber of # or of another viewer's topics nobody's answers", async () => {
    const client = await connected(url, { ...mallory, clientId: "mallory" });
    try {
      const got = collect(client);
      await subscribeCodes(client, ["#", "+/#", "camgw/porch/tx/+", "camgw/porch/tx/owner"]);
      const owner = await runProbe({
        ...probeLogin(gw),
        broker: url,
        deviceId: "porch",
        seconds: 1,
      });
      expect(owner.video).toBe(true);
      // Only what mallory may read: the device's status.
      expect(got.filter((m) => !m.topic.endsWith("/status"))).toEqual([]);
    } finally {
      await client.endAsync(true);
    }
  });

  it("drops a viewer's messages on another viewer's rx topic and a fake status", async () => {
    const owner = new ViewerClient({ url, ...gw.owner });
    const client = await connected(url, { ...mallory, clientId: "mallory" });
    try {
      await owner.waitConnected();
      const ownerReplies: unknown[] = [];
      owner.on("error-reply", (_d, e) => ownerReplies.push(e));
      const before = String((await getJson(`${gw.httpUrl}metrics`)).body);
      // Mosquitto acknowledges and drops what the ACL forbids.
      await publishOutcome(client, "camgw/porch/rx/owner", JSON.stringify({ v: 1 }));
      const fake = JSON.stringify({ v: 1, type: "status", online: false });
      await publishOutcome(client, "camgw/porch/status", fake, { retain: true });
      await sleep(500);
      const after = String((await getJson(`${gw.httpUrl}metrics`)).body);
      expect(metric(after, "camgw_signaling_received_total")).toBe(
        metric(before, "camgw_signaling_received_total"),
      );
      expect(metric(after, "camgw_signaling_status_restored_total")).toBe(0);
      expect(ownerReplies).toEqual([]);
      expect(owner.devices.get("porch")?.online).toBe(true);
    } finally {
      await client.endAsync(true);
      await owner.close();
    }
  });

  it("does not let a viewer push the device off with the device's client id", async () => {
    const before = String((await getJson(`${gw.httpUrl}metrics`)).body);
    const client = await connected(url, { ...mallory, clientId: "camgw-device-porch" });
    await sleep(500);
    await client.endAsync(true);
    const after = String((await getJson(`${gw.httpUrl}metrics`)).body);
    console.log(
      gw
        .output()
        .split("\n")
        .filter((l) => /broker|signaling/.test(l))
        .join("\n"),
    );
    expect(metric(after, "camgw_signaling_connects_total")).toBe(
      metric(before, "camgw_signaling_connects_total"),
    );
    expect(after).toMatch(/^camgw_signaling_connected 1$/m);
  });

  it("closes the connection of a packet over 70 KB", async () => {
    const client = await connected(url, { ...mallory, clientId: "mallory" });
    const big = Buffer.alloc(100_000, 0x20);
    expect(await publishOutcome(client, "camgw/porch/rx/mallory", big)).toBe("closed");
  });
});

describe("camgw on a Mosquitto without any ACL defends itself", () => {
  let mosquitto: Mosquitto;
  let proxy: TcpProxy;
  let gw: GatewayProcess;

  beforeAll(async () => {
    mosquitto = await Mosquitto.start();
    // The device reaches the broker through a proxy, so a test can cut its connection.
    proxy = await TcpProxy.start(mosquitto.plainPort);
    gw = await startGateway({
      args: ["--device-id", "porch", "--broker", `mqtt://127.0.0.1:${proxy.port}`],
    });
    await waitUntil(async () =>
      /^camgw_signaling_connected 1$/m.test(String((await getJson(`${gw.httpUrl}metrics`)).body)),
    );
  });

  afterAll(async () => {
    await gw.stop();
    await proxy.close();
    await mosquitto.close();
  });

  it("answers unauthorized to a viewer id that is no account", async () => {
    const client = await connected(mosquitto.mqttUrl, { clientId: "stranger" });
    try {
      await client.subscribeAsync("camgw/porch/tx/stranger", { qos: 1 });
      const replies = collect(client);
      const offer = { v: 1, type: "offer", session: "s1", sdp: "v=0" };
      await client.publishAsync("camgw/porch/rx/stranger", JSON.stringify(offer), { qos: 1 });
      await waitUntil(() => Promise.resolve(replies.length > 0));
      expect(JSON.parse(replies[0]?.payload ?? "{}")).toMatchObject({
        type: "error",
        code: "unauthorized",
        session: "s1",
      });
    } finally {
      await client.endAsync(true);
    }
  });

  it("does not process retained messages on rx/ again after a reconnect", async () => {
    const client = await connected(mosquitto.mqttUrl, { clientId: "owner-spoof" });
    try {
      await client.subscribeAsync("camgw/porch/tx/owner", { qos: 1 });
      const replies = collect(client);
      // A retained message on the owner's rx topic (this broker lets anyone publish there).
      const message = { v: 1, type: "offer", session: "replay", sdp: "not sdp" };
      await client.publishAsync("camgw/porch/rx/owner", JSON.stringify(message), {
        qos: 1,
        retain: true,
      });
      // Live, it is a message like any other: the device answers it once.
      await waitUntil(() => Promise.resolve(replies.length === 1));
      proxy.cut();
      await waitUntil(async () => {
        const m = String((await getJson(`${gw.httpUrl}metrics`)).body);
        return (
          metric(m, "camgw_signaling_connects_total") === 2 &&
          /^camgw_signaling_connected 1$/m.test(m)
        );
      });
      await sleep(500);
      // Replayed with the retain flag on the new subscription: ignored, not answered again.
      expect(replies).toHaveLength(1);
      const m = String((await getJson(`${gw.httpUrl}metrics`)).body);
      expect(metric(m, "camgw_signaling_retained_ignored_total")).toBe(1);
    } finally {
      await client.publishAsync("camgw/porch/rx/owner", "", { qos: 1, retain: true });
      await client.endAsync(true);
    }
  });

  it("restores its retained status when another client fakes or wipes it", async () => {
    const client = await connected(mosquitto.mqttUrl, { clientId: "faker" });
    try {
      for (const payload of [JSON.stringify({ v: 1, type: "status", online: false }), ""]) {
        await client.publishAsync("camgw/porch/status", payload, { qos: 1, retain: true });
        await sleep(1200);
        const watcher = new ViewerClient({ url: mosquitto.mqttUrl });
        try {
          await watcher.waitConnected();
          await waitUntil(() => Promise.resolve(watcher.devices.get("porch")?.online === true));
        } finally {
          await watcher.close();
        }
      }
      const m = String((await getJson(`${gw.httpUrl}metrics`)).body);
      expect(metric(m, "camgw_signaling_status_restored_total")).toBeGreaterThanOrEqual(2);
    } finally {
      await client.endAsync(true);
    }
  });

  it("keeps a viewer playing while another floods it with offers from one account", async () => {
    const watching = startProbeProcess(gw, "porch", gw.ownerLink, mosquitto.mqttUrl);
    await waitUntil(async () =>
      /^camgw_connected_sessions 1$/m.test(String((await getJson(`${gw.httpUrl}metrics`)).body)),
    );
    const flooder = await gw.addViewer("flooder");
    const client = await connected(mosquitto.mqttUrl, { clientId: "flooder" });
    try {
      for (let i = 0; i < 200; i++) {
        const offer = { v: 1, type: "offer", session: `f${i}`, sdp: "v=0\r\nm=video 9 X 1\r\n" };
        client.publish("camgw/porch/rx/flooder", JSON.stringify(offer), { qos: 0 });
      }
      await sleep(2000);
    } finally {
      await client.endAsync(true);
    }
    const report = await watching.stop();
    expect(flooder.username).toBe("flooder");
    console.log(
      `the owner watched through the flood: ${report.frames} frames, ${report.freezes} freezes (webrtc-stats rule), longest gap ${report.longestGapMs} ms`,
    );
    expect(report).toMatchObject({ video: true, ended: null });
    // A frozen picture a person notices; the flood of issue 10 froze every viewer for ~5 s.
    // (The freeze count above reacts to a busy machine's scheduling and is printed, not asserted.)
    expect(report.longestGapMs).toBeLessThan(1000);
  });
});

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}
