import { describe, expect, it } from "vitest";
import { QueueGrowth } from "./queue-growth.js";

/**
 * Arrivals written by hand as a bottleneck would deliver them: packets of
 * 1270 bytes (1200 of payload and the lab's overhead), send time -> arrival
 * time through a FIFO link of a given rate, 20 ms away.
 */
const PACKET = 1270;

/** Feeds packets sent at `sendTimesMs` through a FIFO link of `linkBps` (from its start, idle) into `growth`. */
function throughLink(sendTimesMs: number[], linkBps: number, growth: QueueGrowth): void {
  let freeAtMs = 0;
  for (const sentMs of sendTimesMs) {
    const startMs = Math.max(sentMs, freeAtMs);
    freeAtMs = startMs + (PACKET * 8000) / linkBps;
    growth.add(freeAtMs + 20, startMs - sentMs, PACKET);
  }
}

/** Send times of packets at `bps` from `fromMs` for `forMs`. */
function paced(fromMs: number, forMs: number, bps: number): number[] {
  const gapMs = (PACKET * 8000) / bps;
  const times: number[] = [];
  for (let t = fromMs; t < fromMs + forMs; t += gapMs) times.push(t);
  return times;
}

describe("QueueGrowth", () => {
  it("sees a link that fell to 300 kbit/s under a 2.6 Mbit/s stream, and its rate, within 150 ms of arrivals", () => {
    const capped = new QueueGrowth();
    // Free before: the link is faster than the stream.
    throughLink(paced(0, 1000, 2_600_000), 20_000_000, capped);
    expect(capped.saturated).toBeUndefined();
    // The cap, at 1000 ms.
    let freeAtMs = 1000;
    let seen: number | undefined;
    for (const sentMs of paced(1000, 200, 2_600_000)) {
      const startMs = Math.max(sentMs, freeAtMs);
      freeAtMs = startMs + (PACKET * 8000) / 300_000;
      capped.add(freeAtMs + 20, startMs - sentMs, PACKET);
      if (seen === undefined && capped.saturated) seen = freeAtMs + 20;
    }
    expect(seen).toBeDefined();
    expect((seen ?? Infinity) - 1020).toBeLessThanOrEqual(150);
    const reading = capped.saturated;
    // Only the packets that came back to back count: the rate is the link's,
    // not a blend with the faster arrivals before the cap.
    expect(reading?.deliveredBps).toBeGreaterThan(270_000);
    expect(reading?.deliveredBps).toBeLessThan(330_000);
    expect(reading?.queueMs).toBeGreaterThanOrEqual(60);
  });

  it("does not take a link at 0.6 of the stream for one far below it", () => {
    const growth = new QueueGrowth();
    let saturated = false;
    let freeAtMs = 0;
    for (const sentMs of paced(0, 1000, 1_000_000)) {
      const startMs = Math.max(sentMs, freeAtMs);
      freeAtMs = startMs + (PACKET * 8000) / 600_000;
      growth.add(freeAtMs + 20, startMs - sentMs, PACKET);
      saturated ||= growth.saturated !== undefined;
    }
    // The queue grows (0.4 ms per ms) but the trendline's to judge.
    expect(saturated).toBe(false);
  });

  it("does not take a jitter spike for a saturated link: the held packets come out in a burst", () => {
    const growth = new QueueGrowth();
    let saturated = false;
    for (const sentMs of paced(0, 1000, 1_000_000)) {
      // A Wi-Fi stall from 400 to 600 ms: everything sent then arrives at 600.
      const arrivalMs = (sentMs >= 400 && sentMs < 600 ? 600 : sentMs) + 20;
      growth.add(arrivalMs, arrivalMs - 20 - sentMs, PACKET);
      saturated ||= growth.saturated !== undefined;
    }
    expect(saturated).toBe(false);
  });

  it("forgets its window on reset (a drain ended)", () => {
    const growth = new QueueGrowth();
    throughLink(paced(0, 300, 2_600_000), 300_000, growth);
    expect(growth.saturated).toBeDefined();
    growth.reset();
    expect(growth.saturated).toBeUndefined();
  });
});
