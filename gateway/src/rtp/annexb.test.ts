import { describe, expect, it } from "vitest";
import { NalType, joinAnnexB, nalType, splitAnnexB } from "./annexb.js";

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

describe("splitAnnexB", () => {
  it("splits NAL units separated by 3- and 4-byte start codes", () => {
    // Mixed start codes, as in pion/rtp codecs/h264_packet_test.go ("mixednalupayload"),
    // with valid NAL headers instead of pion's 0x90 (which has forbidden_zero_bit set).
    const au = b(0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 1, 0x65, 4, 5, 6);
    const nals = splitAnnexB(au);
    expect(nals.map((n) => [...n])).toEqual([
      [0x67, 1, 2],
      [0x68, 3],
      [0x65, 4, 5, 6],
    ]);
    expect(nals.map(nalType)).toEqual([NalType.sps, NalType.pps, NalType.idr]);
  });

  it("returns zero-copy views of the access unit", () => {
    const au = b(0, 0, 0, 1, 0x41, 9, 9);
    const [nal] = splitAnnexB(au);
    expect(nal?.buffer).toBe(au.buffer);
    expect(nal?.byteOffset).toBe(au.byteOffset + 4);
  });

  it("trims trailing zero bytes and keeps emulation-prevented zeros inside a NAL", () => {
    const au = b(0, 0, 1, 0x41, 0, 0, 3, 0, 0, 0, 0, 0, 1, 0x41, 7, 0, 0);
    expect(splitAnnexB(au).map((n) => [...n])).toEqual([
      [0x41, 0, 0, 3],
      [0x41, 7],
    ]);
  });

  it("rejects empty input with a clear error", () => {
    expect(() => splitAnnexB(Buffer.alloc(0))).toThrow(TypeError);
    expect(() => splitAnnexB(Buffer.alloc(0))).toThrow(/empty access unit/);
  });

  it("rejects data without a start code", () => {
    expect(() => splitAnnexB(b(0x65, 1, 2, 3))).toThrow(/no Annex-B start code/);
  });

  it("rejects garbage before the first start code", () => {
    expect(() => splitAnnexB(b(7, 0, 0, 1, 0x65, 1))).toThrow(/does not begin with/);
  });

  it("rejects an empty NAL unit between two start codes", () => {
    expect(() => splitAnnexB(b(0, 0, 1, 0, 0, 1, 0x65, 1))).toThrow(/empty NAL unit/);
  });

  it("rejects a NAL unit with forbidden_zero_bit set", () => {
    expect(() => splitAnnexB(b(0, 0, 1, 0x90, 0x90, 0x90))).toThrow(/forbidden_zero_bit/);
  });

  it("round-trips through joinAnnexB", () => {
    const nals = [b(0x67, 1), b(0x68, 2), b(0x65, 3, 4)];
    expect(splitAnnexB(joinAnnexB(nals)).map((n) => [...n])).toEqual(nals.map((n) => [...n]));
  });
});
