/**
 * The libwebrtc reference of issue 16 ("the reference to beat") in the
 * network lab: an @roamhq/wrtc sender in the board's namespace sends the
 * virtual camera's realistic scene as VP8 to an @roamhq/wrtc viewer whose
 * link is capped to 300 kbit/s for 12 s mid-call. The call must connect,
 * show the camera's stamped pictures, and libwebrtc's own congestion control
 * must bring its rate under the cap: otherwise the bench's camgw/libwebrtc
 * ratios compare against a sender that never ran or never adapted. Judged
 * on medians of whole windows, never on how fast (the timings are in
 * `make bench`, congestion-lab part).
 */
import { describe, expect, it } from "vitest";
import { scenarioFigures } from "./figures.js";
import { formatFigures, formatSentSeries } from "./format.js";
import { runReferenceCall } from "./reference-call.js";
import { capMidCall, LAB_STREAM } from "./scenarios.js";
import { labPerFile } from "./testing/lab-per-file.js";

const lab = labPerFile(1);

describe("the libwebrtc reference sender in the network lab", () => {
  it("connects through the board's NAT, shows the camera's pictures, and comes under a 300 kbit/s cap", async () => {
    const scenario = capMidCall(true, 10, 5);
    const run = await runReferenceCall(lab(), scenario, LAB_STREAM);
    const figures = scenarioFigures(run);
    console.log(`${formatFigures([figures])}\n${formatSentSeries(figures)}`);
    const report = run.reports[0];
    const what = JSON.stringify({ figures, report: { ...report, timeline: undefined } });
    expect(report?.video, what).toBe(true);
    // The pictures are the virtual camera's: its frame stamp reads back after VP8.
    expect(report?.glassToGlassMs, what).not.toBeNull();
    // It sent more than the cap before it: coming under it is adaptation.
    expect(figures.beforeKbps ?? 0, what).toBeGreaterThan(300);
    expect(figures.windowKbps, what).not.toBeNull();
    expect(figures.windowKbps ?? Infinity, what).toBeLessThanOrEqual(300);
    // The estimate it reports follows the link down.
    expect(figures.lowestEstimateKbps ?? Infinity, what).toBeLessThan(figures.beforeKbps ?? 0);
  }, 120_000);
});
