/**
 * The camera entity: HomeAssistantLink on a real MqttLink and the embedded
 * broker with the app's own logins and ACL (a state directory with a
 * device secret and a "hass" viewer). main has no snapshot producer yet, so
 * the snapshot function here is ffmpeg (Debian's, deps/apt/dev/tools.txt)
 * encoding its test pattern as a JPEG of the requested width: real JPEGs,
 * made where the test runs.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { accountAuthenticator } from "../auth/account-authenticator.js";
import { AccountStore, type NewViewer } from "../auth/account-store.js";
import { deviceCredential } from "../auth/device-credential.js";
import { MAX_PACKET_BYTES } from "../auth/mosquitto-files.js";
import { EmbeddedBroker } from "../signaling/broker.js";
import { MqttLink } from "../signaling/mqtt-link.js";
import { statusTopic } from "../signaling/topics.js";
import { waitUntil } from "../testing/wait-until.js";
import { HaStateReader } from "./ha-state.js";
import { HomeAssistantLink, type SnapshotFn } from "./home-assistant-link.js";
import { checkAnnouncement, HomeAssistantClient } from "./testing/home-assistant-client.js";

const run = promisify(execFile);
const SNAPSHOT = "camgw/porch/ha/snapshot";

/** One frame of ffmpeg's `filter` source as an image of `codec` (mjpeg: JPEG), as bytes. */
async function ffmpegImage(filter: string, codec: "mjpeg" | "png", quality = 5): Promise<Buffer> {
  const { stdout } = await run(
    "ffmpeg",
    ["-v", "error", "-f", "lavfi", "-i", filter, "-frames:v", "1", "-c:v", codec]
      .concat(codec === "mjpeg" ? ["-q:v", String(quality)] : [])
      .concat(["-f", "image2pipe", "-"]),
    { encoding: "buffer", maxBuffer: 16 << 20 },
  );
  return stdout;
}

/** The width in a baseline JPEG's SOF0 segment (ITU-T T.81 B.2.2). */
function jpegWidth(jpeg: Buffer): number {
  let at = 2;
  while (at + 9 < jpeg.length) {
    if (jpeg[at] !== 0xff) throw new Error(`no JPEG marker at ${at}`);
    const marker = jpeg[at + 1];
    if (marker === 0xc0) return jpeg.readUInt16BE(at + 7);
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  throw new Error("no SOF0 segment");
}

describe("Home Assistant's camera entity", () => {
  let dir: string;
  let broker: EmbeddedBroker;
  let accounts: AccountStore;
  let hass: NewViewer;
  let link: MqttLink;
  let url: string;
  const closers: (() => Promise<void> | void)[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "camgw-ha-link-"));
    accounts = await AccountStore.open(dir);
    hass = await accounts.add("hass");
    const device = await deviceCredential(dir, "porch");
    broker = await EmbeddedBroker.start({
      host: "127.0.0.1",
      port: 0,
      auth: accountAuthenticator(
        {
          prefix: "camgw",
          deviceId: "porch",
          homeAssistant: { prefix: "homeassistant", account: "hass" },
        },
        device,
        accounts,
      ),
    });
    url = `mqtt://127.0.0.1:${broker.port ?? 0}`;
    link = new MqttLink({
      url,
      deviceId: "porch",
      status: { name: "Porch", version: "test", streams: [] },
      sink: { receive: () => undefined },
      username: device.username,
      password: device.password,
    });
    link.connect();
    await link.waitConnected();
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await link.close();
    await broker.close();
    accounts.close();
    await rm(dir, { recursive: true, force: true });
  });

  function start(snapshot: SnapshotFn): HomeAssistantLink {
    const ha = new HomeAssistantLink({
      link,
      enabled: true,
      discovery: {
        haPrefix: "homeassistant",
        prefix: "camgw",
        deviceId: "porch",
        statusTopic: statusTopic("camgw", "porch"),
        name: "Porch",
        version: "test",
        model: "camgw (test)",
      },
      state: new HaStateReader({
        samples: () => [],
        encoder: () => "ffmpeg",
        source: () => ({ state: "live", size: "320x180" }),
      }),
      stateIntervalMs: 60_000,
      snapshot,
      snapshotIntervalMs: 200,
      snapshotWidth: 320,
      maxSnapshotBytes: MAX_PACKET_BYTES - 7 - SNAPSHOT.length,
    });
    closers.push(() => ha.close());
    ha.start();
    return ha;
  }

  async function homeAssistant(): Promise<HomeAssistantClient> {
    const client = await HomeAssistantClient.connect(
      url,
      { username: "hass", password: hass.password, clientId: "hass.ha" },
      ["homeassistant/#", SNAPSHOT],
    );
    closers.push(() => client.close());
    return client;
  }

  it("is announced with the sensors and fed JPEGs of the configured width", async () => {
    const widths: number[] = [];
    start(async ({ width }) => {
      widths.push(width);
      return ffmpegImage(`testsrc=size=${width}x${(width * 9) / 16}`, "mjpeg");
    });
    const ha = await homeAssistant();
    await waitUntil(() => ha.announced("homeassistant").size === 6);
    const entities = checkAnnouncement(ha.announced("homeassistant"), "camgw/porch/status", {
      online: '{"online":true}',
      offline: '{"online":false}',
    });
    const camera = entities.find((e) => e.component === "camera");
    expect(camera?.config.topic).toBe(SNAPSHOT);
    await waitUntil(() => ha.seen.filter((m) => m.topic === SNAPSHOT).length >= 2);
    const jpeg = ha.last(SNAPSHOT)?.payload ?? Buffer.alloc(0);
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(jpeg.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
    expect(jpegWidth(jpeg)).toBe(320);
    expect(widths.every((w) => w === 320)).toBe(true);
    // Not kept on the broker: a picture of someone's home does not outlive the moment.
    expect(ha.last(SNAPSHOT)?.retain).toBe(false);
  });

  it("sends no picture that is not a JPEG or too big for an MQTT packet, says why once, and keeps the link up", async () => {
    const png = await ffmpegImage("testsrc=size=320x180", "png");
    const noise = await ffmpegImage("nullsrc=size=1920x1080,geq=random(1)*255:128:128", "mjpeg", 1);
    expect(noise.length).toBeGreaterThan(MAX_PACKET_BYTES);
    let calls = 0;
    // Three PNGs, then JPEGs too big: two problems, each told once however long it lasts.
    const ha = start(() => Promise.resolve(calls++ < 3 ? png : noise));
    const warnings: string[] = [];
    ha.on("warning", (err) => warnings.push(err.message));
    const client = await homeAssistant();
    await waitUntil(() => calls >= 8);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/not a JPEG/);
    expect(warnings[1]).toMatch(/of \d+ bytes is over the \d+ an MQTT packet may carry/);
    expect(client.seen.filter((m) => m.topic === SNAPSHOT)).toEqual([]);
    expect(link.connected).toBe(true);
  });
});
