import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeTestClip, type ClipAccessUnit } from "../../testing/test-clip.js";
import { ClipSource } from "../testing/clip-source.js";
import { LOOPBACK, connectViewer, waitFor, type Connected } from "../testing/harness.js";
import { SessionManager } from "../session-manager.js";
import type { WireHeader } from "../werift/rtp-send.js";
import { packetPolicer } from "../testing/packet-policer.js";

/**
 * The encoder follows its viewers (send/bitrate-policy.ts) on the wire:
 * real werift both sides over loopback, real H.264, transport-cc and
 * receiver reports from the viewer, and a viewer behind a policer that
 * passes ~40 packets/s (~400 kbit/s of full packets) and drops the rest, as
 * a capped uplink with a short queue does. The clip does not change with
 * the rate asked of it (the virtual board's encoders do), so what is
 * checked is what the encoder is asked for. No timing is asserted.
 */
let clip: ClipAccessUnit[];
let source: ClipSource;
let manager: SessionManager;
const viewers: Connected[] = [];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 90, gop: 30 });
});

afterEach(async () => {
  for (const v of viewers.splice(0)) await v.viewer.close();
  await manager.close();
  await source.close();
});

function setUp(adapt: boolean, degradation?: "maintain-framerate"): void {
  source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  const capped = packetPolicer(40, 10);
  manager = new SessionManager({
    streams: { main: source },
    ice: LOOPBACK,
    answerTimeoutMs: 10_000,
    ...(adapt ? { encoderBitrate: { minKbps: 150, maxKbps: 2000 }, degradation } : {}),
    dropOnWire: (viewerId: string, _header: WireHeader) => viewerId === "capped" && capped(),
  });
}

describe("the encoder's bitrate with a viewer behind a bottleneck", () => {
  it("comes down to what the capped viewer's link carries, and back up when it leaves", async () => {
    setUp(true);
    const c = await connectViewer(manager, "capped", "s1");
    viewers.push(c);
    await waitFor(() => source.bitrateKbps > 0 && source.bitrateKbps < 600, 30_000, 50);
    expect(manager.stats.encoderTargetKbps).toBe(source.bitrateKbps);
    await c.viewer.close();
    viewers.splice(0);
    manager.bye("capped", "s1");
    await waitFor(() => source.bitrateKbps === 2000, 10_000, 50);
  });

  it("takes the capture size down a step when the bitrate alone cannot fit, and back when the viewer leaves", async () => {
    setUp(true, "maintain-framerate");
    const c = await connectViewer(manager, "capped", "s1");
    viewers.push(c);
    // 640x360's ladder has one step, 480x272 (send/resolution-policy.ts).
    await waitFor(() => source.resizes.length > 0, 30_000, 50);
    expect(source.resizes[0]).toEqual({ width: 480, height: 272 });
    expect(source.bitrateKbps).toBeLessThan(1000);
    await c.viewer.close();
    viewers.splice(0);
    manager.bye("capped", "s1");
    await waitFor(() => source.resizes.length > 1, 10_000, 50);
    expect(source.resizes).toEqual([
      { width: 480, height: 272 },
      { width: 640, height: 360 },
    ]);
  });

  it("stays where it was configured with adaptation off", async () => {
    setUp(false);
    const c = await connectViewer(manager, "capped", "s1");
    viewers.push(c);
    await new Promise((r) => setTimeout(r, 3000));
    expect(source.bitrateKbps).toBe(0);
    expect(manager.stats.encoderTargetKbps).toBe(0);
  });
});
