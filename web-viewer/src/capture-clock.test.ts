import { describe, expect, it } from "vitest";
import { CaptureClock, NTP_TO_UNIX_MS } from "./capture-clock.js";

describe("CaptureClock", () => {
  const captureUnixMs = 1_700_000_000_000;

  it("places any frame by its RTP timestamp from one abs-capture-time pair, on this page's clock", () => {
    const clock = new CaptureClock();
    clock.observeSource({ captureTimestamp: captureUnixMs + NTP_TO_UNIX_MS, rtpTimestamp: 1000 });
    expect(clock.captureUnixMs(1000)).toBeUndefined(); // no sender report yet: clocks unknown
    // The camera's clock runs 250 ms behind ours; reports take 2..9 ms to arrive.
    clock.observeSenderReport(captureUnixMs + 250 + 9, captureUnixMs);
    clock.observeSenderReport(captureUnixMs + 1250 + 2, captureUnixMs + 1000);
    clock.observeSenderReport(captureUnixMs + 1250 + 2, captureUnixMs + 1000); // seen twice
    expect(clock.offsetMs).toBe(252);
    expect(clock.captureUnixMs(1000)).toBe(captureUnixMs + 252);
    expect(clock.captureUnixMs(1000 + 3000)).toBe(captureUnixMs + 252 + 33.333333333333336);
    expect(clock.captureUnixMs(1000 - 90)).toBe(captureUnixMs + 252 - 1);
  });

  it("follows RTP timestamps across their 32-bit wrap", () => {
    const clock = new CaptureClock();
    clock.observeSource({
      captureTimestamp: captureUnixMs + NTP_TO_UNIX_MS,
      rtpTimestamp: 0xffff_ff00,
    });
    clock.observeSenderReport(captureUnixMs, captureUnixMs);
    // 0xffffff00 -> 0x00000010 is 0x110 = 272 ticks later: 3.02 ms.
    expect(clock.captureUnixMs(0x0000_0010)).toBeCloseTo(captureUnixMs + 272 / 90, 6);
  });

  it("ignores sources without a capture time (no abs-capture-time negotiated)", () => {
    const clock = new CaptureClock();
    clock.observeSource({ rtpTimestamp: 5 });
    clock.observeSenderReport(10, 10);
    expect(clock.captureUnixMs(5)).toBeUndefined();
  });
});
