/**
 * 64-bit NTP timestamps (RFC 3550 section 4, RFC 5905 section 6): seconds
 * since 1900-01-01 in the high 32 bits, the binary fraction in the low 32.
 */

/** 1900-01-01 to 1970-01-01 in seconds. */
const NTP_EPOCH_OFFSET = 2_208_988_800n;

/** NTP timestamp of a Unix time in microseconds. */
export function ntpFromUnixUs(us: number): bigint {
  const seconds = Math.floor(us / 1_000_000);
  const fraction = Math.floor(((us - seconds * 1_000_000) / 1_000_000) * 2 ** 32);
  return ((BigInt(seconds) + NTP_EPOCH_OFFSET) << 32n) | BigInt(fraction);
}

/** Unix time in microseconds of an NTP timestamp. */
export function unixUsFromNtp(ntp: bigint): number {
  const seconds = Number(ntp >> 32n) - Number(NTP_EPOCH_OFFSET);
  const fraction = Number(ntp & 0xffff_ffffn) / 2 ** 32;
  return Math.round((seconds + fraction) * 1_000_000);
}
