/**
 * The bench's camgw / libwebrtc comparison (format.ts): each scenario both
 * senders ran gets one line, adaptation time only where there was a cap,
 * and no ratio made up from a missing or zero figure.
 */
import { describe, expect, it } from "vitest";
import type { ScenarioFigures } from "./figures.js";
import { formatFigures, formatReferenceRatios } from "./format.js";

function figures(over: Partial<ScenarioFigures>): ScenarioFigures {
  return {
    sender: "camgw",
    name: "cap-300-mid",
    title: "",
    adapt: true,
    capKbps: 300,
    beforeKbps: 2000,
    windowKbps: 250,
    encoderTargetKbps: 240,
    lowestEstimateKbps: 280,
    underCapS: 2,
    fpsMedian: 30,
    fpsMin: 0,
    freezes: 1,
    freezeMs: 1000,
    glassToGlassDuring: { p50: 40, p95: 200 },
    glassToGlassAfter: null,
    climbBackS: 6,
    lowEncoding: true,
    viewersOnLowEncoding: null,
    viewers: [],
    sentKbps: [],
    gauges: [],
    ...over,
  };
}

describe("camgw against the libwebrtc reference", () => {
  it("divides camgw's adaptation and freeze time by libwebrtc's, scenario by scenario", () => {
    const text = formatReferenceRatios([
      figures({}),
      figures({ adapt: false, freezeMs: 15000 }),
      figures({ sender: "libwebrtc", underCapS: 4, freezeMs: 4000, climbBackS: 12 }),
      figures({ name: "loss-3%-rtx", capKbps: null, underCapS: null, freezeMs: 0 }),
      figures({
        name: "loss-3%-rtx",
        sender: "libwebrtc",
        capKbps: null,
        underCapS: null,
        freezeMs: 0,
      }),
    ]);
    const lines = text.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain("cap-300-mid: adaptation 2.0/4.0 s = 0.50");
    expect(lines[0]).toContain("freeze time 1000/4000 ms = 0.25");
    expect(lines[0]).toContain("back 6.0/12.0 s");
    // A loss profile has no cap to come under; two runs without a freeze are no ratio.
    expect(lines[1]).not.toContain("adaptation");
    expect(lines[1]).toContain("freeze time 0/0 ms = both 0");
  });

  it("prints nothing for a scenario the reference did not run", () => {
    expect(
      formatReferenceRatios([figures({}), figures({ name: "two-viewers", sender: "libwebrtc" })]),
    ).toBe("");
  });

  it("names the sender of each row, and libwebrtc's adaptation as its own", () => {
    const rows = formatFigures([figures({}), figures({ sender: "libwebrtc" })]).split("\n");
    expect(rows[1]).toMatch(/^cap-300-mid\s+camgw\s+on\s/);
    expect(rows[2]).toMatch(/^cap-300-mid\s+libwebrtc\s+own\s/);
  });
});
