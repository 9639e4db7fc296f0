/**
 * Issue 16, "How it is checked", in the network lab: the board streams the
 * realistic scene (x264 on the pi5 profile, 2.5 Mbit/s at most) to a
 * `camgw probe` viewer whose link is capped to 300 kbit/s (a 400 ms
 * tbf-like queue) for 15 s in the middle of the call. The sender must come
 * under the cap, keep the call and its video, and climb back once the cap
 * lifts. Judged on medians of whole windows, never on how fast (speed and
 * the other scenarios are in `make bench`, congestion-lab part).
 */
import { describe, expect, it } from "vitest";
import { percentile } from "../probe/stats.js";
import { scenarioFigures } from "./figures.js";
import { formatFigures, formatSentSeries } from "./format.js";
import { runScenario } from "./run-scenario.js";
import { capMidCall, LAB_STREAM } from "./scenarios.js";
import { labPerFile } from "./testing/lab-per-file.js";

const lab = labPerFile(1);

describe("a viewer whose link drops to 300 kbit/s for 15 s mid-call", () => {
  it("gets a stream under the cap while it lasts, keeps its video, and the rate climbs back after", async () => {
    const scenario = capMidCall(true, 8, 15);
    const run = await runScenario(lab(), scenario, LAB_STREAM);
    const figures = scenarioFigures(run);
    console.log(`${formatFigures([figures])}\n${formatSentSeries(figures)}`);
    console.log(
      run.finalMetrics
        .split("\n")
        .filter((l) => /^camgw_(video_|key_frame|packets_retrans|nacks|pli)/.test(l))
        .join("\n"),
    );
    const report = run.reports[0];
    const what = JSON.stringify({ figures, report: { ...report, timeline: undefined } });
    expect(report?.video, what).toBe(true);
    expect(report?.ended, what).toBeNull();
    expect(report?.recoveries, what).toEqual([]);
    // Under the cap once settled: the median of the capped window's later half.
    expect(figures.windowKbps, what).not.toBeNull();
    expect(figures.windowKbps ?? Infinity, what).toBeLessThanOrEqual(300);
    // Video keeps flowing through the cap: frames were shown in the window's later half.
    const cap = scenario.window;
    const shownLate = (report?.timeline ?? []).filter((s) => {
      const atS = ((report?.offerAt ?? 0) + s.atMs - run.startedAt) / 1000;
      return atS >= (cap.fromS + cap.toS) / 2 && atS + 1 <= cap.toS;
    });
    expect(
      shownLate.reduce((n, s) => n + s.frames, 0),
      what,
    ).toBeGreaterThan(0);
    // Back up after the cap: the last 5 s send well above it.
    const end = figures.sentKbps.filter((p) => p.atS >= scenario.seconds - 5).map((p) => p.value);
    expect(end.length, what).toBeGreaterThan(0);
    expect(percentile(end, 50), what).toBeGreaterThan(2 * 300);
  }, 120_000);
});
