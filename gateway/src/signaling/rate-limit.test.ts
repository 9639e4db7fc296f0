import { describe, expect, it } from "vitest";
import { KeyedRateLimiter } from "./rate-limit.js";

describe("KeyedRateLimiter", () => {
  it("allows a burst, then one token per refill interval", () => {
    let now = 0;
    const limiter = new KeyedRateLimiter({ burst: 3, perSecond: 2 }, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take("v"))).toEqual([true, true, true, false]);
    now = 499;
    expect(limiter.take("v")).toBe(false);
    now = 500;
    expect(limiter.take("v")).toBe(true);
    expect(limiter.take("v")).toBe(false);
  });

  it("keeps one bucket per key, so one viewer cannot spend another's tokens", () => {
    const limiter = new KeyedRateLimiter({ burst: 1, perSecond: 1 }, () => 0);
    expect(limiter.take("a")).toBe(true);
    expect(limiter.take("a")).toBe(false);
    expect(limiter.take("b")).toBe(true);
  });

  it("never holds more than the burst after a long idle time", () => {
    let now = 0;
    const limiter = new KeyedRateLimiter({ burst: 2, perSecond: 10 }, () => now);
    limiter.take("v");
    now = 3_600_000;
    expect([1, 2, 3].map(() => limiter.take("v"))).toEqual([true, true, false]);
  });

  it("forgets keys whose buckets have refilled, so random ids do not grow memory", () => {
    let now = 0;
    const limiter = new KeyedRateLimiter({ burst: 1, perSecond: 1 }, () => now);
    for (let i = 0; i < 300; i++) limiter.take(`viewer-${i}`);
    expect(limiter.size).toBeGreaterThan(250);
    now = 10_000;
    for (let i = 0; i < 256; i++) limiter.take("active");
    expect(limiter.size).toBeLessThan(10);
  });

  it("refuses a limit that could never allow anything", () => {
    expect(() => new KeyedRateLimiter({ burst: 0, perSecond: 1 })).toThrow(RangeError);
    expect(() => new KeyedRateLimiter({ burst: 1, perSecond: 0 })).toThrow(RangeError);
  });
});
