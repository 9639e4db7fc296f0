import { expect, it } from "vitest";
import { ntpFromUnixUs, unixUsFromNtp } from "./ntp.js";

it("converts Unix microseconds to 64-bit NTP and back", () => {
  // RFC 5905: 1970-01-01 is NTP second 2208988800; half a second is fraction 2^31.
  expect(ntpFromUnixUs(0)).toBe(2_208_988_800n << 32n);
  expect(ntpFromUnixUs(500_000)).toBe((2_208_988_800n << 32n) | 0x8000_0000n);
  const us = 1_763_700_000_123_456;
  expect(Math.abs(unixUsFromNtp(ntpFromUnixUs(us)) - us)).toBeLessThanOrEqual(1);
});
