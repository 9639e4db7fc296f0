import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RtpPacket } from "werift";
import { encodeTestClip, type ClipAccessUnit } from "../../testing/test-clip.js";
import { ClipSource } from "../testing/clip-source.js";
import { LOOPBACK, connectViewer, nextFrame, waitFor, type Connected } from "../testing/harness.js";
import type { HeadlessViewerOptions } from "../receive/headless-viewer.js";
import { SessionManager, type SessionManagerOptions } from "../session-manager.js";

/**
 * The video sender on the wire: real werift on both sides over loopback,
 * real H.264, the session manager in the middle. What goes out for
 * feedback, repair and pacing, as a viewer sees it. No timings asserted
 * (lower bounds at most, which a slow machine cannot break).
 */
let clip: ClipAccessUnit[];
let source: ClipSource;
let manager: SessionManager;
const viewers: Connected[] = [];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 90, gop: 30 });
});

function setUp(options: Partial<SessionManagerOptions> = {}): void {
  source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  // A busy machine may take longer than the spec's second to answer.
  manager = new SessionManager({
    streams: { main: source },
    ice: LOOPBACK,
    answerTimeoutMs: 10_000,
    ...options,
  });
}

afterEach(async () => {
  for (const v of viewers.splice(0)) await v.viewer.close();
  await manager.close();
  await source.close();
});

async function connect(options: HeadlessViewerOptions = {}, viewerId = "v1"): Promise<Connected> {
  const c = await connectViewer(manager, viewerId, "s1", options);
  viewers.push(c);
  return c;
}

interface Answer {
  mediaSsrc: number;
  rtxSsrc: number | undefined;
  rtxPayloadType: number | undefined;
  extension: (uri: string) => number | undefined;
}

function readAnswer(sdp: string): Answer {
  const fid = /a=ssrc-group:FID (\d+) (\d+)/.exec(sdp);
  const media = /a=ssrc:(\d+) /.exec(sdp);
  const rtxPt = /a=rtpmap:(\d+) rtx\/90000/.exec(sdp);
  return {
    mediaSsrc: Number(media?.[1]),
    rtxSsrc: fid ? Number(fid[2]) : undefined,
    rtxPayloadType: rtxPt ? Number(rtxPt[1]) : undefined,
    extension: (uri) => {
      const m = new RegExp(`a=extmap:(\\d+) ${uri.replace(/[.]/g, "\\.")}\\r?$`, "m").exec(sdp);
      return m ? Number(m[1]) : undefined;
    },
  };
}

const TRANSPORT_CC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

