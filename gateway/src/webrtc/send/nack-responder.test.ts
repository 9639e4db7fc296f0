import { describe, expect, it } from "vitest";
import { PacketHistory } from "../../rtp/packet-history.js";
import { NackResponder } from "./nack-responder.js";

const MBIT = 1_000_000;
const RTT = 40;

/** A stream's history with packets 100..109 of 1000 bytes, all sent to the viewer at time 0. */
function responderWithHistory(): NackResponder {
  const history = new PacketHistory();
  const packets = [...Array(10).keys()].map((i) => Buffer.alloc(1000, i));
  history.add(100, packets, 0);
  const responder = new NackResponder(history);
  for (let i = 0; i < packets.length; i++) responder.sent(100 + i, 0);
  return responder;
}

describe("NackResponder", () => {
  it("resends a packet whose retransmission was lost when the viewer asks again a round trip later", () => {
    const responder = responderWithHistory();
    const first = responder.handle([103], 10, RTT, MBIT);
    expect(first.repairs.map((r) => r.sequence)).toEqual([103]);
    // The viewer repeats its NACK within the round trip: the repair is on its way.
    expect(responder.handle([103], 30, RTT, MBIT).repairs).toEqual([]);
    // A round trip later it still misses it: the repair was lost too.
    const again = responder.handle([103], 10 + RTT + 1, RTT, MBIT);
    expect(again.repairs.map((r) => r.sequence)).toEqual([103]);
    expect(again.repairs[0]?.packet.equals(Buffer.alloc(1000, 3))).toBe(true);
    expect(again.keyFrameNeeded).toBe(false);
  });

  it("asks for a key frame when the viewer still misses a packet repair has given up on", () => {
    const responder = responderWithHistory();
    for (const at of [10, 60, 110]) {
      expect(responder.handle([105], at, RTT, MBIT).repairs).toHaveLength(1);
    }
    // Three resends lost: the viewer cannot complete the frame without a key frame.
    const fourth = responder.handle([105], 160, RTT, MBIT);
    expect(fourth.repairs).toEqual([]);
    expect(fourth.keyFrameNeeded).toBe(true);
    // Too old to resend at all: the same.
    const late = responder.handle([106], 1500, RTT, MBIT);
    expect(late.keyFrameNeeded).toBe(true);
    expect(responder.stats.repairsSuppressed).toMatchObject({ "too-often": 1, "too-old": 1 });
    expect(responder.stats.keyFramesInsteadOfRepair).toBe(2);
  });

  it("sends a repair twice when asked, within the budget", () => {
    const responder = responderWithHistory();
    const twice = responder.handle([101, 102], 10, RTT, MBIT, true);
    expect(twice.repairs.map((r) => r.sequence)).toEqual([101, 102, 101, 102]);
    // 4 packets a second is all a 10 kbit/s estimate allows: copies only of what is left.
    const tight = responderWithHistory();
    const answer = tight.handle([101, 102, 103], 10, RTT, 10_000, true);
    expect(answer.repairs.map((r) => r.sequence)).toEqual([101, 102, 103, 101]);
    expect(answer.keyFrameNeeded).toBe(false);
  });

  it("asks for no key frame for a NACK that only repeats one inside the round trip, or for packets a key frame replaced", () => {
    const responder = responderWithHistory();
    responder.handle([101], 10, RTT, MBIT);
    expect(responder.handle([101], 20, RTT, MBIT).keyFrameNeeded).toBe(false);
    responder.keyFrameStarted();
    expect(responder.handle([102], 30, RTT, MBIT)).toEqual({ repairs: [], keyFrameNeeded: false });
  });
});
