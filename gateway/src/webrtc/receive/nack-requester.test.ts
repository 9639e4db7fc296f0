import { describe, expect, it } from "vitest";
import { NackRequester } from "./nack-requester.js";

describe("NackRequester", () => {
  it("asks for a gap at once, again once per interval, and gives up after the last retry", () => {
    const nacks = new NackRequester({ resendIntervalMs: 100, maxRetries: 3 });
    nacks.received(10, 0);
    expect(nacks.received(13, 5).nack).toEqual([11, 12]);
    expect(nacks.due(50)).toEqual([]);
    expect(nacks.due(105)).toEqual([11, 12]);
    nacks.received(11, 130); // the repair of 11 arrived
    expect(nacks.due(205)).toEqual([12]);
    expect(nacks.due(305)).toEqual([]);
    expect(nacks.gaveUp).toBe(1);
    expect(nacks.pending).toEqual([]);
  });

  it("asks again for a packet whose retransmission was lost too", () => {
    const nacks = new NackRequester({ resendIntervalMs: 40 });
    nacks.received(1, 0);
    expect(nacks.received(3, 0).nack).toEqual([2]);
    // The sender's repair of 2 never arrives; later packets do.
    for (let seq = 4, t = 10; seq < 20; seq++, t += 10) nacks.received(seq, t);
    expect(nacks.due(40)).toEqual([2]);
    expect(nacks.due(80)).toEqual([2]);
  });

  it("stops asking for packets before a frame that completed after them", () => {
    const nacks = new NackRequester();
    nacks.received(65534, 0);
    expect(nacks.received(2, 0).nack).toEqual([65535, 0, 1]);
    nacks.clearBefore(1);
    expect(nacks.pending).toEqual([1]);
  });

  it("asks for a key frame instead of a list longer than it keeps", () => {
    const nacks = new NackRequester({ maxNackPackets: 5 });
    nacks.received(0, 0);
    expect(nacks.received(3, 0)).toEqual({ nack: [1, 2], keyFrame: false });
    expect(nacks.received(10, 0)).toEqual({ nack: [], keyFrame: true });
    expect(nacks.pending).toEqual([]);
  });

  it("takes a late or repaired packet off the list without asking for anything", () => {
    const nacks = new NackRequester();
    nacks.received(100, 0);
    nacks.received(102, 0);
    expect(nacks.received(101, 20)).toEqual({ nack: [], keyFrame: false });
    expect(nacks.pending).toEqual([]);
  });
});
