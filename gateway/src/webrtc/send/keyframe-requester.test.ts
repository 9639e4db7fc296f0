import { describe, expect, it } from "vitest";
import { drainTimeMs, KeyFrameRequester, MAX_DRAIN_MS } from "./keyframe-requester.js";

/** A requester on a hand-moved clock, counting what reaches the encoder. */
function requester(options: { inFlightMs?: number; pendingTimeoutMs?: number } = {}) {
  let now = 1000;
  let sent = 0;
  const r = new KeyFrameRequester(() => sent++, { ...options, now: () => now });
  return {
    r,
    sent: () => sent,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("KeyFrameRequester", () => {
  it("passes a PLI to the encoder at once", () => {
    const { r, sent } = requester();
    r.request();
    expect(sent()).toBe(1);
  });

  it("merges requests that arrive while the requested IDR is still being made", () => {
    const { r, sent, advance } = requester();
    r.request();
    advance(10);
    r.request();
    r.request(true);
    expect(sent()).toBe(1);
    expect(r.received).toBe(3);
    expect(r.merged).toBe(2);
  });

  it("takes a PLI that crossed the IDR on its way as served by it", () => {
    const { r, sent, advance } = requester({ inFlightMs: 150 });
    r.request();
    advance(40);
    r.keyFrameSent();
    advance(100);
    r.request();
    expect(sent()).toBe(1);
  });

  it("answers a PLI after the IDR had time to arrive at once: that viewer lost it or a later frame", () => {
    const { r, sent, advance } = requester({ inFlightMs: 150 });
    r.request();
    advance(40);
    r.keyFrameSent();
    advance(160);
    r.request();
    expect(sent()).toBe(2);
    // A corrupt frame every few frames gets an IDR every time: nothing is deferred.
    for (let i = 0; i < 5; i++) {
      advance(40);
      r.keyFrameSent();
      advance(200);
      r.request();
    }
    expect(sent()).toBe(7);
  });

  it("asks again when the encoder ignored the request", () => {
    const { r, sent, advance } = requester({ pendingTimeoutMs: 500 });
    r.request();
    advance(499);
    r.request();
    expect(sent()).toBe(1);
    advance(1);
    r.request();
    expect(sent()).toBe(2);
  });

  it("gives a joining viewer its own IDR even right after one went out", () => {
    const { r, sent, advance } = requester();
    r.request();
    advance(30);
    r.keyFrameSent();
    advance(5);
    r.request(true);
    expect(sent()).toBe(2);
  });

  it("forgets a pending request when the source restarts, and stops when closed", () => {
    const { r, sent, advance } = requester();
    r.request();
    r.reset();
    advance(1);
    r.request();
    expect(sent()).toBe(2);
    r.close();
    advance(10_000);
    r.request();
    expect(sent()).toBe(2);
  });
});

describe("KeyFrameRequester with the viewer's round trip", () => {
  it("serves a PLI by the IDR only while that IDR can still be on its way to the asker", () => {
    const { r, sent, advance } = requester({ inFlightMs: 150 });
    r.request();
    r.keyFrameSent();
    advance(10);
    // 2 ms round trip (a LAN): the PLI 10 ms later came after the IDR arrived.
    r.request(false, 2);
    expect(sent()).toBe(2);
    r.keyFrameSent();
    advance(200);
    // 300 ms round trip: a PLI 200 ms after the IDR crossed it.
    r.request(false, 300);
    expect(sent()).toBe(2);
    advance(200);
    r.request(false, 300);
    expect(sent()).toBe(3);
  });
});

describe("KeyFrameRequester with a viewer behind a slow link", () => {
  it("takes the PLIs a viewer repeats while an IDR drains through its link as served by that IDR", () => {
    const { r, sent, advance } = requester({ inFlightMs: 150 });
    r.request(false, 40);
    r.keyFrameSent();
    // 30 KB at 300 kbit/s: 800 ms on the way, during which the viewer repeats its PLI every 200 ms.
    const drain = drainTimeMs(30_000, 300_000);
    expect(drain).toBe(800);
    for (let t = 200; t <= 800; t += 200) {
      advance(200);
      r.request(false, 40, drain);
    }
    expect(sent()).toBe(1);
    // Past the drain time and a round trip: that IDR did not help, a new one goes out.
    advance(100);
    r.request(false, 40, drain);
    expect(sent()).toBe(2);
  });

  it("bounds the wait a drain time adds, and ignores an unknown rate", () => {
    expect(drainTimeMs(30_000, undefined)).toBe(0);
    expect(drainTimeMs(30_000, 0)).toBe(0);
    const { r, sent, advance } = requester({ inFlightMs: 150 });
    r.request();
    r.keyFrameSent();
    advance(MAX_DRAIN_MS + 200);
    r.request(false, 40, drainTimeMs(1_000_000, 100_000));
    expect(sent()).toBe(2);
  });
});

describe("KeyFrameRequester when the encoder's rate is cut", () => {
  it("does not wait for an IDR made at more than twice the rate the encoder was cut to", () => {
    const { r, sent, advance } = requester({ inFlightMs: 150 });
    r.rateChanged(1400);
    r.request(false, 400);
    r.keyFrameSent();
    // 37 KB made at 1.4 Mbit/s, draining at a 250 kbit/s estimate: 1.2 s "on its way".
    const drain = drainTimeMs(37_000, 250_000);
    advance(100);
    r.request(false, 400, drain);
    expect(sent()).toBe(1);
    // The cap's onset: the encoder is cut to 215 kbit/s; that IDR met a full queue.
    r.rateChanged(215);
    advance(10);
    r.request(false, 400, drain);
    expect(sent()).toBe(2);
    // The IDR made at the new rate (a few frames later) is waited for as any other.
    advance(300);
    r.keyFrameSent();
    advance(100);
    r.request(false, 400, drainTimeMs(6_000, 250_000));
    expect(sent()).toBe(2);
  });

  it("takes an IDR that comes out right after a cut as made at the rate before it", () => {
    const { r, sent, advance } = requester({ inFlightMs: 150 });
    r.rateChanged(2500);
    advance(1000);
    r.request(false, 400);
    // The cut reaches the encoder while the requested IDR is in its pipeline.
    r.rateChanged(150);
    advance(6);
    r.keyFrameSent();
    advance(100);
    // Made for 2.5 Mbit/s, going into a link cut to 150 kbit/s: not waited for.
    r.request(false, 400, drainTimeMs(46_000, 150_000));
    expect(sent()).toBe(2);
    // Well after the cut, an IDR is taken as made at the rate in force.
    advance(1000);
    r.keyFrameSent();
    advance(100);
    r.request(false, 400, drainTimeMs(2_000, 150_000));
    expect(sent()).toBe(2);
  });

  it("still waits for an IDR after a moderate cut", () => {
    const { r, sent, advance } = requester({ inFlightMs: 150 });
    r.rateChanged(800);
    r.request(false, 100);
    r.keyFrameSent();
    r.rateChanged(500);
    advance(50);
    r.request(false, 100);
    expect(sent()).toBe(1);
  });
});
