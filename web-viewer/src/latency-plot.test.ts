import { describe, expect, it } from "vitest";
import { plotScaleMs } from "./latency-plot.js";

describe("latency plot scale", () => {
  it("rounds the largest sample up to a 50 ms step, at least 50 ms", () => {
    expect(plotScaleMs([])).toBe(50);
    expect(plotScaleMs([12, 40])).toBe(50);
    expect(plotScaleMs([12, 51])).toBe(100);
    expect(plotScaleMs([-5, 149.9])).toBe(150);
  });
});
