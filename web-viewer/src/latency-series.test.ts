import { describe, expect, it } from "vitest";
import { LatencySeries, percentile } from "./latency-series.js";

describe("percentile", () => {
  it("uses the nearest rank", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe("LatencySeries", () => {
  it("summarises last, p50 and p95 of what it holds", () => {
    const s = new LatencySeries(10);
    for (const v of [40, 10, 30, 20, 50]) s.push(v);
    expect(s.summary()).toEqual({ count: 5, last: 50, p50: 30, p95: 50, min: 10, max: 50 });
  });

  it("drops the oldest sample past its capacity but counts every sample", () => {
    const s = new LatencySeries(3);
    for (const v of [1000, 1, 2, 3]) s.push(v);
    expect(s.values()).toEqual([1, 2, 3]);
    expect(s.summary().max).toBe(3);
    expect(s.total).toBe(4);
  });

  it("ignores non-finite samples", () => {
    const s = new LatencySeries();
    s.push(Number.NaN);
    s.push(Number.POSITIVE_INFINITY);
    expect(s.summary().count).toBe(0);
    expect(s.summary().last).toBeNull();
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new LatencySeries(0)).toThrow(RangeError);
  });
});
