import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeJpegLuma, jpegHeader } from "../../../native/lib/testing/jpeg.js";
import { readStamp } from "../media/frame-stamp.js";
import { runProbe } from "../probe/probe.js";
import { ViewerClient } from "../signaling/viewer-client.js";
import {
  CAMGW_BIN,
  getJson,
  probeLogin,
  startGateway,
  type GatewayProcess,
} from "../testing/gateway-process.js";

const execFileAsync = promisify(execFile);

interface Shot {
  status: number;
  headers: Headers;
  body: Buffer;
  /** Date.now() when the request left. */
  sentAtMs: number;
}

async function snapshot(gw: GatewayProcess, query = "", token?: string): Promise<Shot> {
  const sentAtMs = Date.now();
  const res = await fetch(`${gw.httpUrl}api/snapshot.jpg${query}`, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
  return {
    status: res.status,
    headers: res.headers,
    body: Buffer.from(await res.arrayBuffer()),
    sentAtMs,
  };
}

/**
 * A JPEG of the virtual camera (1280x720): SOI/EOI and the SOF0 header say
 * its size, ffmpeg decodes it, and the frame stamp in its pixels (the
 * camera's capture time, frame-stamp.md) is the capture time the gateway
 * reports and less than a second older than the request.
 */
function expectRecentPicture(shot: Shot, width: number, height: number): void {
  expect(shot.status).toBe(200);
  expect(shot.headers.get("content-type")).toBe("image/jpeg");
  expect(shot.headers.get("cache-control")).toBe("no-store");
  const header = jpegHeader(shot.body);
  expect([header.width, header.height]).toEqual([width, height]);
  const stampUs = readStamp({ data: decodeJpegLuma(shot.body), width, height }, 1280, 720);
  expect(stampUs).not.toBeNull();
  const stampMs = Number(stampUs) / 1000;
  const captured = Date.parse(shot.headers.get("x-camgw-capture-time") ?? "");
  expect(Math.abs(stampMs - captured)).toBeLessThan(5);
  expect(shot.sentAtMs - stampMs).toBeLessThan(1000);
  expect(Number(shot.headers.get("x-camgw-frame-age-ms"))).toBeLessThan(1000);
}

/** The source's line of /healthz (details: this test is on loopback). */
async function sourceDetail(gw: GatewayProcess): Promise<string> {
  const health = (await getJson(`${gw.httpUrl}healthz`)).body as {
    parts?: Record<string, { detail?: string }>;
  };
  return health.parts?.source?.detail ?? JSON.stringify(health);
}

describe("snapshots from camgw run on the virtual board", () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    gw = await startGateway({ args: ["--device-id", "porch"] });
  });

  afterAll(async () => {
    await gw.stop();
  });

  it("starts the idle camera for a snapshot when nobody watches, and keeps it running a while", async () => {
    expect(await sourceDetail(gw)).toMatch(/idle/);
    expectRecentPicture(await snapshot(gw, "", gw.owner.token), 1280, 720);
    // Held for the linger, so the next snapshot finds it running.
    expect(await sourceDetail(gw)).toMatch(/streaming/);
    expectRecentPicture(await snapshot(gw, "?width=640", gw.owner.token), 640, 360);
    const metrics = String((await getJson(`${gw.httpUrl}metrics`)).body);
    expect(metrics).toMatch(/^camgw_snapshot_taken_total 2$/m);
    expect(metrics).toMatch(/^camgw_snapshot_cold_starts_total 1$/m);
  });

  it("scales to ?width= with the aspect kept and even sizes", async () => {
    expectRecentPicture(await snapshot(gw, "?width=321", gw.owner.token), 320, 180);
  });

  it("refuses a request without a valid token with 401 and a Bearer challenge", async () => {
    const none = await snapshot(gw);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="camgw"');
    const bad = await snapshot(gw, "", `${gw.owner.token}x`);
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    expect(bad.body.toString()).not.toContain("\xff\xd8");
  });

  it("refuses widths that are not an integer from 16 to the camera's width with 400", async () => {
    for (const query of [
      "?width=15",
      "?width=1281",
      "?width=abc",
      "?width=320.5",
      "?width=",
      "?width=320&width=640",
      "?height=10",
    ]) {
      const shot = await snapshot(gw, query, gw.owner.token);
      expect(shot.status, query).toBe(400);
      expect(shot.headers.get("content-type")).toBe("application/problem+json");
      expect((JSON.parse(shot.body.toString()) as { title: string }).title).toMatch(
        /width|parameter/,
      );
    }
  });

  it("answers snapshots while a viewer watches, and the viewer's video goes on", async () => {
    const watching = runProbe({ ...probeLogin(gw), deviceId: "porch", seconds: 4, decode: false });
    // Snapshots while the call runs, one client at a time as the route allows.
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 0; i < 3; i++) {
      expectRecentPicture(await snapshot(gw, "?width=640", gw.owner.token), 640, 360);
    }
    const report = await watching;
    expect(report.video).toBe(true);
    expect(report.ended).toBeNull();
    expect(report.frames).toBeGreaterThan(30);
  });

  it("turns a client's flood away with 429 and Retry-After, and serves it again afterwards", async () => {
    const flood = await Promise.all(
      Array.from({ length: 12 }, () => snapshot(gw, "?width=160", gw.owner.token)),
    );
    const statuses = flood.map((s) => s.status);
    expect(statuses).toContain(200);
    expect(statuses).toContain(429);
    for (const s of flood.filter((f) => f.status === 429)) {
      expect(s.headers.get("retry-after")).toBe("1");
    }
    await new Promise((r) => setTimeout(r, 3000));
    expect((await snapshot(gw, "?width=160", gw.owner.token)).status).toBe(200);
  });

  it("sends a JPEG in reply to a snapshot request over MQTT signaling", async () => {
    const client = new ViewerClient({ url: gw.mqttUrl ?? "", ...gw.owner });
    try {
      await client.waitConnected();
      const reply = await client.snapshot("porch", { width: 320 });
      expect(reply).toMatchObject({ type: "snapshot", stream: "main", mime: "image/jpeg" });
      const jpeg = Buffer.from(reply.data, "base64");
      const header = jpegHeader(jpeg);
      expect([header.width, header.height, reply.width, reply.height]).toEqual([
        320, 180, 320, 180,
      ]);
      const stamp = readStamp({ data: decodeJpegLuma(jpeg), width: 320, height: 180 }, 1280, 720);
      expect(Math.abs(Number(stamp) / 1000 - reply.ts)).toBeLessThan(5);
      // Without a width the device picks one whose JPEG fits a message.
      const full = await client.snapshot("porch");
      expect(Buffer.from(full.data, "base64").length).toBeLessThanOrEqual(48_000);
      expect(jpegHeader(Buffer.from(full.data, "base64")).width).toBe(full.width);
    } finally {
      await client.close();
    }
  });

  it("answers bad snapshot requests over MQTT with the spec's error codes", async () => {
    const client = new ViewerClient({ url: gw.mqttUrl ?? "", ...gw.owner });
    try {
      await client.waitConnected();
      // Step 4: a width that is no integer from 16 to 16384.
      await expect(client.snapshot("porch", { width: 8 })).rejects.toMatchObject({
        code: "bad-request",
        message: expect.stringMatching(/"width"/) as unknown,
      });
      // The host: wider than the camera, a stream it does not have.
      await expect(client.snapshot("porch", { width: 4000 })).rejects.toMatchObject({
        code: "bad-request",
        message: expect.stringMatching(/1280/) as unknown,
      });
      await new Promise((r) => setTimeout(r, 2100));
      await expect(client.snapshot("porch", { stream: "side" })).rejects.toMatchObject({
        code: "unsupported",
      });
    } finally {
      await client.close();
    }
  });

  it("camgw snapshot writes the JPEG a viewer's token fetches, and fails clearly without one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "camgw-snapshot-"));
    try {
      const out = join(dir, "porch.jpg");
      const { stderr } = await execFileAsync(
        process.execPath,
        [CAMGW_BIN, "snapshot", "--url", gw.httpUrl, "--width", "640", "--out", out],
        { env: { ...process.env, CAMGW_TOKEN: gw.owner.token } },
      );
      expect(stderr).toMatch(/wrote .*porch\.jpg: \d+ bytes of JPEG, the frame \d+ ms old/);
      const header = jpegHeader(await readFile(out));
      expect([header.width, header.height]).toEqual([640, 360]);
      const failed = await execFileAsync(
        process.execPath,
        [CAMGW_BIN, "snapshot", "--url", gw.httpUrl, "--token", "nobody.secret", "--out", out],
        { env: { ...process.env, CAMGW_TOKEN: "" } },
      ).catch((e: unknown) => e as { code: number; stderr: string });
      expect(failed).toMatchObject({ code: expect.any(Number) as unknown });
      expect((failed as { stderr: string }).stderr).toMatch(/answered 401: the token is not valid/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("snapshots of a camera that gives its own H.264", () => {
  it("answers 501 over HTTP and unsupported over MQTT: there is no H.264 decoder", async () => {
    const gw = await startGateway({ args: ["--device-id", "uvc"], sim: { profile: "uvc-h264" } });
    try {
      const shot = await snapshot(gw, "", gw.owner.token);
      expect(shot.status).toBe(501);
      expect((JSON.parse(shot.body.toString()) as { title: string }).title).toMatch(
        /H\.264 decoder/,
      );
      const client = new ViewerClient({ url: gw.mqttUrl ?? "", ...gw.owner });
      try {
        await client.waitConnected();
        await expect(client.snapshot("uvc")).rejects.toMatchObject({ code: "unsupported" });
      } finally {
        await client.close();
      }
    } finally {
      await gw.stop();
    }
  });
});
