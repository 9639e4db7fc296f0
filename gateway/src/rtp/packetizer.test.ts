import { describe, expect, it } from "vitest";
import { joinAnnexB } from "./annexb.js";
import { H264Payloader } from "./h264-payloader.js";
import { RtpPacketizer } from "./packetizer.js";

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

function packetizer(maxPayloadSize = 1200, initialSequence = 65534): RtpPacketizer {
  return new RtpPacketizer({
    payloader: new H264Payloader({ maxPayloadSize }),
    payloadType: 102,
    ssrc: 0x11223344,
    initialSequence,
    timestampOffset: 1000,
  });
}

describe("RtpPacketizer", () => {
  it("writes RFC 3550 headers with the marker on the last packet of the access unit", () => {
    const p = packetizer(10);
    const au = joinAnnexB([
      b(0x67, 1, 2),
      b(0x68, 3),
      Buffer.concat([b(0x65), Buffer.alloc(20, 9)]),
    ]);
    const frame = p.packetize({ data: au, captureTimeUs: 1_000_000, keyframe: true });
    expect(frame.packets.length).toBe(4); // STAP-A + 3 FU-A (20 bytes / 8 per fragment)
    frame.packets.forEach((packet, i) => {
      expect(packet[0]).toBe(0x80);
      expect((packet[1] ?? 0) & 0x7f).toBe(102);
      expect(((packet[1] ?? 0) & 0x80) !== 0).toBe(i === frame.packets.length - 1);
      expect(packet.readUInt16BE(2)).toBe((65534 + i) & 0xffff); // wraps 65535 -> 0
      expect(packet.readUInt32BE(4)).toBe(90_000 + 1000);
      expect(packet.readUInt32BE(8)).toBe(0x11223344);
    });
    expect(frame.firstSequence).toBe(65534);
    expect(frame.timestamp).toBe(91_000);
    expect(p.nextSequence).toBe(2);
  });

  it("derives the 90 kHz timestamp from the capture time and wraps it at 2^32", () => {
    const p = packetizer();
    const t0 = 1_763_700_000_000_000; // an epoch time in microseconds
    const a = p.timestampOf(t0);
    expect(p.timestampOf(t0 + 33_333) - a).toBe(3000);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(2 ** 32);
    expect(a).toBe((Math.round(t0 * 0.09) + 1000) % 2 ** 32);
  });

  it("allocates each packet once and never changes it afterwards", () => {
    const p = packetizer();
    const au = joinAnnexB([b(0x41, 5, 6, 7)]);
    const frame = p.packetize({ data: au, captureTimeUs: 5, keyframe: false });
    const copy = Buffer.from(frame.packets[0] ?? Buffer.alloc(0));
    p.packetize({ data: au, captureTimeUs: 6, keyframe: false });
    expect(frame.packets[0]).toEqual(copy);
    expect([...(frame.packets[0] ?? Buffer.alloc(0)).subarray(12)]).toEqual([0x41, 5, 6, 7]);
  });

  it("rejects a bad payload type or initial sequence", () => {
    const payloader = new H264Payloader();
    expect(() => new RtpPacketizer({ payloader, payloadType: 128 })).toThrow(RangeError);
    expect(() => new RtpPacketizer({ payloader, payloadType: 128 })).toThrow(/payload type/);
    expect(() => new RtpPacketizer({ payloader, initialSequence: 70000 })).toThrow(/sequence/);
  });
});
