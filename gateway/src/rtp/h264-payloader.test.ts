import { describe, expect, it } from "vitest";
import { NalType, joinAnnexB, nalType } from "./annexb.js";
import { DEFAULT_MAX_PAYLOAD_SIZE, H264Payloader, joinPayload } from "./h264-payloader.js";

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);
const payloads = (p: H264Payloader, au: Buffer): number[][] =>
  p.payload(au).map((c) => [...joinPayload(c)]);

describe("H264Payloader", () => {
  it("fragments a large NAL unit into FU-A packets with S and E bits (pion vector)", () => {
    // Vector from pion/rtp codecs/h264_packet_test.go (TestH264Payloader_Payload,
    // "largepayload" at MTU 5): NAL header 0x00, 15 body bytes, 3 per fragment.
    const au = b(
      0,
      0,
      1,
      0x00,
      0x01,
      0x02,
      0x03,
      0x04,
      0x05,
      0x06,
      0x07,
      0x08,
      0x09,
      0x10,
      0x11,
      0x12,
      0x13,
      0x14,
      0x15,
    );
    expect(payloads(new H264Payloader({ maxPayloadSize: 5 }), au)).toEqual([
      [0x1c, 0x80, 0x01, 0x02, 0x03],
      [0x1c, 0x00, 0x04, 0x05, 0x06],
      [0x1c, 0x00, 0x07, 0x08, 0x09],
      [0x1c, 0x00, 0x10, 0x11, 0x12],
      [0x1c, 0x40, 0x13, 0x14, 0x15],
    ]);
  });

  it("aggregates SPS and PPS into one STAP-A before the IDR slice (pion vector, RFC NRI rule)", () => {
    // pion/rtp codecs/h264_packet_test.go (TestH264Payloader_Payload_SPS_and_PPS_handling)
    // expects {0x78, 0x00, 0x03, 0x07, 0x00, 0x01, 0x00, 0x03, 0x08, 0x02, 0x03}: pion always
    // writes NRI=3 in the STAP-A header. RFC 6184 section 5.3 requires the maximum NRI of the
    // aggregated units, here 0, so our header byte is 0x18 (F=0, NRI=0, type 24).
    const au = joinAnnexB([b(0x07, 0x00, 0x01), b(0x08, 0x02, 0x03), b(0x05, 0x04, 0x05)]);
    expect(payloads(new H264Payloader({ maxPayloadSize: 1500 }), au)).toEqual([
      [0x18, 0x00, 0x03, 0x07, 0x00, 0x01, 0x00, 0x03, 0x08, 0x02, 0x03],
      [0x05, 0x04, 0x05],
    ]);
  });

  it("takes the highest NRI of the aggregated units and keeps F/NRI/type in FU-A headers", () => {
    const sps = b(0x67, 0x42, 0xe0, 0x1f); // NRI 3
    const sei = b(0x06, 0x05, 0x01); // NRI 0
    const idr = Buffer.concat([b(0x65), Buffer.alloc(20, 0xab)]); // NRI 3, type 5
    const out = new H264Payloader({ maxPayloadSize: 12 }).payload(joinAnnexB([sei, sps, idr]));
    const first = joinPayload(out[0] ?? []);
    expect(first[0]).toBe(0x78);
    const fus = out.slice(1).map((c) => joinPayload(c));
    expect(fus.length).toBe(2);
    for (const fu of fus) {
      expect(fu[0]).toBe(0x60 | NalType.fuA);
      expect((fu[1] ?? 0) & 0x1f).toBe(NalType.idr);
    }
    expect((fus[0]?.[1] ?? 0) & 0xc0).toBe(0x80);
    expect((fus[1]?.[1] ?? 0) & 0xc0).toBe(0x40);
    // Even split: 20 body bytes in 2 fragments of 10.
    expect(fus.map((f) => f.length)).toEqual([12, 12]);
  });

  it("sends a NAL unit of exactly the payload limit as a single NAL unit packet", () => {
    const nal = Buffer.concat([b(0x41), Buffer.alloc(99, 7)]);
    const out = payloads(new H264Payloader({ maxPayloadSize: 100 }), joinAnnexB([nal]));
    expect(out).toEqual([[...nal]]);
  });

  it("fragments a NAL unit one byte over the limit into two FU-A packets", () => {
    const nal = Buffer.concat([b(0x41), Buffer.alloc(100, 7)]);
    const out = new H264Payloader({ maxPayloadSize: 100 }).payload(joinAnnexB([nal]));
    expect(out.length).toBe(2);
    for (const chunks of out) expect(joinPayload(chunks).length).toBeLessThanOrEqual(100);
  });

  it("works at the tiny limit of 3 bytes (one body byte per FU-A)", () => {
    const nal = b(0x41, 1, 2, 3, 4);
    const out = payloads(new H264Payloader({ maxPayloadSize: 3 }), joinAnnexB([nal]));
    expect(out).toEqual([
      [0x5c, 0x81, 1],
      [0x5c, 0x01, 2],
      [0x5c, 0x01, 3],
      [0x5c, 0x41, 4],
    ]);
  });

  it("splits a run of parameter sets into several STAP-As when they do not fit one", () => {
    const sets = [b(0x67, 1, 1, 1), b(0x68, 2, 2), b(0x06, 3, 3, 3, 3)];
    // STAP-A of the first two: 1 + (2+4) + (2+3) = 12 bytes; adding the SEI would make 19.
    const out = payloads(new H264Payloader({ maxPayloadSize: 12 }), joinAnnexB(sets));
    expect(out).toEqual([
      [0x78, 0, 4, 0x67, 1, 1, 1, 0, 3, 0x68, 2, 2],
      [0x06, 3, 3, 3, 3],
    ]);
  });

  it("drops access unit delimiters and filler data", () => {
    const out = payloads(
      new H264Payloader(),
      joinAnnexB([b(0x09, 0xf0), b(0x41, 1), b(0x0c, 0xff)]),
    );
    expect(out).toEqual([[0x41, 1]]);
  });

  it("never aggregates slices", () => {
    const out = new H264Payloader().payload(joinAnnexB([b(0x41, 1), b(0x41, 2)]));
    expect(out.map((c) => nalType(joinPayload(c)))).toEqual([1, 1]);
  });

  it("defaults to a 1200-byte payload limit and rejects limits below 3 bytes", () => {
    expect(new H264Payloader().maxPayloadSize).toBe(DEFAULT_MAX_PAYLOAD_SIZE);
    expect(DEFAULT_MAX_PAYLOAD_SIZE).toBe(1200);
    expect(() => new H264Payloader({ maxPayloadSize: 2 })).toThrow(RangeError);
    expect(() => new H264Payloader({ maxPayloadSize: 1.5 })).toThrow(/integer/);
  });

  it("rejects empty and malformed access units", () => {
    const p = new H264Payloader();
    expect(() => p.payload(Buffer.alloc(0))).toThrow(/empty access unit/);
    expect(() => p.payload(b(1, 2, 3, 4))).toThrow(/start code/);
  });
});
