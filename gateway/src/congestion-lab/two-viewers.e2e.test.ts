/**
 * Issue 16, "How it is checked": two viewers, one on a 600 kbit/s link and
 * one unconstrained: the fast one keeps full quality. In the network lab
 * the board streams the realistic scene (x264 on the pi5 profile, 640x480
 * up to 2.5 Mbit/s) to two `camgw probe` viewers, viewer1 behind a
 * 600 kbit/s cap (a 400 ms tbf-like queue) from the start. The weak viewer
 * must move to the second, lower encoding (320x240) and keep playing, and
 * the fast one must stay on the main encoding at the full size and well
 * above the weak link's rate. Judged on what each viewer decoded and on
 * medians of the window's later half, never on how fast (the figures with
 * and without the second encoding are in `make bench`, congestion-lab part).
 */
import { describe, expect, it } from "vitest";
import type { ProbeReport } from "../probe/probe.js";
import { scenarioFigures } from "./figures.js";
import { formatFigures, formatSentSeries } from "./format.js";
import { runScenario } from "./run-scenario.js";
import { LAB_STREAM, twoViewers } from "./scenarios.js";
import { labPerFile } from "./testing/lab-per-file.js";

/** The size of the pictures `report`'s viewer decoded `atS` into the schedule (run.startedAt). */
function sizeAt(startedAt: number, report: ProbeReport, atS: number): string | null {
  const atMs = startedAt + atS * 1000 - report.offerAt;
  const inForce = report.sizes.filter((x) => x.atMs <= atMs).pop();
  return inForce ? `${inForce.width}x${inForce.height}` : null;
}

const lab = labPerFile(2);

describe("two viewers, one behind a 600 kbit/s link", () => {
  it("gives the weak one a second, lower encoding and leaves the fast one at full size and rate", async () => {
    const scenario = twoViewers(30, true);
    const run = await runScenario(lab(), scenario, LAB_STREAM);
    const figures = scenarioFigures(run);
    console.log(`${formatFigures([figures])}\n${formatSentSeries(figures)}`);
    const [weak, fast] = run.reports;
    const [weakFigures, fastFigures] = figures.viewers;
    const what = JSON.stringify({
      figures: { ...figures, sentKbps: undefined, gauges: undefined },
      reports: run.reports.map((r) => ({ ...r, timeline: undefined })),
      sizes: run.reports.map((r) => r.sizes),
      log: run.log.split("\n").filter((l) => /second encoding|stream main/.test(l)),
    });
    for (const r of run.reports) {
      expect(r.video, what).toBe(true);
      expect(r.ended, what).toBeNull();
    }
    // The gateway made a second encoding at half the size, and one viewer watched it.
    expect(run.log, what).toMatch(/a second encoding at 320x240/);
    expect(figures.viewersOnLowEncoding, what).toBe(1);
    // Each viewer decoded the encoding it was given: one RTP stream that
    // changed size for the weak one (it plays 320x240 in the window's later
    // half), the full size throughout for the fast one.
    const full = `${LAB_STREAM.width}x${LAB_STREAM.height}`;
    const lateS = (scenario.window.fromS + 3 * scenario.window.toS) / 4;
    expect(weak && sizeAt(run.startedAt, weak, lateS), what).toBe("320x240");
    expect(
      fast?.sizes.map((x) => `${x.width}x${x.height}`),
      what,
    ).toEqual([full]);
    expect(fast?.decodeErrors ?? 1, what).toBe(0);
    // The fast one is not held to the weak link: well above 600 kbit/s once settled.
    expect(fastFigures?.receivedLateKbps ?? 0, what).toBeGreaterThan(2 * 600);
    // The weak one keeps playing: frames in the later half's median second.
    expect(weakFigures?.fpsMedian ?? 0, what).toBeGreaterThan(0);
  }, 150_000);
});
