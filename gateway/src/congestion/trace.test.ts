import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { replayTrace, type FeedbackTrace } from "./trace.js";
import { parseTransportFeedback } from "./transport-feedback.js";

/**
 * A trace of a real call (fixtures/chromium-loopback.trace.json: its
 * `source` says how it was recorded; web-viewer/bench/record-feedback-
 * trace.ts records it again): Chromium's own transport-cc feedback for a
 * ~2 Mbit/s stream on an unconstrained loopback path.
 */
const trace = JSON.parse(
  readFileSync(new URL("./fixtures/chromium-loopback.trace.json", import.meta.url), "utf8"),
) as FeedbackTrace;

describe("the estimator on Chromium's feedback (recorded trace)", () => {
  it("parses every feedback message Chromium wrote", () => {
    const messages = trace.events.flatMap((e) => (e.type === "feedback" ? [e.bytes] : []));
    expect(messages.length).toBeGreaterThan(50);
    for (const hex of messages)
      expect(parseTransportFeedback(Buffer.from(hex, "hex")).packets.length).toBeGreaterThan(0);
  });

  it("does not back off on a path without congestion, and measures the stream's rate", () => {
    const estimates = replayTrace(trace, { startBps: 1_000_000 });
    expect(estimates.length).toBeGreaterThan(10);
    // No backoff: the target never goes down (a loaded machine's scheduling
    // jitter may read as a brief overuse, never long enough to act on).
    const drops = estimates.filter(
      (e, i) => i > 0 && e.targetBps < (estimates[i - 1]?.targetBps ?? 0),
    );
    expect(drops).toEqual([]);
    expect(estimates.filter((e) => e.usage === "overusing").length).toBeLessThan(
      estimates.length / 20,
    );
    const last = estimates.at(-1);
    expect(last?.source).toBe("transport-cc");
    expect(last?.lossRatio).toBe(0);
    // The recorded stream ran at about 2 Mbit/s (plus probe padding at the start).
    expect(last?.ackedBps).toBeGreaterThan(1_400_000);
    expect(last?.ackedBps).toBeLessThan(3_000_000);
  });
});

/**
 * The onset of a cap in the network lab (fixtures/lab-cap-300-onset.trace.json,
 * its `source` says how it was recorded): camgw at 2.5 Mbit/s, then the
 * viewer's downlink capped at 300 kbit/s with a 400 ms queue. The trendline
 * saw overuse and the loss came ~0.55 s after the queue started to grow
 * (once its content had crossed), and cut to the smoothed acknowledged
 * rate of the past.
 */
const onset = JSON.parse(
  readFileSync(new URL("./fixtures/lab-cap-300-onset.trace.json", import.meta.url), "utf8"),
) as FeedbackTrace;

describe("the estimator on the onset of a 300 kbit/s cap (recorded in the network lab)", () => {
  it("cuts to the capped link's rate and drains within 0.25 s of the queue's first growth, before any loss", () => {
    const estimates = replayTrace(onset, { startBps: 2_500_000 });
    const before = estimates.filter((e) => e.atMs < 2000).at(-1);
    expect(before?.targetBps).toBeGreaterThan(2_000_000);
    const growing = estimates.find((e) => (e.queueDelayMs ?? 0) > 30);
    const cut = estimates.find((e) => e.draining);
    expect(growing).toBeDefined();
    expect(cut).toBeDefined();
    expect((cut?.atMs ?? Infinity) - (growing?.atMs ?? 0)).toBeLessThanOrEqual(250);
    expect(cut?.lossRatio).toBe(0);
    // 0.85 x what the busy link delivered: the cap's 300 kbit/s.
    expect(cut?.delayBasedBps).toBeGreaterThan(230_000);
    expect(cut?.delayBasedBps).toBeLessThan(280_000);
    expect(cut?.targetBps).toBeLessThan(150_000);
    // The drain ends once the queue has emptied, and the overflow's loss
    // does not hold the estimate under the link afterwards.
    const drained = estimates.find((e) => e.atMs > (cut?.atMs ?? 0) && !e.draining);
    expect((drained?.atMs ?? Infinity) - (cut?.atMs ?? 0)).toBeLessThanOrEqual(1000);
    const after = estimates.filter((e) => e.atMs > (drained?.atMs ?? Infinity));
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((e) => e.lossBasedBps >= e.delayBasedBps)).toBe(true);
    expect(Math.min(...after.map((e) => e.targetBps))).toBeGreaterThan(200_000);
  });
});
