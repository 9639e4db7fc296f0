import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { AppBridge } from "../control/app-bridge.js";
import { ControlHub } from "../control/control-hub.js";
import { MAX_CONTROL_MESSAGE } from "../control/control-messages.js";
import { SourceControl } from "../control/source-control.js";
import { encodeTestClip, type ClipAccessUnit } from "../testing/test-clip.js";
import { serveControl } from "./data-channel.js";
import { AvViewer } from "./testing/av-viewer.js";
import { ClipSource } from "./testing/clip-source.js";
import { waitFor } from "./testing/harness.js";
import { LibwebrtcViewer } from "./testing/libwebrtc-viewer.js";
import { SessionManager } from "./session-manager.js";

/**
 * The control DataChannel (docs/control.md) from two independent SCTP
 * stacks: werift's, and libwebrtc's own (@roamhq/wrtc, what Chromium runs;
 * the browser itself is in web-viewer/test/audio.test.ts), against the
 * session manager with a real hub and a real app socket.
 */

type Json = Record<string, unknown>;

/** Either peer's channel, as far as the tests need it. */
interface Channel {
  send(text: string | Uint8Array): void;
  readonly replies: Json[];
}

let clip: ClipAccessUnit[];
let source: ClipSource;
let manager: SessionManager;
let hub: ControlHub;
let bridge: AppBridge;
let dir: string;
const closers: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 30, gop: 30 });
});

async function setUp(): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), "camgw-control-"));
  bridge = await AppBridge.listen(join(dir, "app.sock"));
  source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  hub = new ControlHub({
    stream: new SourceControl(source, 2000),
    policy: { bitrate: { min: 300, max: 3000 }, sizes: [], appViewers: ["werift", "lib"] },
    app: bridge,
  });
  manager = new SessionManager({
    streams: { main: source },
    ice: { hostAddresses: ["127.0.0.1"] },
    control: (channel, viewer, view) => serveControl(channel, viewer, view, hub),
  });
}

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await manager.close();
  hub.close();
  await bridge.close();
  await source.close();
  await rm(dir, { recursive: true, force: true });
});

async function weriftChannel(viewerId = "werift"): Promise<Channel> {
  const viewer = new AvViewer(manager, viewerId);
  closers.push(() => viewer.close());
  const channel = viewer.openControl();
  const replies: Json[] = [];
  channel.onMessage.subscribe((m) => replies.push(JSON.parse(m.toString()) as Json));
  await viewer.negotiate();
  await waitFor(() => channel.readyState === "open", 15_000);
  return {
    send: (text) => channel.send(typeof text === "string" ? text : Buffer.from(text)),
    replies,
  };
}

/** libwebrtc's own SCTP (testing/libwebrtc-viewer.ts). */
async function libwebrtcChannel(viewerId = "lib"): Promise<Channel> {
  const viewer = new LibwebrtcViewer(manager, viewerId);
  closers.push(() => viewer.close());
  const channel = viewer.openControl();
  const replies: Json[] = [];
  channel.onmessage = (event: MessageEvent) => replies.push(JSON.parse(String(event.data)) as Json);
  await viewer.negotiate();
  if (channel.readyState !== "open") await once(channel as unknown as EventTarget, "open");
  return {
    send: (text) => {
      if (typeof text === "string") channel.send(text);
      else channel.send(new Uint8Array(text));
    },
    replies,
  };
}

let nextId = 1;
async function request(channel: Channel, message: Json): Promise<Json> {
  const id = nextId++;
  channel.send(JSON.stringify({ id, ...message }));
  let reply: Json | undefined;
  await waitFor(() => (reply = channel.replies.find((r) => r.id === id)) !== undefined, 10_000);
  return reply ?? {};
}

/** A program on the app socket (a real Unix socket client, newline-delimited JSON). */
async function program(): Promise<{ socket: Socket; lines: Json[] }> {
  const socket = createConnection(bridge.path);
  closers.push(() => void socket.destroy());
  await once(socket, "connect");
  const lines: Json[] = [];
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    let i;
    while ((i = buffered.indexOf("\n")) >= 0) {
      lines.push(JSON.parse(buffered.slice(0, i)) as Json);
      buffered = buffered.slice(i + 1);
    }
  });
  await waitFor(() => bridge.connected > 0);
  return { socket, lines };
}

