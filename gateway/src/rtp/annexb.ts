/**
 * H.264 Annex-B byte streams (ITU-T H.264 Annex B): NAL units separated by
 * start codes 0x000001 or 0x00000001. Splitting returns zero-copy
 * subarrays of the input, so the access unit's Buffer is never copied here.
 */

/** nal_unit_type values the media path cares about (H.264 Table 7-1). */
export const NalType = {
  slice: 1,
  idr: 5,
  sei: 6,
  sps: 7,
  pps: 8,
  aud: 9,
  endOfSequence: 10,
  endOfStream: 11,
  filler: 12,
  stapA: 24,
  fuA: 28,
} as const;

/** The 5-bit nal_unit_type of a NAL unit (first byte, bits 3..7). */
export function nalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** The 2-bit nal_ref_idc of a NAL unit, kept in place (0x00..0x60). */
export function nalRefIdcBits(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x60;
}

export function isKeyFrameNal(nal: Uint8Array): boolean {
  return nalType(nal) === NalType.idr;
}

/**
 * Finds the next start code (0x000001) at or after `from`; returns the index
 * of its first zero byte, or -1.
 */
function findStartCode(data: Uint8Array, from: number): number {
  for (let i = from; i + 2 < data.length; i++) {
    // Skip ahead fast: a start code needs data[i + 2] === 1 and two zeros before it.
    const b2 = data[i + 2];
    if (b2 !== undefined && b2 > 1) {
      i += 2;
      continue;
    }
    if (data[i] === 0 && data[i + 1] === 0 && b2 === 1) return i;
  }
  return -1;
}

/**
 * Splits one Annex-B access unit into its NAL units (without start codes).
 * Zero bytes before a start code are trailing_zero_8bits / the leading zero
 * of a 4-byte start code, so they are trimmed off the preceding NAL unit.
 *
 * Throws TypeError (the input is not Annex-B H.264) when it is empty, does
 * not begin with a start code (after optional leading zero bytes), holds an
 * empty NAL unit, or a NAL unit whose forbidden_zero_bit is set: a source
 * that emits those is broken, and guessing would send garbage to every
 * viewer. A library error, not the app's: callers add the source's name.
 */
export function splitAnnexB(data: Buffer): Buffer[] {
  if (data.length === 0) {
    throw new TypeError("empty access unit: no Annex-B data");
  }
  let first = findStartCode(data, 0);
  if (first < 0) {
    throw new TypeError(`access unit of ${data.length} bytes has no Annex-B start code`);
  }
  for (let i = 0; i < first; i++) {
    if (data[i] !== 0) {
      throw new TypeError(
        `access unit does not begin with an Annex-B start code (byte ${i} is not zero)`,
      );
    }
  }
  const nals: Buffer[] = [];
  while (first >= 0) {
    const start = first + 3;
    const next = findStartCode(data, start);
    let end = next < 0 ? data.length : next;
    while (end > start && data[end - 1] === 0) end--;
    if (end === start) {
      // A start code followed by nothing but zeros before the next one (or
      // the end) carries no NAL unit. Trailing zero bytes at the very end are
      // trailing_zero_8bits and harmless; between two start codes they are not.
      if (next >= 0 || nals.length === 0) {
        throw new TypeError(`empty NAL unit at byte ${first} of an Annex-B access unit`);
      }
    } else {
      const nal = data.subarray(start, end);
      if (((nal[0] ?? 0) & 0x80) !== 0) {
        throw new TypeError(`NAL unit at byte ${start} has forbidden_zero_bit set`);
      }
      nals.push(nal);
    }
    first = next;
  }
  return nals;
}

/** Joins NAL units back into Annex-B with 4-byte start codes (used by receivers and tests). */
export function joinAnnexB(nals: readonly Uint8Array[]): Buffer {
  const startCode = Buffer.from([0, 0, 0, 1]);
  const parts: Uint8Array[] = [];
  for (const nal of nals) parts.push(startCode, nal);
  return Buffer.concat(parts);
}
