import { describe, expect, it } from "vitest";
import { MAX_OPUS_PACKET, OPUS_CLOCK_RATE, OpusPayloader } from "./opus-payloader.js";
import { RtpPacketizer } from "./packetizer.js";

function packetizer(): RtpPacketizer {
  return new RtpPacketizer({
    payloader: new OpusPayloader(),
    payloadType: 111,
    ssrc: 0xa1b2c3d4,
    clockRate: OPUS_CLOCK_RATE,
    initialSequence: 10,
    timestampOffset: 0,
  });
}

describe("Opus RTP payload (RFC 7587)", () => {
  it("puts one whole Opus packet in one RTP packet on the 48 kHz clock", () => {
    const p = packetizer();
    // A 20 ms SILK-only mono frame's TOC (config 1, s=0, c=0) and two bytes.
    const opus = Buffer.from([0x08, 0xde, 0xad]);
    const frame = p.packetize({ data: opus, captureTimeUs: 1_000_020_000, keyframe: true });
    expect(frame.packets).toHaveLength(1);
    const packet = frame.packets[0] ?? Buffer.alloc(0);
    expect(packet.subarray(12)).toEqual(opus);
    // 1000.02 s at 48 kHz.
    expect(packet.readUInt32BE(4)).toBe((1000.02 * 48_000) % 2 ** 32);
    expect(packet.readUInt16BE(2)).toBe(10);
  });

  it("sets the marker only where the caller says a talkspurt begins (section 4.1)", () => {
    const p = packetizer();
    const data = Buffer.from([0x08, 1]);
    const first = p.packetize({ data, captureTimeUs: 0, keyframe: true, marker: true });
    const next = p.packetize({ data, captureTimeUs: 20_000, keyframe: true, marker: false });
    expect((first.packets[0]?.[1] ?? 0) & 0x80).toBe(0x80);
    expect((next.packets[0]?.[1] ?? 0) & 0x80).toBe(0);
    expect(
      ((next.packets[0]?.readUInt32BE(4) ?? 0) - (first.packets[0]?.readUInt32BE(4) ?? 0)) >>> 0,
    ).toBe(960);
  });

  it("refuses what cannot be an Opus packet", () => {
    const payloader = new OpusPayloader();
    expect(() => payloader.payload(Buffer.alloc(0))).toThrow(RangeError);
    expect(() => payloader.payload(Buffer.alloc(MAX_OPUS_PACKET + 1))).toThrow(RangeError);
  });
});
