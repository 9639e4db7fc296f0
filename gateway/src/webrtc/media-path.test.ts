import { once } from "node:events";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { splitAnnexB } from "../rtp/annexb.js";
import { ClipSource } from "./testing/clip-source.js";
import { LOOPBACK, connectViewer, nextFrame, waitFor, type Connected } from "./testing/harness.js";
import { encodeTestClip, type ClipAccessUnit } from "../testing/test-clip.js";
import { SessionManager } from "./session-manager.js";
import { unixUsFromNtp, type SenderReport } from "./receive/headless-viewer.js";

/**
 * The media path end to end over loopback: real werift on both sides, real
 * H.264 from libx264, the session manager in the middle.
 */
let clip: ClipAccessUnit[];
let source: ClipSource;
let manager: SessionManager;
const viewers: Connected[] = [];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 90, gop: 30 });
});

function setUp(options: Partial<ConstructorParameters<typeof SessionManager>[0]> = {}): void {
  source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  manager = new SessionManager({ streams: { main: source }, ice: LOOPBACK, ...options });
}

afterEach(async () => {
  for (const v of viewers.splice(0)) await v.viewer.close();
  await manager.close();
  await source.close();
});

const nals = (annexB: Buffer): string[] => splitAnnexB(annexB).map((n) => n.toString("hex"));
const clipKeys = (): Set<string> => new Set(clip.map((u) => nals(u.data).join("|")));

async function connect(
  viewerId: string,
  options: Parameters<typeof connectViewer>[3] = {},
): Promise<Connected> {
  const c = await connectViewer(manager, viewerId, "s1", options);
  viewers.push(c);
  return c;
}

