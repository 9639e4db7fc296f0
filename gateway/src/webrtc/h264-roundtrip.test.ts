import { RtpPacket, dePacketizeRtpPackets } from "werift";
import { beforeAll, describe, expect, it } from "vitest";
import { splitAnnexB } from "../rtp/annexb.js";
import { H264Payloader } from "../rtp/h264-payloader.js";
import { RtpPacketizer } from "../rtp/packetizer.js";
import { encodeTestClip, type ClipAccessUnit } from "../testing/test-clip.js";
import { depacketizeH264 } from "./werift/h264-depacketizer.js";

/**
 * Our RFC 6184 payloader and RTP packetizer, read back by werift's own
 * H.264 depacketizer (packages/rtp/src/codec/h264.ts): every NAL unit of a
 * real libx264 clip must come back byte for byte (AUDs and filler, which
 * the payloader drops, aside).
 */
let clip: ClipAccessUnit[];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 45, gop: 15 });
});

const nalsOf = (annexB: Buffer): string[] => splitAnnexB(annexB).map((n) => n.toString("hex"));

describe.each([1200, 500, 100, 3])("at a %i-byte payload limit", (maxPayloadSize) => {
  it("restores the same NAL units through werift's dePacketizeRtpPackets", () => {
    const packetizer = new RtpPacketizer({ payloader: new H264Payloader({ maxPayloadSize }) });
    let us = 1_763_700_000_000_000;
    for (const unit of clip) {
      const frame = packetizer.packetize({
        data: unit.data,
        captureTimeUs: us,
        keyframe: unit.keyframe,
      });
      us += 33_333;
      const packets = frame.packets.map((p) => RtpPacket.deSerialize(p));
      for (const p of packets) expect(p.payload.length).toBeLessThanOrEqual(maxPayloadSize);
      expect(packets.at(-1)?.header.marker).toBe(true);
      expect(packets.filter((p) => p.header.marker).length).toBe(1);
      const out = dePacketizeRtpPackets("MPEG4/ISO/AVC", packets);
      expect(nalsOf(out.data)).toEqual(nalsOf(unit.data));
      expect(out.isKeyframe).toBe(unit.keyframe);
      expect(out.timestamp).toBe(frame.timestamp);
    }
  });
});

it("produces FU-A fragments werift reassembles with the original NAL header", () => {
  const idr = clip.find((u) => u.keyframe);
  expect(idr).toBeDefined();
  const payloads = new H264Payloader({ maxPayloadSize: 200 }).payload(idr?.data ?? Buffer.alloc(0));
  let fragment: Buffer | undefined;
  const restored: Buffer[] = [];
  for (const chunks of payloads) {
    const h264 = depacketizeH264(Buffer.concat(chunks), fragment);
    fragment = h264.fragment;
    if (h264.annexB) restored.push(h264.annexB);
  }
  expect(nalsOf(Buffer.concat(restored))).toEqual(nalsOf(idr?.data ?? Buffer.alloc(0)));
  expect(payloads.some((c) => ((c[0]?.[0] ?? 0) & 0x1f) === 28)).toBe(true);
  expect(payloads.some((c) => ((c[0]?.[0] ?? 0) & 0x1f) === 24)).toBe(true);
});

// Found by fuzzing (docs/fuzzing.md, corpus h264-rtp/one-byte-nal.json):
// werift 0.24.4 threw TypeError on a one-byte payload.
it("depacketizes the one-byte end-of-sequence NAL unit the payloader sends alone", () => {
  const au = Buffer.from("00000001658884000000010a", "hex");
  const payloads = new H264Payloader({ maxPayloadSize: 3 }).payload(au);
  let fragment: Buffer | undefined;
  const restored: Buffer[] = [];
  for (const chunks of payloads) {
    const h264 = depacketizeH264(Buffer.concat(chunks), fragment);
    fragment = h264.fragment;
    if (h264.annexB) restored.push(h264.annexB);
  }
  expect(payloads.at(-1)).toEqual([Buffer.from([0x0a])]);
  expect(nalsOf(Buffer.concat(restored))).toEqual(["658884", "0a"]);
});
