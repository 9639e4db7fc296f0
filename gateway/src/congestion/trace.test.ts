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
