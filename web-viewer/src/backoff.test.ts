import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.js";

describe("Backoff", () => {
  it("doubles the ceiling per attempt, up to the maximum", () => {
    const top = new Backoff({ initialMs: 500, maxMs: 4_000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5].map(() => top.next())).toEqual([500, 1000, 2000, 4000, 4000]);
  });

  it("never waits less than half the ceiling", () => {
    const low = new Backoff({ initialMs: 500, maxMs: 4_000, random: () => 0 });
    expect([1, 2, 3, 4].map(() => low.next())).toEqual([250, 500, 1000, 2000]);
  });

  it("starts over after reset (a call played)", () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999999 });
    b.next();
    b.next();
    expect(b.attempt).toBe(2);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it("refuses nonsense limits", () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 100, maxMs: 10 })).toThrow(RangeError);
  });
});
