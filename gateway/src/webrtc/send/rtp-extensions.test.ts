import { describe, expect, it } from "vitest";
import { ntpFromUnixUs } from "../../rtp/ntp.js";
import {
  absCaptureTime,
  absSendTime,
  playoutDelay,
  readAbsCaptureTime,
  readPlayoutDelay,
  transportSequence,
} from "./rtp-extensions.js";

describe("RTP header extensions camgw writes", () => {
  it("abs-send-time is the NTP time's 6.18 fixed point bits", () => {
    for (const us of [1_700_000_000_000_000, 1_700_000_063_999_999, 1_796_052_503_325_123]) {
      const expected = Number((ntpFromUnixUs(us) >> 14n) & 0xff_ffffn);
      expect(absSendTime(us).readUIntBE(0, 3)).toBe(expected);
    }
  });

  it("playout-delay packs min and max in 10 ms units, 12 bits each", () => {
    expect([...playoutDelay(0, 100)]).toEqual([0x00, 0x00, 0x0a]);
    expect(readPlayoutDelay(playoutDelay(30, 2000))).toEqual({ minMs: 30, maxMs: 2000 });
    expect(readPlayoutDelay(playoutDelay(0, 1e9))).toEqual({ minMs: 0, maxMs: 40_950 });
    expect(readPlayoutDelay(Buffer.alloc(2))).toBeUndefined();
  });

  it("abs-capture-time carries the capture time as NTP, with a zero clock offset", () => {
    const us = 1_796_052_503_325_000;
    const bytes = absCaptureTime(us);
    expect(bytes.length).toBe(16);
    expect(readAbsCaptureTime(bytes)).toEqual({ captureUnixUs: us, clockOffsetUs: 0 });
    expect(readAbsCaptureTime(absCaptureTime(us, false))).toEqual({
      captureUnixUs: us,
      clockOffsetUs: undefined,
    });
    expect(readAbsCaptureTime(Buffer.alloc(9))).toBeUndefined();
  });

  it("transport-wide sequence numbers are 16 bits big-endian", () => {
    expect([...transportSequence(0x1_0203)]).toEqual([0x02, 0x03]);
  });
});
