import { describe, expect, it } from "vitest";
import { isFreeze } from "./frame-monitor.js";

describe("isFreeze", () => {
  it("counts a gap over mean + 150 ms at 30 fps", () => {
    expect(isFreeze(190, 33.3)).toBe(true);
    expect(isFreeze(150, 33.3)).toBe(false);
  });

  it("counts a gap over 3x the mean at low frame rates", () => {
    expect(isFreeze(1600, 500)).toBe(true);
    expect(isFreeze(1400, 500)).toBe(false);
  });

  it("does not count before any interval is known", () => {
    expect(isFreeze(10_000, 0)).toBe(false);
  });
});
