/**
 * Which codecs the viewer offers: H.264 with packetization-mode=1 only (the
 * gateway sends FU-A fragmented NAL units, RFC 6184 section 5.8, which mode 0
 * forbids), constrained baseline first because that is what the gateway
 * encodes by default, plus RTX so lost packets can be resent (RFC 4588)
 * instead of waiting for a key frame.
 */

/** The fields of RTCRtpCodec we read (a plain object in tests). */
export interface CodecCapability {
  readonly mimeType: string;
  readonly clockRate: number;
  readonly sdpFmtpLine?: string;
}

export function fmtpParameters(line: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (line ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return out;
}

/** profile_idc + profile_iop of constrained baseline (RFC 6184 section 8.1: 42e0, also 4240/42c0...). */
function isConstrainedBaseline(profileLevelId: string | undefined): boolean {
  if (profileLevelId?.length !== 6) return false;
  const idc = profileLevelId.slice(0, 2).toLowerCase();
  const iop = parseInt(profileLevelId.slice(2, 4), 16);
  // constraint_set1_flag (0x40) makes a baseline stream constrained baseline.
  return idc === "42" && (iop & 0x40) !== 0;
}

function rank(codec: CodecCapability): number {
  const params = fmtpParameters(codec.sdpFmtpLine);
  const profile = params.get("profile-level-id");
  if (isConstrainedBaseline(profile)) return 0;
  if (profile?.toLowerCase().startsWith("42")) return 1;
  return 2;
}

/**
 * The codec preference list for setCodecPreferences: H.264 mode 1, best
 * first, then RTX. Empty when the browser cannot receive H.264 mode 1.
 */
export function preferredCodecs<T extends CodecCapability>(available: readonly T[]): T[] {
  const h264 = available
    .filter((c) => c.mimeType.toLowerCase() === "video/h264")
    .filter((c) => fmtpParameters(c.sdpFmtpLine).get("packetization-mode") === "1")
    .map((codec, index) => ({ codec, index }))
    // Stable: keep the browser's own order within a rank.
    .sort((a, b) => rank(a.codec) - rank(b.codec) || a.index - b.index)
    .map(({ codec }) => codec);
  if (h264.length === 0) return [];
  const rtx = available.filter((c) => c.mimeType.toLowerCase() === "video/rtx");
  return [...h264, ...rtx];
}
