import { describe, expect, it } from "vitest";
import {
  DegradationPolicy,
  degradationLadder,
  type DegradationAbilities,
  type DegradationMode,
} from "./degradation-policy.js";
import { frameRateLadder } from "./frame-rate-policy.js";
import { policyOnClock, type PolicyUnderTest } from "../testing/degradation-clock.js";

const BOTH: DegradationAbilities = { resize: true, frameRate: true };
const VGA = { width: 640, height: 480, fps: 30 };
const HD = { width: 1280, height: 720, fps: 30 };

/**
 * A policy for 1280x720@30 at 2000 kbit/s (0.07 bits per pixel per frame,
 * under ENOUGH_BPPF: the configured bitrate is the full need) on a clock
 * the test moves; `asked` lists what it asked for, "WxH@fps".
 */
function policyAt(
  mode: DegradationMode,
  can: DegradationAbilities = BOTH,
  base = HD,
  maxKbps = 2000,
): PolicyUnderTest {
  return policyOnClock({ mode, base, maxKbps, can });
}

describe("the frame-rate ladder", () => {
  it("steps a 30 fps camera through 20, 15, 10 and 5 fps, whole patterns of its frames, and never under 5", () => {
    expect(frameRateLadder(30)).toEqual([30, 20, 15, 10, 5]);
    expect(frameRateLadder(25)).toEqual([25, 16.667, 12.5, 8.333]);
    expect(frameRateLadder(15)).toEqual([15, 10, 7.5, 5]);
    expect(frameRateLadder(5)).toEqual([5]);
  });

  it("is the whole ladder for maintain-resolution, and half the frame rate then the sizes for balanced", () => {
    expect(degradationLadder("maintain-resolution", VGA, BOTH).map((q) => q.fps)).toEqual([
      30, 20, 15, 10, 5,
    ]);
    expect(
      degradationLadder("balanced", VGA, BOTH).map((q) => `${q.width}x${q.height}@${q.fps}`),
    ).toEqual(["640x480@30", "640x480@20", "640x480@15", "480x368@15", "320x240@15"]);
    // A source that cannot skip frames (the camera's own H.264): balanced is sizes only.
    expect(
      degradationLadder("balanced", VGA, { resize: true, frameRate: false }).map((q) => q.fps),
    ).toEqual([30, 30, 30]);
  });
});

