import { describe, expect, it } from "vitest";
import { Pacer, type PacerClock } from "./pacer.js";

/** A hand-driven clock: timers run when advance() passes them, in order. */
class ManualClock implements PacerClock {
  t = 0;
  private timers: { at: number; cb: () => void; id: number }[] = [];
  private nextId = 0;
  now = (): number => this.t;
  setTimer = (cb: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, cb, id });
    return id;
  };
  clearTimer = (h: unknown): void => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.cb();
    }
    this.t = end;
  }
}

interface Sent {
  id: string;
  at: number;
  cluster: number | undefined;
}

function setUp(options: { maxQueueMs?: number } = {}) {
  const clock = new ManualClock();
  const sent: Sent[] = [];
  const dropped: string[] = [];
  const pacer = new Pacer<string>({
    clock,
    send: (id, cluster) => {
      sent.push({ id, at: clock.t, cluster });
      return 1200;
    },
    pad: (bytes, cluster) => {
      sent.push({ id: "pad", at: clock.t, cluster });
      return bytes + 40;
    },
    dropped: (items) => dropped.push(...items),
    ...options,
  });
  return { clock, sent, dropped, pacer };
}

describe("Pacer", () => {
  it("sends a P-frame of a steady stream at once", () => {
    const { pacer, sent } = setUp();
    pacer.setTarget(2_000_000);
    for (let i = 0; i < 6; i++) pacer.enqueue(`p${i}`, 1200, "media");
    expect(sent.map((s) => s.at)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it("spreads a key frame at 2.5 x the target after its burst budget", () => {
    const { pacer, sent, clock } = setUp();
    pacer.setTarget(1_000_000); // paced at 2.5 Mbit/s: 1200 B every 3.84 ms
    for (let i = 0; i < 60; i++) pacer.enqueue(`k${i}`, 1200, "media", i === 0);
    const atOnce = sent.length;
    // The burst budget: 40 ms at 2.5 Mbit/s = 12.5 kB, about 11 packets.
    expect(atOnce).toBeGreaterThanOrEqual(10);
    expect(atOnce).toBeLessThanOrEqual(12);
    clock.advance(1000);
    expect(sent).toHaveLength(60);
    const last = sent.at(-1)?.at ?? 0;
    const expectedMs = ((60 - atOnce) * 1200 * 8) / 2500; // ms at 2.5 Mbit/s
    expect(last).toBeGreaterThan(expectedMs * 0.9);
    expect(last).toBeLessThan(expectedMs * 1.1 + 5);
    expect(pacer.stats.queueDelayMaxMs).toBeCloseTo(last, 0);
  });

  it("sends everything at once when unpaced", () => {
    const clock = new ManualClock();
    let sent = 0;
    const pacer = new Pacer<number>({
      clock,
      factor: Infinity,
      send: () => (sent++, 1200),
      pad: () => 0,
    });
    pacer.setTarget(100_000);
    for (let i = 0; i < 100; i++) pacer.enqueue(i, 1200, "media", i === 0);
    expect(sent).toBe(100);
  });

  it("never keeps a packet longer than its queue bound, raising the rate instead", () => {
    const { pacer, sent, clock } = setUp({ maxQueueMs: 100 });
    pacer.setTarget(100_000); // 250 kbit/s paced: 300 packets would take 11 s
    for (let i = 0; i < 300; i++) pacer.enqueue(`m${i}`, 1200, "media");
    clock.advance(150);
    expect(sent).toHaveLength(300);
    expect(pacer.stats.queueDelayMaxMs).toBeLessThanOrEqual(101);
  });

  it("sends repairs before queued media", () => {
    const { pacer, sent, clock } = setUp();
    pacer.setTarget(100_000);
    for (let i = 0; i < 20; i++) pacer.enqueue(`m${i}`, 1200, "media");
    const before = sent.length;
    pacer.enqueue("rtx", 1200, "retransmission");
    clock.advance(1000);
    expect(sent[before]?.id).toBe("rtx");
  });

  it("drops queued media and repairs when a key frame starts", () => {
    const { pacer, sent, dropped, clock } = setUp();
    pacer.setTarget(100_000);
    for (let i = 0; i < 20; i++) pacer.enqueue(`m${i}`, 1200, "media");
    pacer.enqueue("rtx", 1200, "retransmission");
    const before = sent.map((s) => s.id);
    pacer.enqueue("key0", 1200, "media", true);
    pacer.enqueue("key1", 1200, "media");
    clock.advance(1000);
    const after = sent.map((s) => s.id).slice(before.length);
    expect(after).toEqual(["key0", "key1"]);
    const all = [...[...Array(20).keys()].map((i) => `m${i}`), "rtx"];
    expect([...dropped].sort()).toEqual(all.filter((id) => !before.includes(id)).sort());
    expect(dropped.length).toBeGreaterThan(10);
    expect(pacer.stats.packetsSuperseded).toBe(dropped.length);
  });

  it("sends a probe cluster at its rate, padding when nothing is queued", () => {
    const { pacer, sent, clock } = setUp();
    pacer.setTarget(500_000);
    pacer.sendProbe({ id: 7, bitrateBps: 2_000_000, minBytes: 3750, minPackets: 5 });
    clock.advance(100);
    const probe = sent.filter((s) => s.cluster === 7);
    expect(probe.every((s) => s.id === "pad")).toBe(true);
    // 255 + 40 bytes per padding packet: 13 of them make 3750 bytes.
    expect(probe.length).toBe(Math.ceil(3750 / 295));
    // At 2 Mbit/s 3750 bytes take 15 ms.
    const span = (probe.at(-1)?.at ?? 0) - (probe[0]?.at ?? 0);
    expect(span).toBeGreaterThan(12);
    expect(span).toBeLessThan(18);
    expect(pacer.stats.probesSent).toBe(1);
  });

  it("hands back what is still queued when closed", () => {
    const { pacer, dropped } = setUp();
    pacer.setTarget(100_000);
    for (let i = 0; i < 20; i++) pacer.enqueue(`m${i}`, 1200, "media");
    pacer.close();
    pacer.close();
    expect(dropped.length).toBeGreaterThan(0);
    pacer.enqueue("late", 1200, "media");
    expect(pacer.queuedPackets).toBe(0);
  });
});
