import { describe, expect, it } from "vitest";
import { FeedbackRecorder } from "./feedback-recorder.js";
import { parseTransportFeedback, serializeTransportFeedback } from "./transport-feedback.js";

/**
 * Vectors: the transport-cc feedback examples of webrtc-rs's rtcp crate
 * (crates/rtcp/src/transport_layer_cc/transport_layer_cc_test.rs, MIT/
 * Apache-2.0), themselves taken from pion/rtcp's tests; each decoded by
 * hand against draft-holmer-rmcat-transport-wide-cc-extensions-01 section
 * 3.1. Their P bit is set with sloppy padding counts, which the parser
 * must not trip over.
 */
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ""), "hex");

describe("parseTransportFeedback", () => {
  it("reads one received packet with a small delta (pion example 1)", () => {
    const fb = parseTransportFeedback(
      hex("afcd0005 fa17fa17 43032fa0 0099 0001 3de802 17 2001 94 01"),
    );
    expect(fb.senderSsrc).toBe(4195875351);
    expect(fb.mediaSsrc).toBe(1124282272);
    expect(fb.baseSequence).toBe(153);
    expect(fb.referenceTime).toBe(4057090);
    expect(fb.feedbackCount).toBe(23);
    expect(fb.packets).toEqual([{ sequence: 153, arrivalUs: 4057090 * 64_000 + 37_000 }]);
  });

  it("reads run length chunks of large and small deltas (pion example 3)", () => {
    const fb = parseTransportFeedback(
      hex("afcd0007 fa17fa17 193dd8bb 0174 0006 45b15a 40 4002 2004 1ffe 1f9a d0 00 d0 00"),
    );
    const base = 4567386 * 64_000;
    const deltas = [2_047_500, 2_022_500, 52_000, 0, 52_000, 0];
    let t = base;
    expect(fb.packets).toEqual(
      deltas.map((d, i) => {
        t += d;
        return { sequence: 372 + i, arrivalUs: t };
      }),
    );
  });

  it("reads a one-bit status vector with losses (pion example 5)", () => {
    const fb = parseTransportFeedback(
      hex("afcd0006 fa17fa17 193dd8bb 0001 000e 10636d 00 ba00 10 0c 0c 10 0003"),
    );
    // 0xba00: T=1 S=0, symbols 1 1 1 0 1 0 0 0 0 0 0 0 0 0
    const received = fb.packets.filter((p) => p.arrivalUs !== undefined).map((p) => p.sequence);
    expect(received).toEqual([1, 2, 3, 5]);
    expect(fb.packets).toHaveLength(14);
    const times = fb.packets.flatMap((p) =>
      p.arrivalUs === undefined ? [] : [p.arrivalUs - 1074029 * 64_000],
    );
    expect(times).toEqual([4000, 7000, 10_000, 14_000]);
  });

  it("refuses what is not transport-cc feedback, or ends early", () => {
    expect(() => parseTransportFeedback(hex("80c90001 00000001"))).toThrow(RangeError);
    const pli = hex("81ce0002 00000001 00000002 00000000 00000000");
    expect(() => parseTransportFeedback(pli)).toThrow(/not a transport-cc/);
    // Says 7 packets with small deltas, carries only two delta bytes.
    expect(() =>
      parseTransportFeedback(hex("8fcd0005 00000001 00000002 0004 0007 000001 00 2007 4c24")),
    ).toThrow(/ends inside its deltas/);
    expect(() => parseTransportFeedback(hex("8fcd0009 00000001"))).toThrow(RangeError);
  });
});

describe("serializeTransportFeedback", () => {
  it("writes what the parser reads back, every chunk kind included", () => {
    const deltas: (number | undefined)[] = [
      4,
      300,
      undefined,
      0,
      -20,
      ...Array<number>(20).fill(1),
      undefined,
      undefined,
      7,
      ...Array<undefined>(9),
      12,
    ];
    const bytes = serializeTransportFeedback({
      senderSsrc: 1,
      mediaSsrc: 2,
      referenceTime: 0xfffffe,
      feedbackCount: 255,
      entries: deltas.map((deltaTicks, i) => ({ sequence: (65530 + i) & 0xffff, deltaTicks })),
    });
    expect(bytes.length % 4).toBe(0);
    const fb = parseTransportFeedback(bytes);
    expect(fb.feedbackCount).toBe(255);
    let t = 0xfffffe * 64_000;
    fb.packets.forEach((p, i) => {
      const d = deltas[i];
      expect(p.sequence).toBe((65530 + i) & 0xffff);
      if (d === undefined) {
        expect(p.arrivalUs).toBeUndefined();
      } else {
        t += d * 250;
        expect(p.arrivalUs).toBe(t);
      }
    });
  });
});

describe("FeedbackRecorder", () => {
  it("reports every sequence number once, gaps as lost, across a wrap", () => {
    const recorder = new FeedbackRecorder(7);
    const arrivals = new Map<number, number>();
    let t = 1_000_000;
    for (let i = 0; i < 40; i++) {
      const seq = (65520 + i) & 0xffff;
      t += 1234;
      if (i === 5 || i === 6 || i === 30) continue; // lost
      arrivals.set(seq, t);
      recorder.received(seq, t);
    }
    const reports = recorder.takeFeedback().flatMap((b) => parseTransportFeedback(b).packets);
    expect(reports.map((p) => p.sequence)).toEqual(
      [...Array(40).keys()].map((i) => (65520 + i) & 0xffff),
    );
    for (const p of reports) {
      const real = arrivals.get(p.sequence);
      if (real === undefined) expect(p.arrivalUs).toBeUndefined();
      // Quantized to 250 us without drift: every arrival within half a tick.
      else expect(Math.abs((p.arrivalUs ?? 0) - real)).toBeLessThanOrEqual(125);
    }
    expect(recorder.takeFeedback()).toEqual([]);
    // A packet of an already reported gap, arriving late, is not reported again.
    recorder.received((65520 + 5) & 0xffff, t + 10);
    expect(recorder.takeFeedback()).toEqual([]);
  });

  it("splits a message where a delta would not fit 16 bits", () => {
    const recorder = new FeedbackRecorder(7);
    recorder.received(1, 1_000_000);
    recorder.received(2, 1_000_000 + 9_000_000); // 9 s later: beyond +-8.19 s
    const messages = recorder.takeFeedback().map(parseTransportFeedback);
    expect(messages.map((m) => m.packets.map((p) => p.sequence))).toEqual([[1], [2]]);
    expect(messages.map((m) => m.feedbackCount)).toEqual([0, 1]);
  });
});