describe("the frame-rate steps (degradation maintain-resolution)", () => {
  it("keeps the full frame rate while the bitrate fits, and through a dip shorter than its hold", () => {
    const { asked, feed } = policyAt("maintain-resolution");
    feed(1800, 10_000);
    feed(600, 1500);
    feed(1800, 10_000);
    expect(asked).toEqual([]);
  });

  it("steps down to the highest frame rate the bitrate feeds once it has stayed low, and keeps the size", () => {
    const { policy, asked, feed } = policyAt("maintain-resolution");
    // 400 kbit/s: half of 10 fps's share (2000 / 3 = 667) is 333, half of 15's 500.
    feed(400, 2500);
    expect(asked).toEqual(["1280x720@10"]);
    expect(policy.current).toEqual({ ...HD, fps: 10 });
    // At the 150 kbit/s floor: 5 fps, and no lower.
    feed(150, 2500);
    feed(50, 10_000);
    expect(asked).toEqual(["1280x720@10", "1280x720@5"]);
  });

  it("steps down as far as the bitrate stayed, not as far as its latest dip", () => {
    const { policy, feed } = policyAt("maintain-resolution");
    // 400 kbit/s with a dip to 150 (a draining estimate) every second: 10 fps, not 5.
    for (let s = 0; s < 3; s++) {
      feed(400, 900);
      feed(150, 100);
    }
    expect(policy.current.fps).toBe(10);
  });

  it("climbs one step at a time once the bitrate has stayed high, and not to a rate it would starve", () => {
    const { asked, feed } = policyAt("maintain-resolution");
    feed(400, 2500);
    // 15 fps needs 0.75 x 1000 = 750 kbit/s to be tried again: 700 stays put.
    feed(700, 30_000);
    expect(asked).toEqual(["1280x720@10"]);
    feed(2000, 4000);
    expect(asked).toEqual(["1280x720@10"]);
    feed(2000, 1500);
    expect(asked).toEqual(["1280x720@10", "1280x720@15"]);
    feed(2000, 10_000);
    expect(asked).toEqual(["1280x720@10", "1280x720@15", "1280x720@20", "1280x720@30"]);
  });

  it("says when its hold ends, so a target resting at its ceiling is decided on again", () => {
    const { policy, asked, feed, at } = policyAt("maintain-resolution");
    feed(400, 2500);
    expect(policy.dueAtMs).toBeUndefined();
    // One estimate at the ceiling, then none: the step up is due 5 s later.
    policy.update(2000);
    expect(policy.dueAtMs).toBe(at() + 5000);
    expect(asked).toEqual(["1280x720@10"]);
  });

  it("goes back to full when nobody watches, and to full at the new size when someone else resizes", () => {
    const { policy, asked, feed } = policyAt("maintain-resolution");
    feed(400, 2500);
    policy.reset();
    expect(asked).toEqual(["1280x720@10", "1280x720@30"]);
    feed(400, 2500);
    policy.rebase({ width: 640, height: 480 });
    expect(policy.current).toEqual(VGA);
    // The new size needs what ENOUGH_BPPF gives it, 922 kbit/s: 400 feeds 20 fps (half of 614).
    feed(400, 2500);
    expect(asked).toEqual(["1280x720@10", "1280x720@30", "1280x720@10", "640x480@20"]);
  });

  it("does not step down sooner for a bitrate configured far above what the picture needs", () => {
    // 640x480@30 at 2500 kbit/s is 0.27 bits per pixel per frame; its need
    // is ENOUGH_BPPF's 922 kbit/s. 300 kbit/s feeds 15 fps (half of 461),
    // not only the 5 fps that half of 2500's share would leave.
    const { asked, feed } = policyAt("maintain-resolution", BOTH, VGA, 2500);
    feed(300, 2500);
    expect(asked).toEqual(["640x480@15"]);
  });

  it("has nothing to step for a source that cannot skip frames, and stops stepping when one refuses", () => {
    expect(
      policyAt("maintain-resolution", { resize: true, frameRate: false }).policy.canDegrade,
    ).toBe(false);
    const { policy, asked, feed } = policyAt("maintain-resolution");
    feed(400, 2500);
    policy.withdraw("frameRate");
    feed(100, 10_000);
    expect(asked).toEqual(["1280x720@10"]);
    expect(policy.current).toEqual(HD);
  });
});

describe("balanced degradation", () => {
  it("lowers the frame rate first on its short hold, then the size on the resize hold", () => {
    const { asked, feed } = policyAt("balanced");
    // 250 kbit/s feeds 640x368@15 (share 0.13 of 2000: half of 256) but
    // not 960x544@15 (half of 567).
    feed(250, 2500);
    expect(asked).toEqual(["1280x720@15"]);
    feed(250, 3000);
    expect(asked).toEqual(["1280x720@15"]);
    feed(250, 1500);
    expect(asked).toEqual(["1280x720@15", "640x368@15"]);
    // Back up: each size on its 10 s hold, then the frame rate on its 5 s.
    feed(2000, 9000);
    expect(asked).toEqual(["1280x720@15", "640x368@15"]);
    feed(2000, 1500);
    expect(asked.slice(2)).toEqual(["960x544@15"]);
    feed(2000, 10_500);
    expect(asked.slice(2)).toEqual(["960x544@15", "1280x720@15"]);
    feed(2000, 5500);
    expect(asked.slice(4)).toEqual(["1280x720@20"]);
    feed(2000, 5500);
    expect(asked.slice(4)).toEqual(["1280x720@20", "1280x720@30"]);
  });

  it("refuses thresholds that would step down and straight back up", () => {
    expect(
      () =>
        new DegradationPolicy(
          { mode: "balanced", base: VGA, maxKbps: 2000, can: BOTH, downBelow: 0.6, upAbove: 0.5 },
          () => undefined,
        ),
    ).toThrow(RangeError);
  });
});