describe("the media path", () => {
  it("delivers a key frame first, then access units with exactly the NAL units the source sent", async () => {
    setUp();
    const { viewer } = await connect("v1");
    const frames = [await nextFrame(viewer)];
    while (frames.length < 20) frames.push(await nextFrame(viewer));
    expect(frames[0]?.keyframe).toBe(true);
    const known = clipKeys();
    for (const f of frames) expect(known.has(nals(f.data).join("|"))).toBe(true);
    // 90 kHz timestamps advancing with the 30 fps capture clock (about 3000 ticks a frame).
    const first = frames[0]?.rtpTimestamp ?? 0;
    const last = frames.at(-1)?.rtpTimestamp ?? 0;
    const perFrame = ((last - first) >>> 0) / (frames.length - 1);
    expect(perFrame).toBeGreaterThan(1500);
    expect(perFrame).toBeLessThan(6000);
    expect(viewer.stats.packetsLost).toBe(0);
    expect(source.startCount).toBe(1);
  });

  it("gives a second viewer its own track and an immediate key frame", async () => {
    setUp();
    const a = await connect("v1");
    await nextFrame(a.viewer);
    const requestsBefore = source.keyFrameRequests;
    const b = await connect("v2");
    const firstOfB = await nextFrame(b.viewer);
    expect(firstOfB.keyframe).toBe(true);
    expect(source.keyFrameRequests).toBeGreaterThan(requestsBefore);
    const ssrc = (sdp: string): string | undefined => /a=ssrc:(\d+)/.exec(sdp)?.[1];
    expect(ssrc(a.answer)).toBeDefined();
    expect(ssrc(a.answer)).not.toBe(ssrc(b.answer));
    expect(source.startCount).toBe(1);
    expect(manager.stats.connectedSessions).toBe(2);
  });

  it("merges PLIs from two viewers into one key frame request to the source", async () => {
    setUp();
    const a = await connect("v1");
    const b = await connect("v2");
    await nextFrame(a.viewer);
    await nextFrame(b.viewer);
    await new Promise((r) => setTimeout(r, 700)); // past the 500 ms rate limit
    const before = source.keyFrameRequests;
    const received = manager.stats.pliReceived;
    a.viewer.requestKeyFrame();
    b.viewer.requestKeyFrame();
    await waitFor(() => manager.stats.pliReceived === received + 2);
    const key = await nextFrame(a.viewer, (f) => f.keyframe);
    expect(key.keyframe).toBe(true);
    await new Promise((r) => setTimeout(r, 700));
    expect(source.keyFrameRequests).toBe(before + 1);
  });

  it("turns a FIR into a key frame request", async () => {
    setUp();
    const { viewer } = await connect("v1");
    await nextFrame(viewer);
    await new Promise((r) => setTimeout(r, 700));
    const before = source.keyFrameRequests;
    viewer.sendFir();
    await waitFor(() => manager.stats.firReceived === 1);
    expect((await nextFrame(viewer, (f) => f.keyframe)).keyframe).toBe(true);
    expect(source.keyFrameRequests).toBe(before + 1);
  });

  it("sends sender reports stamped when they leave, on the same clock as the frames' capture times", async () => {
    setUp();
    const { viewer } = await connect("v1");
    const reports: { report: SenderReport; receivedMs: number }[] = [];
    viewer.on("senderReport", (report) => reports.push({ report, receivedMs: Date.now() }));
    await waitFor(() => reports.length >= 3, 15_000);
    const [r1, , r3] = reports;
    if (!r1 || !r3) throw new Error("no reports");
    const ntpDeltaMs =
      (unixUsFromNtp(r3.report.ntpTimestamp) - unixUsFromNtp(r1.report.ntpTimestamp)) / 1000;
    const rtpDeltaMs = ((r3.report.rtpTimestamp - r1.report.rtpTimestamp) >>> 0) / 90;
    // RFC 3550 6.4.1: NTP and RTP timestamps of the same instant, so they advance together.
    expect(Math.abs(ntpDeltaMs - rtpDeltaMs)).toBeLessThan(1);
    // That instant is the report's send time: before it arrived, and not long before.
    const ageMs = r3.receivedMs - unixUsFromNtp(r3.report.ntpTimestamp) / 1000;
    expect(ageMs).toBeGreaterThanOrEqual(-5);
    expect(ageMs).toBeLessThan(2000);
    // And the mapping puts a frame's RTP timestamp at its capture time (abs-capture-time).
    const frame = await nextFrame(viewer, (f) => f.captureUnixUs !== undefined);
    const sr = r3.report;
    const mappedUs =
      unixUsFromNtp(sr.ntpTimestamp) + (((frame.rtpTimestamp - sr.rtpTimestamp) | 0) / 90) * 1000;
    expect(Math.abs(mappedUs - (frame.captureUnixUs ?? 0))).toBeLessThan(1000);
  });

  it("streams with werift's own DTLS role too (gateway as DTLS client)", async () => {
    setUp({ dtlsRole: "client" });
    const { viewer, answer } = await connect("v1");
    expect(answer).toMatch(/a=setup:active/);
    expect((await nextFrame(viewer)).keyframe).toBe(true);
  });

  it("stops the source when the last viewer leaves and starts it again for the next", async () => {
    setUp();
    const a = await connect("v1");
    await nextFrame(a.viewer);
    manager.bye("v1", "s1");
    await waitFor(() => !source.running);
    expect(manager.sessionCount).toBe(0);
    const b = await connect("v2");
    await nextFrame(b.viewer);
    expect(source.startCount).toBe(2);
  });

  it("keeps the source running with no viewer when keepWarm is set", async () => {
    setUp({ keepWarm: true });
    await manager.warmUp();
    expect(source.running).toBe(true);
    const a = await connect("v1");
    await nextFrame(a.viewer);
    manager.bye("v1", "s1");
    await new Promise((r) => setTimeout(r, 100));
    expect(source.running).toBe(true);
  });

  it("ends the viewers of a source that fails with reason source-lost", async () => {
    setUp();
    const a = await connect("v1");
    await nextFrame(a.viewer);
    const ended = once(manager, "ended");
    source.emit("error", new Error("camera unplugged"));
    expect(await ended).toEqual(["v1", "s1", "source-lost"]);
    expect(manager.sessionCount).toBe(0);
  });
});