describe("the video sender", () => {
  it("negotiates RTX, transport-cc, playout-delay and abs-capture-time, and estimates from the feedback", async () => {
    setUp();
    const c = await connect();
    const answer = readAnswer(c.answer);
    expect(answer.rtxSsrc).toBeDefined();
    expect(c.answer).toMatch(/a=fmtp:\d+ apt=\d+/);
    expect(c.answer).toMatch(/a=rtcp-fb:\d+ transport-cc/);
    expect(c.answer).toMatch(/a=rtcp-fb:\d+ goog-remb/);
    for (const uri of [
      TRANSPORT_CC,
      "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
      "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time",
    ]) {
      expect(answer.extension(uri)).toBeDefined();
    }
    const frame = await nextFrame(c.viewer);
    // The capture time travels with the frame, on the sender's clock (the same one here).
    expect(frame.captureUnixUs).toBeDefined();
    expect(frame.captureUnixUs ?? 0).toBeLessThanOrEqual(frame.receivedAtUs);
    expect(frame.receivedAtUs - (frame.captureUnixUs ?? 0)).toBeLessThan(10_000_000);
    expect(c.viewer.stats.playoutDelay).toEqual({ minMs: 0, maxMs: 100 });
    await waitFor(() => manager.stats.viewers[0]?.estimate.source === "transport-cc");
    await waitFor(() => (manager.stats.viewers[0]?.estimate.ackedBps ?? 0) > 0, 15_000);
    expect(manager.stats.viewers[0]?.estimate.rttMs).toBeGreaterThanOrEqual(0);
    expect(manager.stats.video.transportFeedbackReceived).toBeGreaterThan(0);
    expect(manager.stats.video.transportFeedbackMalformed).toBe(0);
  });

  it("numbers every packet it sends, media, repairs and probes alike, in send order", async () => {
    setUp();
    const c = await connect();
    const id = readAnswer(c.answer).extension(TRANSPORT_CC);
    const numbers: number[] = [];
    c.viewer.on("wireRtp", (rtp: RtpPacket) => {
      const ext = rtp.header.extensions.find((e) => e.id === id);
      if (ext) numbers.push(ext.payload.readUInt16BE(0));
    });
    let recent = 0;
    c.viewer.on("rtp", (p) => (recent = p.header.sequenceNumber));
    await nextFrame(c.viewer);
    c.viewer.sendNack([recent]); // a repair (the viewer gets a duplicate)
    await waitFor(() => manager.stats.video.rtxSent === 1);
    await waitFor(() => manager.stats.video.probesSent > 0 && numbers.length > 100, 15_000);
    // Loopback keeps UDP in order: each number one more than the last.
    const gaps = numbers.slice(1).filter((n, i) => n !== (((numbers[i] ?? 0) + 1) & 0xffff));
    expect(gaps).toEqual([]);
    expect(manager.stats.video.paddingBytesSent).toBeGreaterThan(0);
  });

  it("answers a NACK with an RTX packet: the repair stream's SSRC and payload type, the original sequence number first", async () => {
    setUp();
    let target: number | undefined;
    let frames = 0;
    const c = await connect({
      dropPacket: (seq) => {
        if (target === undefined && frames >= 5) {
          target = seq;
          return true;
        }
        return false;
      },
    });
    c.viewer.on("frame", () => frames++);
    const answer = readAnswer(c.answer);
    const rtx: RtpPacket[] = [];
    c.viewer.on("wireRtp", (p) => {
      if (p.header.ssrc === answer.rtxSsrc && p.payload.length >= 2) rtx.push(p);
    });
    const repaired: number[] = [];
    c.viewer.on("rtp", (p) => {
      if (p.header.sequenceNumber === target) repaired.push(p.header.ssrc);
    });
    await waitFor(() => target !== undefined);
    c.viewer.sendNack([target ?? 0]);
    await waitFor(() => rtx.length === 1 && repaired.length === 1);
    const packet = rtx[0];
    expect(packet?.header.payloadType).toBe(answer.rtxPayloadType);
    expect(packet?.payload.readUInt16BE(0)).toBe(target);
    // werift's receiver unwraps it (RFC 4588 section 4) into the original stream.
    expect(repaired).toEqual([answer.mediaSsrc]);
    expect(manager.stats.video.rtxSent).toBe(1);
    expect(manager.stats.packetsRetransmitted).toBe(1);
  });

  it("does not answer a NACK repeated within the resend interval twice, but does after it", async () => {
    // Loopback's RTT is well under a millisecond: the test widens the interval.
    setUp({ repair: { minResendIntervalMs: 500 } });
    let target: number | undefined;
    let frames = 0;
    const c = await connect({
      dropPacket: (seq) => {
        if (target === undefined && frames >= 5) {
          target = seq;
          return true;
        }
        return false;
      },
    });
    c.viewer.on("frame", () => frames++);
    await waitFor(() => target !== undefined);
    c.viewer.sendNack([target ?? 0]);
    c.viewer.sendNack([target ?? 0]);
    await waitFor(
      () => manager.stats.video.repairsTooSoon === 1 && manager.stats.video.rtxSent === 1,
    );
    await new Promise((r) => setTimeout(r, 600));
    c.viewer.sendNack([target ?? 0]);
    await waitFor(() => manager.stats.video.rtxSent === 2);
    expect(manager.stats.video.repairsTooSoon).toBe(1);
  });

  it("holds repair to its budget under a NACK flood, and asks for a key frame instead", async () => {
    // A fixed 200 kbit/s estimate: a quarter of it is 6250 bytes a second of repair.
    setUp({ bandwidth: { startBps: 200_000, minBps: 200_000, maxBps: 200_000 } });
    const c = await connect();
    const recent: number[] = [];
    c.viewer.on("rtp", (p) => {
      recent.push(p.header.sequenceNumber);
      if (recent.length > 64) recent.shift();
    });
    await nextFrame(c.viewer);
    const requestsBefore = source.keyFrameRequests;
    const started = performance.now();
    for (let i = 0; i < 40; i++) {
      c.viewer.sendNack([...recent]);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    const elapsedMs = performance.now() - started;
    const video = manager.stats.video;
    expect(video.repairsOverBudget).toBeGreaterThan(0);
    expect(video.keyFramesInsteadOfRepair).toBeGreaterThan(0);
    expect(source.keyFrameRequests).toBeGreaterThan(requestsBefore);
    // At most one budget per second, over every second the flood touched.
    const windows = Math.ceil(elapsedMs / 1000) + 1;
    expect(video.repairBytesSent).toBeLessThanOrEqual(6250 * windows);
    expect(video.rtxSent).toBeGreaterThan(0);
  });

  it("resends the original packet to a viewer that did not offer RTX", async () => {
    setUp();
    let target: number | undefined;
    let frames = 0;
    const c = await connect({
      rtx: false,
      dropPacket: (seq) => {
        if (target === undefined && frames >= 5) {
          target = seq;
          return true;
        }
        return false;
      },
    });
    c.viewer.on("frame", () => frames++);
    expect(readAnswer(c.answer).rtxSsrc).toBeUndefined();
    const again: RtpPacket[] = [];
    c.viewer.on("wireRtp", (p) => {
      if (p.header.sequenceNumber === target) again.push(p);
    });
    await waitFor(() => target !== undefined);
    c.viewer.sendNack([target ?? 0]);
    // The original (seen on the wire, then dropped by the viewer) and the resend.
    await waitFor(() => again.length === 2);
    expect(again[1]?.header.ssrc).toBe(readAnswer(c.answer).mediaSsrc);
    expect(manager.stats.video.resentWithoutRtx).toBe(1);
    expect(manager.stats.video.paddingBytesSent).toBe(0); // no RTX: no padding, no probes
  });

  it("paces key frames after the first: their packets leave spread out, not as one burst", async () => {
    // 100 kbit/s estimate, paced at 2.5 x the stream's own rate at most: a
    // 640x360 key frame takes well over 20 ms to leave.
    setUp({ bandwidth: { startBps: 100_000, minBps: 100_000, maxBps: 100_000 } });
    const c = await connect();
    const arrivals: { at: number; keyStart: boolean; marker: boolean }[] = [];
    c.viewer.on("rtp", (p) => {
      const nal = (p.payload[0] ?? 0) & 0x1f;
      const keyStart =
        nal === 24 || nal === 7 || (nal === 28 && ((p.payload[1] ?? 0) & 0x9f) === 0x85);
      arrivals.push({ at: performance.now(), keyStart, marker: p.header.marker });
    });
    // The first key frame leaves unpaced (time to first frame); the clip's next one is paced.
    await nextFrame(c.viewer, (f) => f.keyframe);
    const firstKey = arrivals.length;
    await nextFrame(c.viewer, (f) => f.keyframe);
    const start = arrivals.findIndex((a, i) => i >= firstKey && a.keyStart);
    const end = arrivals.findIndex((a, i) => i >= start && a.marker);
    expect(start).toBeGreaterThanOrEqual(0);
    const span = (arrivals[end]?.at ?? 0) - (arrivals[start]?.at ?? 0);
    expect(end - start).toBeGreaterThan(5);
    expect(span).toBeGreaterThan(20);
    expect(manager.stats.video.pacerQueueDelayMaxMs).toBeGreaterThan(20);
  });
});
