import { describe, expect, it } from "vitest";
import {
  DegradationPolicy,
  degradationLadder,
  type DegradationAbilities,
  type DegradationMode,
} from "./degradation-policy.js";
import { frameRateLadder } from "./frame-rate-policy.js";

const BOTH: DegradationAbilities = { resize: true, frameRate: true };
const VGA = { width: 640, height: 480, fps: 30 };

/**
 * A policy for 640x480@30 at 2000 kbit/s on a clock the test moves; `asked`
 * lists what it asked for, "WxH@fps".
 */
function policyAt(
  mode: DegradationMode,
  can: DegradationAbilities = BOTH,
): {
  policy: DegradationPolicy;
  asked: string[];
  feed: (kbps: number, forMs: number) => void;
  at: () => number;
} {
  let now = 0;
  const asked: string[] = [];
  const policy = new DegradationPolicy(
    { mode, base: VGA, maxKbps: 2000, can },
    (q) => asked.push(`${q.width}x${q.height}@${q.fps}`),
    () => now,
  );
  // One estimate every 100 ms, as transport-cc feedback comes.
  const feed = (kbps: number, forMs: number): void => {
    for (let t = 0; t < forMs; t += 100) {
      policy.update(kbps);
      now += 100;
    }
    policy.update(kbps);
  };
  return { policy, asked, feed, at: () => now };
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
    expect(asked).toEqual(["640x480@10"]);
    expect(policy.current).toEqual({ width: 640, height: 480, fps: 10 });
    // At the 150 kbit/s floor: 5 fps, and no lower.
    feed(150, 2500);
    feed(50, 10_000);
    expect(asked).toEqual(["640x480@10", "640x480@5"]);
  });

  it("climbs one step at a time once the bitrate has stayed high, and not to a rate it would starve", () => {
    const { asked, feed } = policyAt("maintain-resolution");
    feed(400, 2500);
    // 15 fps needs 0.9 x 1000 = 900 kbit/s to be tried again: 850 stays put.
    feed(850, 30_000);
    expect(asked).toEqual(["640x480@10"]);
    feed(2000, 4000);
    expect(asked).toEqual(["640x480@10"]);
    feed(2000, 1500);
    expect(asked).toEqual(["640x480@10", "640x480@15"]);
    feed(2000, 10_000);
    expect(asked).toEqual(["640x480@10", "640x480@15", "640x480@20", "640x480@30"]);
  });

  it("says when its hold ends, so a target resting at its ceiling is decided on again", () => {
    const { policy, asked, feed, at } = policyAt("maintain-resolution");
    feed(400, 2500);
    expect(policy.dueAtMs).toBeUndefined();
    // One estimate at the ceiling, then none: the step up is due 5 s later.
    policy.update(2000);
    expect(policy.dueAtMs).toBe(at() + 5000);
    expect(asked).toEqual(["640x480@10"]);
  });

  it("goes back to full when nobody watches, and to full at the new size when someone else resizes", () => {
    const { policy, asked, feed } = policyAt("maintain-resolution");
    feed(400, 2500);
    policy.reset();
    expect(asked).toEqual(["640x480@10", "640x480@30"]);
    feed(400, 2500);
    policy.rebase({ width: 320, height: 240 });
    expect(policy.current).toEqual({ width: 320, height: 240, fps: 30 });
    // The new size is meant for the configured bitrate: 400 kbit/s starves it alike.
    feed(400, 2500);
    expect(asked).toEqual(["640x480@10", "640x480@30", "640x480@10", "320x240@10"]);
  });

  it("has nothing to step for a source that cannot skip frames, and stops stepping when one refuses", () => {
    expect(
      policyAt("maintain-resolution", { resize: true, frameRate: false }).policy.canDegrade,
    ).toBe(false);
    const { policy, asked, feed } = policyAt("maintain-resolution");
    feed(400, 2500);
    policy.withdraw("frameRate");
    feed(100, 10_000);
    expect(asked).toEqual(["640x480@10"]);
    expect(policy.current).toEqual(VGA);
  });
});

describe("balanced degradation", () => {
  it("lowers the frame rate first on its short hold, then the size on the resize hold", () => {
    const { asked, feed } = policyAt("balanced");
    // 250 kbit/s feeds only 320x240@15 (share 1/8 of 2000: half of 250 is
    // 125; 480x368@15 needs half of 575).
    feed(250, 2500);
    expect(asked).toEqual(["640x480@15"]);
    feed(250, 3000);
    expect(asked).toEqual(["640x480@15"]);
    feed(250, 1500);
    expect(asked).toEqual(["640x480@15", "320x240@15"]);
    // Back up: each size on its 10 s hold, then the frame rate on its 5 s.
    feed(2000, 9000);
    expect(asked).toEqual(["640x480@15", "320x240@15"]);
    feed(2000, 1500);
    expect(asked.slice(2)).toEqual(["480x368@15"]);
    feed(2000, 10_500);
    expect(asked.slice(2)).toEqual(["480x368@15", "640x480@15"]);
    feed(2000, 5500);
    expect(asked.slice(4)).toEqual(["640x480@20"]);
    feed(2000, 5500);
    expect(asked.slice(4)).toEqual(["640x480@20", "640x480@30"]);
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
