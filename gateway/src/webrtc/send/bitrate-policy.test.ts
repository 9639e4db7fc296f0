import { describe, expect, it } from "vitest";
import type { BandwidthEstimate } from "../../congestion/bandwidth-estimator.js";
import { BitratePolicy } from "./bitrate-policy.js";

/** A viewer's estimate; the policy reads only its target. */
const estimate = (targetBps: number): Pick<BandwidthEstimate, "targetBps"> => ({ targetBps });

function policy(): { p: BitratePolicy; applied: number[]; clock: { now: number } } {
  const applied: number[] = [];
  const clock = { now: 0 };
  const p = new BitratePolicy(
    { minKbps: 150, maxKbps: 2000 },
    (kbps) => applied.push(kbps),
    () => clock.now,
  );
  return { p, applied, clock };
}

describe("the stream's bitrate policy", () => {
  it("follows the lowest viewer, with room for repair and probes, at once on the way down", () => {
    const { p, applied } = policy();
    expect(p.targetKbps).toBe(2000);
    p.update([estimate(5_000_000), estimate(400_000)]);
    expect(applied).toEqual([340]);
    expect(p.targetKbps).toBe(340);
  });

  it("stays within min and max", () => {
    const { p, applied, clock } = policy();
    p.update([estimate(50_000)]);
    expect(p.targetKbps).toBe(150);
    clock.now += 60_000;
    for (let i = 0; i < 20; i++) {
      clock.now += 1000;
      p.update([estimate(50_000_000)]);
    }
    expect(p.targetKbps).toBe(2000);
    expect(Math.min(...applied)).toBe(150);
    expect(Math.max(...applied)).toBe(2000);
  });

  it("goes back up only after a second, by at most half again per step", () => {
    const { p, applied, clock } = policy();
    p.update([estimate(400_000)]);
    clock.now += 200;
    p.update([estimate(4_000_000)]);
    expect(p.targetKbps).toBe(340);
    clock.now += 1000;
    p.update([estimate(4_000_000)]);
    expect(p.targetKbps).toBe(510);
    clock.now += 1000;
    p.update([estimate(4_000_000)]);
    expect(applied).toEqual([340, 510, 765]);
  });

  it("ignores changes within 5 % (no encoder call for noise)", () => {
    const { p, applied, clock } = policy();
    p.update([estimate(1_000_000)]);
    for (const bps of [990_000, 1_020_000, 1_000_000, 980_000]) {
      clock.now += 2000;
      p.update([estimate(bps)]);
    }
    expect(applied).toEqual([850]);
  });

  it("returns to the configured rate when the last viewer with an estimate leaves", () => {
    const { p, applied } = policy();
    p.update([estimate(300_000)]);
    p.update([]);
    expect(applied).toEqual([255, 2000]);
  });

  it("refuses bounds that cannot hold", () => {
    expect(() => new BitratePolicy({ minKbps: 3000, maxKbps: 2000 }, () => undefined)).toThrow(
      RangeError,
    );
    expect(() => new BitratePolicy({ minKbps: 0, maxKbps: 2000 }, () => undefined)).toThrow(
      RangeError,
    );
  });

  it("says when a raise it held back is due, so a steady estimate still lifts the encoder to it", () => {
    const { p, applied, clock } = policy();
    p.update([estimate(300_000)]);
    expect(p.raiseDueAtMs).toBeUndefined();
    // A probe lifts the estimate far up, and it then stays there: no new estimate comes.
    clock.now = 1500;
    p.update([estimate(20_000_000)]);
    expect(applied).toEqual([255, 383]);
    expect(p.raiseDueAtMs).toBe(2500);
    const steady = [estimate(20_000_000)];
    while (p.raiseDueAtMs !== undefined) {
      clock.now = p.raiseDueAtMs;
      p.update(steady);
    }
    // 383 -> 575 -> 863 -> 1295 -> 1943, a second apart; the rest is within the 5 % dead band.
    expect(applied).toEqual([255, 383, 575, 863, 1295, 1943]);
    expect(clock.now).toBe(5500);
  });
});
