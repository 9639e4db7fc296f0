import { describe, expect, it } from "vitest";
import { LossBasedControl } from "./loss-based.js";

const MBIT = 1_000_000;

/**
 * Feeds transport-cc reports of 20 packets every 80 ms (~2.5 Mbit/s),
 * losing `lost[i]` of the i-th; returns when the last came and the highest
 * estimate on the way.
 */
function feed(control: LossBasedControl, lost: readonly number[], fromMs = 0) {
  let at = fromMs;
  let highest = 0;
  for (const n of lost) {
    at += 80;
    control.addPackets(n, 20, at);
    highest = Math.max(highest, control.update(at, 40, 20 * MBIT));
  }
  return { at, highest };
}

describe("LossBasedControl", () => {
  it("holds its rate through 5 % random loss whose 20-packet windows reach 15 %", () => {
    const control = new LossBasedControl(2.5 * MBIT, 100_000, 20 * MBIT);
    // 12 losses in 240 packets (5 %), three of them in one report of 20.
    const second = [1, 0, 3, 0, 1, 1, 0, 2, 1, 0, 2, 1];
    feed(control, [...second, ...second, ...second]);
    expect(control.estimateBps).toBeGreaterThanOrEqual(2.5 * MBIT);
  });

  it("cuts its rate when a second of feedback loses over 10 %", () => {
    const control = new LossBasedControl(2.5 * MBIT, 100_000, 20 * MBIT);
    const { at } = feed(control, [0]); // the first report is judged at once: no loss
    // 20 % for two seconds: two cuts of 10 % (the rate climbs until the first).
    const { highest } = feed(control, new Array<number>(26).fill(4), at);
    expect(control.estimateBps).toBeLessThan(highest * 0.85);
    expect(control.lossRatio).toBeCloseTo(0.2);
  });
});
