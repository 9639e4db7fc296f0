import { describe, expect, it } from "vitest";
import { joinAnnexB, splitAnnexB } from "../../rtp/annexb.js";
import { H264Payloader } from "../../rtp/h264-payloader.js";
import { RtpPacketizer } from "../../rtp/packetizer.js";
import { FrameAssembler, type ReceivedFrame } from "./frame-assembler.js";

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);
const idr = joinAnnexB([
  b(0x67, 0x42, 0xc0, 0x1e),
  b(0x68, 0xce),
  Buffer.concat([b(0x65), Buffer.alloc(50, 1)]),
]);
const p = (n: number): Buffer => joinAnnexB([Buffer.concat([b(0x41), Buffer.alloc(30, n)])]);

interface Pkt {
  seq: number;
  ts: number;
  marker: boolean;
  payload: Buffer;
}

function packetize(units: Buffer[], initialSequence = 100): Pkt[] {
  const packetizer = new RtpPacketizer({
    payloader: new H264Payloader({ maxPayloadSize: 20 }),
    initialSequence,
    timestampOffset: 0,
  });
  return units.flatMap((data, i) =>
    packetizer
      .packetize({ data, captureTimeUs: i * 33_333, keyframe: data === idr })
      .packets.map((packet) => ({
        seq: packet.readUInt16BE(2),
        ts: packet.readUInt32BE(4),
        marker: ((packet[1] ?? 0) & 0x80) !== 0,
        payload: packet.subarray(12),
      })),
  );
}

function assembler(now: { t: number }) {
  const frames: ReceivedFrame[] = [];
  let keyFrameAsks = 0;
  const a = new FrameAssembler({
    onFrame: (f) => frames.push(f),
    onNeedKeyFrame: () => keyFrameAsks++,
    maxWaitMs: 100,
    now: () => now.t,
  });
  const push = (x: Pkt): void => a.push(x.seq, x.ts, x.marker, x.payload);
  return { a, frames, push, asks: () => keyFrameAsks };
}

const nals = (d: Buffer): string[] => splitAnnexB(d).map((n) => n.toString("hex"));

describe("FrameAssembler", () => {
  it("rebuilds access units in order, starting at a key frame, across the sequence wrap", () => {
    const units = [p(1), idr, p(2), p(3)];
    const packets = packetize(units, 65530);
    const now = { t: 0 };
    const { a, frames, push } = assembler(now);
    for (const x of packets) push(x);
    expect(frames.map((f) => nals(f.data))).toEqual([idr, p(2), p(3)].map(nals));
    expect(frames[0]?.keyframe).toBe(true);
    expect(a.stats.packetsLost).toBe(0);
  });

  it("waits for a reordered packet and ignores duplicates", () => {
    const packets = packetize([idr, p(2)]);
    const now = { t: 0 };
    const { a, frames, push } = assembler(now);
    const [first, second, ...rest] = packets;
    if (!first || !second) throw new Error("too few packets");
    push(first);
    for (const x of rest) push(x);
    expect(frames.length).toBe(0);
    push(second);
    push(second);
    expect(frames.map((f) => nals(f.data))).toEqual([idr, p(2)].map(nals));
    expect(a.stats.duplicates).toBe(1);
  });

  it("after a lost packet drops frames until the next key frame and asks for one", () => {
    const packets = packetize([idr, p(2), p(3), p(4), idr, p(5)]);
    const now = { t: 0 };
    const { a, frames, push, asks } = assembler(now);
    const lostSeq = packets.find((x) => x.ts === 3000)?.seq; // first packet of p(2)
    for (const x of packets) {
      if (x.seq === lostSeq) continue;
      now.t += 40;
      push(x);
    }
    expect(asks()).toBe(1);
    expect(frames.map((f) => nals(f.data))).toEqual([idr, idr, p(5)].map(nals));
    expect(a.stats.packetsLost).toBe(1);
  });

  it("plays a complete key frame that arrives while a gap is still waited for, as a browser does", () => {
    const packets = packetize([idr, p(2), idr, p(3)]);
    const now = { t: 0 };
    const { frames, push, asks } = assembler(now);
    const lostSeq = packets.find((x) => x.ts === 3000)?.seq;
    for (const x of packets) {
      if (x.seq === lostSeq) continue;
      now.t += 1; // all within maxWaitMs: the gap has not been given up
      push(x);
    }
    expect(asks()).toBe(0);
    expect(frames.map((f) => nals(f.data))).toEqual([idr, idr, p(3)].map(nals));
  });

  it("gives up a key frame with a hole for good and shows the next one", () => {
    // A slow link: an IDR loses a packet for good (its repair was over budget);
    // the next IDR must play, not the broken one be waited on again.
    const packets = packetize([idr, p(2), idr, p(3)]);
    const now = { t: 0 };
    const { frames, push, asks } = assembler(now);
    const firstIdr = packets.filter((x) => x.ts === 0);
    const lostSeq = firstIdr[1]?.seq;
    for (const x of packets) {
      if (x.seq === lostSeq) continue;
      now.t += 40;
      push(x);
    }
    now.t += 200;
    push({ ...(packets.at(-1) as Pkt), seq: ((packets.at(-1)?.seq ?? 0) + 1) & 0xffff });
    expect(asks()).toBeGreaterThanOrEqual(1);
    expect(frames.map((f) => nals(f.data)).slice(0, 2)).toEqual([idr, p(3)].map(nals));
  });
});
