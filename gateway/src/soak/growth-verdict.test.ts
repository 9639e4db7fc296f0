import { describe, expect, it } from "vitest";
import { judgeGrowth, median, type Point } from "./growth-verdict.js";

const MIN = 60_000;
const FDS = { name: "fds", unit: "", absolute: 8 };
const RSS = { name: "RSS", unit: " MB", absolute: 30, relative: 0.2 };

/** Twenty minutes of samples every 10 s; `sessions` and `value` as functions of the index. */
function series(
  value: (i: number, sessions: number) => number,
  sessions = (i: number) => 1 + (i % 4),
): Point[] {
  return Array.from({ length: 120 }, (_, i) => ({
    t: i * 10_000,
    value: value(i, sessions(i)),
    state: [sessions(i)],
  }));
}

describe("the growth verdict", () => {
  it("passes a figure that only follows the viewers present", () => {
    const v = judgeGrowth(
      series((_i, s) => 20 + 5 * s),
      FDS,
    );
    expect(v.failed).toBe(false);
    expect(Math.abs(v.growth)).toBeLessThan(0.01);
  });

  it("fails a leak of one fd a minute hidden under viewers coming and going", () => {
    const v = judgeGrowth(
      series((i, s) => 20 + 5 * s + Math.floor((i * 10_000) / MIN)),
      FDS,
    );
    expect(v.failed).toBe(true);
    expect(v.growth).toBeGreaterThan(18);
    expect(v.growth).toBeLessThan(21);
  });

  it("passes a leak below the limit", () => {
    const v = judgeGrowth(
      series((i, s) => 20 + 5 * s + (i > 60 ? 3 : 0)),
      FDS,
    );
    expect(v.failed).toBe(false);
  });

  it("needs both the absolute and the relative limit for memory", () => {
    // +40 MB on 400 MB is 10%: under the relative limit.
    expect(
      judgeGrowth(
        series(
          (i) => 400 + (40 * i) / 119,
          () => 2,
        ),
        RSS,
      ).failed,
    ).toBe(false);
    // +40 MB on 100 MB is both.
    expect(
      judgeGrowth(
        series(
          (i) => 100 + (40 * i) / 119,
          () => 2,
        ),
        RSS,
      ).failed,
    ).toBe(true);
    // +20 MB on 50 MB: relative only.
    expect(
      judgeGrowth(
        series(
          (i) => 50 + (20 * i) / 119,
          () => 2,
        ),
        RSS,
      ).failed,
    ).toBe(false);
  });

  it("sees through a garbage collector's sawtooth", () => {
    const sawtooth = (i: number): number => 100 + (i % 12) * 4;
    expect(
      judgeGrowth(
        series(sawtooth, () => 2),
        RSS,
      ).failed,
    ).toBe(false);
    expect(
      judgeGrowth(
        series(
          (i) => sawtooth(i) + i,
          () => 2,
        ),
        RSS,
      ).failed,
    ).toBe(true);
  });

  it("passes a step that a change of what runs explains (x264 taking over: more threads)", () => {
    const x264 = (i: number): number => (i >= 70 ? 1 : 0);
    const points = series(
      (i) => 15 + 3 * x264(i),
      () => 2,
    ).map((p, i) => ({
      ...p,
      state: [2, x264(i)],
    }));
    expect(judgeGrowth(points, { name: "threads", unit: "", absolute: 2 }).failed).toBe(false);
    // Without knowing it, the step looks like growth.
    const blind = points.map((p) => ({ ...p, state: [2] }));
    expect(judgeGrowth(blind, { name: "threads", unit: "", absolute: 2 }).failed).toBe(true);
  });

  it("gives the quarters' medians beside the trend", () => {
    const v = judgeGrowth(
      series(
        (i) => i,
        () => 1,
      ),
      FDS,
    );
    expect(v.firstQuarterMedian).toBe(14.5);
    expect(v.lastQuarterMedian).toBe(104.5);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });

  it("calls too few samples no growth rather than guess", () => {
    const v = judgeGrowth(
      [
        { t: 0, value: 1, state: [0] },
        { t: 10_000, value: 100, state: [0] },
      ],
      FDS,
    );
    expect(v.growth).toBe(0);
  });
});
