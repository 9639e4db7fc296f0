import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RtpPacket } from "werift";
import { encodeTestClip, type ClipAccessUnit } from "../../testing/test-clip.js";
import { SessionManager } from "../session-manager.js";
import { ClipSource } from "../testing/clip-source.js";
import { LOOPBACK, connectViewer, waitFor, type Connected } from "../testing/harness.js";
import type { WireHeader } from "../werift/rtp-send.js";
import { packetPolicer } from "../testing/packet-policer.js";

/**
 * The second, lower encoding on the wire (second-encoding.ts): real werift
 * both sides over loopback, two viewers of one stream, "capped" behind a
 * policer passing ~40 packets/s (as encoder-follows.test.ts), "free"
 * unconstrained. The source plays real H.264 clips: 640x360 for the main
 * encoding, 320x180 for the low one (ClipSource's layer). What is checked
 * is who gets which encoding and that the capped viewer's RTP stream goes
 * on unbroken across the switch; no timing is asserted.
 */
let main: ClipAccessUnit[];
let low: ClipAccessUnit[];
let source: ClipSource;
let manager: SessionManager;
const viewers: Connected[] = [];

beforeAll(async () => {
  main = await encodeTestClip({ width: 640, height: 360, frames: 90, gop: 30 });
  low = await encodeTestClip({ width: 320, height: 180, frames: 90, gop: 30 });
});

afterEach(async () => {
  for (const v of viewers.splice(0)) await v.viewer.close();
  await manager.close();
  await source.close();
});

function setUp(lowEncoding: boolean): void {
  source = new ClipSource(
    main,
    { width: 640, height: 360, fps: 30 },
    { units: low, width: 320, height: 180 },
  );
  const capped = packetPolicer(40, 10);
  manager = new SessionManager({
    streams: { main: source },
    ice: LOOPBACK,
    answerTimeoutMs: 10_000,
    encoderBitrate: { minKbps: 150, maxKbps: 2000 },
    lowEncoding,
    dropOnWire: (viewerId: string, _header: WireHeader) => viewerId === "capped" && capped(),
  });
}

const encodingOf = (viewerId: string): string | undefined =>
  manager.stats.viewers.find((v) => v.viewerId === viewerId)?.encoding;

describe("a second, lower encoding for a viewer far below the other", () => {
  it("moves the capped viewer to it on one unbroken RTP stream and leaves the free one on the main encoding", async () => {
    setUp(true);
    const free = await connectViewer(manager, "free", "s1");
    viewers.push(free);
    const capped = await connectViewer(manager, "capped", "s1");
    viewers.push(capped);
    const packets: RtpPacket[] = [];
    capped.viewer.on("rtp", (p) => packets.push(p));
    await waitFor(() => encodingOf("capped") === "low", 60_000, 50);
    expect(source.layerStarts).toBe(1);
    expect(source.layerSettings).toMatchObject({ width: 320, height: 180 });
    expect(encodingOf("free")).toBe("main");
    const switchedAt = packets.length;
    // The main encoding is free of the capped viewer: it climbs back above what the policer passes.
    await waitFor(() => manager.stats.encoderTargetKbps > 1000, 30_000, 50);
    await waitFor(() => packets.length > switchedAt + 50, 30_000, 50);
    // One SSRC, sequence numbers that run on (the policer's holes are short;
    // repairs arrive a little out of order; a switch without renumbering
    // jumps by a random distance), timestamps within a few seconds of the
    // packet before.
    expect(new Set(packets.map((p) => p.header.ssrc)).size).toBe(1);
    for (let i = 1; i < packets.length; i++) {
      const a = packets[i - 1]?.header;
      const b = packets[i]?.header;
      if (!a || !b) continue;
      const seqStep = ((b.sequenceNumber - a.sequenceNumber + 0x8000) & 0xffff) - 0x8000;
      expect(Math.abs(seqStep), `sequence ${a.sequenceNumber} -> ${b.sequenceNumber}`).toBeLessThan(
        1000,
      );
      const tsStep = (b.timestamp - a.timestamp) | 0;
      expect(Math.abs(tsStep), `timestamp ${a.timestamp} -> ${b.timestamp}`).toBeLessThan(
        5 * 90_000,
      );
    }
    expect(manager.stats.video.encodingSwitches).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("keeps one encoding for both with the second one off", async () => {
    setUp(false);
    viewers.push(await connectViewer(manager, "free", "s1"));
    viewers.push(await connectViewer(manager, "capped", "s1"));
    await waitFor(() => source.bitrateKbps > 0 && source.bitrateKbps < 600, 30_000, 50);
    await new Promise((r) => setTimeout(r, 5000));
    expect(source.layerStarts).toBe(0);
    expect(encodingOf("capped")).toBe("main");
  }, 60_000);
});