for (const [peer, open] of [
  ["werift", weriftChannel],
  ["libwebrtc (@roamhq/wrtc)", libwebrtcChannel],
] as const) {
  describe(`the control channel from ${peer}`, () => {
    it("answers ping, keyframe, bitrate, resolution, stats and snapshot", async () => {
      await setUp();
      const channel = await open();
      const before = Date.now();
      const pong = await request(channel, { type: "ping" });
      expect(pong.type).toBe("pong");
      expect(pong.ts).toBeGreaterThanOrEqual(before - 1000);

      // The request joins the viewers' PLIs in the stream's key frame
      // requester, which passes it to the source or, when an IDR is on its
      // way (the viewer's join IDR, just now), merges it into that one
      // (send/keyframe-requester.ts).
      const requested = manager.stats.keyFrameRequests;
      expect(await request(channel, { type: "keyframe" })).toMatchObject({ type: "ok" });
      expect(manager.stats.keyFrameRequests).toBeGreaterThan(requested);

      expect(await request(channel, { type: "bitrate", kbps: 800 })).toMatchObject({
        type: "ok",
        kbps: 800,
      });
      expect(source.bitrateKbps).toBe(800);
      expect(await request(channel, { type: "bitrate", kbps: 5000 })).toMatchObject({
        type: "error",
        code: "out-of-range",
        message: "bitrate must be 300-3000 kbit/s",
      });
      expect(source.bitrateKbps).toBe(800);
      expect(await request(channel, { type: "resolution", width: 320, height: 180 })).toMatchObject(
        { type: "error", code: "forbidden" },
      );
      expect(await request(channel, { type: "resolution", width: 640, height: 360 })).toMatchObject(
        { type: "ok" },
      );

      const stats = await request(channel, { type: "stats" });
      expect(stats.type).toBe("stats");
      expect(stats.stats).toMatchObject({
        state: "connected",
        stream: { width: 640, height: 360, fps: 30, bitrateKbps: 800 },
      });
      expect(await request(channel, { type: "snapshot" })).toMatchObject({
        type: "error",
        code: "unavailable",
      });
    });

    it("answers bad messages with errors and goes on serving", async () => {
      await setUp();
      const channel = await open();
      channel.send("{not json");
      channel.send(new Uint8Array([1, 2, 3]));
      channel.send(JSON.stringify({ id: 1000, type: "reboot" }));
      channel.send(
        JSON.stringify({ id: 1001, type: "ping", pad: "x".repeat(MAX_CONTROL_MESSAGE) }),
      );
      channel.send(JSON.stringify({ id: 1002, type: "bitrate" }));
      await waitFor(() => channel.replies.length >= 5, 10_000);
      expect(channel.replies.map((r) => [r.id, r.code])).toEqual([
        [undefined, "bad-request"],
        [undefined, "bad-request"],
        [1000, "unknown-command"],
        [undefined, "too-large"],
        [1002, "bad-request"],
      ]);
      expect((await request(channel, { type: "ping" })).type).toBe("pong");
    });

    it("limits the rate of requests, and of the errors it answers with", async () => {
      await setUp();
      const channel = await open();
      for (let i = 0; i < 60; i++) channel.send(JSON.stringify({ id: `f${i}`, type: "ping" }));
      await waitFor(() => channel.replies.length >= 30, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      const pongs = channel.replies.filter((r) => r.type === "pong").length;
      const limited = channel.replies.filter((r) => r.code === "rate-limited").length;
      expect(pongs).toBeGreaterThanOrEqual(20);
      expect(pongs).toBeLessThan(60);
      expect(limited).toBeGreaterThan(0);
      // Error replies have their own budget: fewer than the requests refused.
      expect(pongs + limited).toBeLessThan(60);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await request(channel, { type: "ping" })).type).toBe("pong");
    });

    it("round-trips app messages through the Unix socket", async () => {
      await setUp();
      const prog = await program();
      const channel = await open();
      const viewer = peer === "werift" ? "werift" : "lib";
      await waitFor(() => prog.lines.some((l) => l.type === "join"));
      expect(prog.lines[0]).toEqual({ type: "join", viewer, session: "s1" });
      expect(await request(channel, { type: "app", data: { pan: -15 } })).toMatchObject({
        type: "ok",
      });
      await waitFor(() => prog.lines.some((l) => l.type === "app"));
      expect(prog.lines.find((l) => l.type === "app")).toEqual({
        type: "app",
        viewer,
        session: "s1",
        data: { pan: -15 },
      });
      prog.socket.write(`${JSON.stringify({ type: "app", viewer, data: { pan: "done" } })}\n`);
      await waitFor(() => channel.replies.some((r) => r.type === "app"));
      expect(channel.replies.find((r) => r.type === "app")).toEqual({
        type: "app",
        data: { pan: "done" },
      });
    });
  });
}

describe("who may use the app socket", () => {
  it("refuses app messages from a viewer config does not name, and says when no program listens", async () => {
    await setUp();
    const stranger = await weriftChannel("stranger");
    expect(await request(stranger, { type: "app", data: 1 })).toMatchObject({
      type: "error",
      code: "forbidden",
    });
    const allowed = await weriftChannel("werift");
    expect(await request(allowed, { type: "app", data: 1 })).toMatchObject({
      type: "error",
      code: "unavailable",
    });
  });
});
