/**
 * A small H.264 Annex-B walker for tests (ITU-T H.264 B.1 byte stream, 7.3.1
 * NAL unit header): finds start codes and NAL types, and checks that an
 * access unit is well formed.
 */

export interface Nal {
  type: number;
  refIdc: number;
  /** Offset of the NAL header byte (after the start code). */
  offset: number;
  length: number;
}

export function splitNals(au: Uint8Array): Nal[] {
  const starts: { code: number; header: number }[] = [];
  for (let i = 0; i + 2 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      const code = i > 0 && au[i - 1] === 0 ? i - 1 : i;
      starts.push({ code, header: i + 3 });
      i += 2;
    }
  }
  return starts.map((s, k) => {
    const next = starts[k + 1];
    const end = next === undefined ? au.length : next.code;
    const h = au[s.header] ?? 0;
    return { type: h & 0x1f, refIdc: (h >> 5) & 3, offset: s.header, length: end - s.header };
  });
}

/** Problems with one access unit; empty when it is valid. */
export function accessUnitProblems(au: Uint8Array): string[] {
  const problems: string[] = [];
  if (!(au[0] === 0 && au[1] === 0 && (au[2] === 1 || (au[2] === 0 && au[3] === 1)))) {
    problems.push("does not begin with a start code");
  }
  const nals = splitNals(au);
  if (nals.length === 0) return [...problems, "no NAL units"];
  for (const n of nals) {
    const header = au[n.offset] ?? 0;
    if (header & 0x80) problems.push(`forbidden_zero_bit set at ${n.offset}`);
    if (n.length < 2) problems.push(`empty NAL unit of type ${n.type} at ${n.offset}`);
  }
  const types = nals.map((n) => n.type);
  if (!types.some((t) => t === 1 || t === 5)) problems.push("no slice");
  if (types.includes(1) && types.includes(5)) problems.push("IDR and non-IDR slices mixed");
  if (types.includes(5)) {
    const firstSlice = types.indexOf(5);
    const sps = types.indexOf(7);
    const pps = types.indexOf(8);
    if (sps < 0 || pps < 0 || sps > firstSlice || pps > firstSlice) {
      problems.push("IDR without SPS and PPS in front");
    }
  }
  return problems;
}

export function isIdr(au: Uint8Array): boolean {
  return splitNals(au).some((n) => n.type === 5);
}

/** profile_idc, constraint flags and level_idc from the first SPS (7.3.2.1.1). */
export function spsProfile(
  au: Uint8Array,
): { profileIdc: number; constraints: number; levelIdc: number } | undefined {
  const sps = splitNals(au).find((n) => n.type === 7);
  if (sps === undefined) return undefined;
  return {
    profileIdc: au[sps.offset + 1] ?? 0,
    constraints: au[sps.offset + 2] ?? 0,
    levelIdc: au[sps.offset + 3] ?? 0,
  };
}
