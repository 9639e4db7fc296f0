import { describe, expect, it } from "vitest";
import { QueueGrowth } from "./queue-growth.js";

/**
 * Arrivals written by hand as a bottleneck would deliver them: packets of
 * 1270 bytes (1200 of payload and the lab's overhead), send time -> arrival
 * time through a FIFO link, 20 ms away; the queueing delay as the estimator
 * measures it (queue-delay.ts): one-way delay above the least seen.
 */
const PACKET = 1270;

class Link {
  private freeAtMs = 0;
  private baseMs = Infinity;

  constructor(private readonly growth: QueueGrowth) {}

  /** A packet sent at `sentMs` through the link at `linkBps`; returns its arrival, ms. */
  send(sentMs: number, linkBps: number): number {
    const startMs = Math.max(sentMs, this.freeAtMs);
    this.freeAtMs = startMs + (PACKET * 8000) / linkBps;
    const arrivalMs = this.freeAtMs + 20;
    this.baseMs = Math.min(this.baseMs, arrivalMs - sentMs);
    this.growth.add(arrivalMs, arrivalMs - sentMs - this.baseMs, PACKET);
    return arrivalMs;
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
  it("sees a link that fell to 300 kbit/s under a 2.6 Mbit/s stream, and its rate, within 200 ms of arrivals", () => {
    const growth = new QueueGrowth();
    const link = new Link(growth);
    // Free before: the link is faster than the stream.
    for (const t of paced(0, 1000, 2_600_000)) link.send(t, 20_000_000);
    expect(growth.saturated).toBeUndefined();
    // The cap, at 1000 ms.
    let seenAtMs: number | undefined;
    for (const t of paced(1000, 200, 2_600_000)) {
      const arrivalMs = link.send(t, 300_000);
      if (seenAtMs === undefined && growth.saturated) seenAtMs = arrivalMs;
    }
    expect(seenAtMs).toBeDefined();
    expect((seenAtMs ?? Infinity) - 1020).toBeLessThanOrEqual(200);
    const reading = growth.saturated;
    // Only the packets that came back to back count: the rate is the link's,
    // not a blend with the faster arrivals before the cap.
    expect(reading?.deliveredBps).toBeGreaterThan(290_000);
    expect(reading?.deliveredBps).toBeLessThan(310_000);
    expect(reading?.queueMs).toBeGreaterThanOrEqual(60);
  });

  it("does not take a link at 0.6 of the stream for one far below it", () => {
    const growth = new QueueGrowth();
    const link = new Link(growth);
    let saturated = false;
    for (const t of paced(0, 200, 1_000_000)) link.send(t, 20_000_000);
    for (const t of paced(200, 1000, 1_000_000)) {
      link.send(t, 600_000);
      saturated ||= growth.saturated !== undefined;
    }
    // The queue grows (0.4 ms per ms) but that is the trendline's to judge.
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

  it("does not take a stall and a burst for a saturated link", () => {
    // A probe's receiver at a call's start: nothing for 140 ms, then a probe
    // cluster sent at once arrives at once, each packet 140 ms late.
    const growth = new QueueGrowth();
    for (const t of paced(0, 300, 1_000_000)) growth.add(t + 20, 0, PACKET);
    for (let i = 0; i < 8; i++) growth.add(440 + 20, 140, PACKET);
    expect(growth.saturated).toBeUndefined();
  });

  it("forgets its window on reset (a drain ended)", () => {
    const growth = new QueueGrowth();
    const link = new Link(growth);
    for (const t of paced(0, 100, 2_600_000)) link.send(t, 20_000_000);
    for (const t of paced(100, 300, 2_600_000)) link.send(t, 300_000);
    expect(growth.saturated).toBeDefined();
    growth.reset();
    expect(growth.saturated).toBeUndefined();
  });
});
