import { describe, expect, it } from "vitest";
import type { FrameSize } from "../../media/supervised-source.js";
import { policyOnClock, type PolicyUnderTest } from "../testing/degradation-clock.js";
import { DegradationPolicy } from "./degradation-policy.js";
import { resolutionLadder } from "./resolution-policy.js";

const HD = { width: 1280, height: 720 };

/**
 * A maintain-framerate policy for 1280x720 at 2000 kbit/s on a clock the
 * test moves; `asked` lists the steps it asked for.
 */
function policyAt(base: FrameSize = HD): PolicyUnderTest {
  return policyOnClock({
    mode: "maintain-framerate",
    base: { ...base, fps: 30 },
    maxKbps: 2000,
    can: { resize: true, frameRate: true },
  });
}

describe("the resolution ladder", () => {
  it("steps 1280x720 down to 960x544, 640x368 and 480x272, in macroblocks, and stops above 320x180", () => {
    expect(resolutionLadder(HD)).toEqual([
      HD,
      { width: 960, height: 544 },
      { width: 640, height: 368 },
      { width: 480, height: 272 },
    ]);
    expect(resolutionLadder({ width: 640, height: 480 })).toEqual([
      { width: 640, height: 480 },
      { width: 480, height: 368 },
      { width: 320, height: 240 },
    ]);
    expect(resolutionLadder({ width: 320, height: 240 })).toEqual([{ width: 320, height: 240 }]);
  });
});

describe("the resolution steps (degradation maintain-framerate)", () => {
  it("keeps the size while the bitrate fits, and through a dip shorter than its hold", () => {
    const { asked, feed } = policyAt();
    feed(1800, 10_000);
    feed(600, 3000);
    feed(1800, 10_000);
    expect(asked).toEqual([]);
  });

  it("steps down to the largest size the bitrate feeds once it has stayed low", () => {
    const { policy, asked, feed } = policyAt();
    // 400 kbit/s: half of 640x368's share (2000 * 0.18 = 368) is 184: it feeds 640x368, not 960x544.
    feed(400, 5000);
    expect(asked).toEqual(["640x368@30"]);
    expect(policy.current).toEqual({ width: 640, height: 368, fps: 30 });
  });

  it("steps back up one size at a time once the bitrate has stayed high, not sooner", () => {
    const { asked, feed } = policyAt();
    feed(400, 5000);
    feed(2000, 5000);
    expect(asked).toEqual(["640x368@30"]);
    feed(2000, 6000);
    expect(asked).toEqual(["640x368@30", "960x544@30"]);
    feed(2000, 11_000);
    expect(asked).toEqual(["640x368@30", "960x544@30", "1280x720@30"]);
  });

  it("does not climb to a size the bitrate would starve (hysteresis between the thresholds)", () => {
    const { asked, feed } = policyAt();
    feed(400, 5000);
    // 960x544 needs 0.9 * 1133 = 1020 kbit/s to be tried again; 900 stays put.
    feed(900, 30_000);
    expect(asked).toEqual(["640x368@30"]);
  });

  it("goes back to the full size when nobody watches, and takes a size set by someone else as the new full size", () => {
    const { policy, asked, feed } = policyAt();
    feed(400, 5000);
    policy.reset();
    expect(asked).toEqual(["640x368@30", "1280x720@30"]);
    policy.rebase({ width: 640, height: 480 });
    feed(2000, 20_000);
    expect(asked).toEqual(["640x368@30", "1280x720@30"]);
    // 640x480@30 needs what ENOUGH_BPPF gives it, 922 kbit/s, not the
    // configured 2000: 400 is under half of that, over half of 480x368's 530.
    feed(400, 5000);
    expect(asked).toEqual(["640x368@30", "1280x720@30", "480x368@30"]);
  });

  it("refuses a size or bitrate that is not above zero", () => {
    const can = { resize: true, frameRate: true };
    const mode = "maintain-framerate";
    const make = (width: number, maxKbps: number): DegradationPolicy =>
      new DegradationPolicy(
        { mode, base: { width, height: 720, fps: 30 }, maxKbps, can },
        () => undefined,
      );
    expect(() => make(0, 2000)).toThrow(RangeError);
    expect(() => make(1280, 0)).toThrow(RangeError);
  });
});
