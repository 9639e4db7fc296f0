import { Profile, parseProfileLevelId } from "h264-profile-level-id";
import { NalType, nalType, splitAnnexB } from "../rtp/annexb.js";
import type { SdpCodec, SdpMediaSection } from "./offer-sdp.js";

/**
 * H.264 profile-level-id (RFC 6184 section 8.1): the SPS's profile_idc,
 * constraint flags byte and level_idc as six hex digits. Constrained
 * baseline level 3.1 ("42e01f") until the source's first SPS tells better.
 */
export const DEFAULT_PROFILE_LEVEL_ID = "42e01f";

/** profile-level-id of the first SPS in an Annex-B access unit, if any. */
export function profileLevelIdFromAccessUnit(data: Buffer): string | undefined {
  for (const nal of splitAnnexB(data)) {
    if (nalType(nal) === NalType.sps && nal.length >= 4) {
      return nal.subarray(1, 4).toString("hex");
    }
  }
  return undefined;
}

/**
 * Which receiver profiles can decode a stream of a given profile (H.264
 * Annex A): constrained baseline is a subset of baseline, main and high;
 * main of high; constrained high of high.
 */
const DECODABLE_BY: Readonly<Record<number, readonly number[]>> = {
  [Profile.ConstrainedBaseline]: [
    Profile.ConstrainedBaseline,
    Profile.Baseline,
    Profile.Main,
    Profile.ConstrainedHigh,
    Profile.High,
  ],
  [Profile.Baseline]: [Profile.Baseline],
  [Profile.Main]: [Profile.Main, Profile.High],
  [Profile.ConstrainedHigh]: [Profile.ConstrainedHigh, Profile.High],
  [Profile.High]: [Profile.High],
};

export function isH264Mode1(codec: SdpCodec): boolean {
  return (
    codec.name.toLowerCase() === "h264" &&
    codec.clockRate === 90_000 &&
    codec.parameters.get("packetization-mode") === "1"
  );
}

/**
 * The offered H.264 codec to send the stream with: packetization-mode=1
 * and a profile able to decode the stream, the same profile preferred.
 * Levels are not compared: browsers offer level-asymmetry-allowed=1 and a
 * level the encoder was configured for is what the receiver gets.
 * A codec without profile-level-id is baseline level 1 ("42000a", the
 * default of RFC 6184 section 8.1).
 */
export function chooseH264Codec(
  section: SdpMediaSection,
  streamProfileLevelId: string,
): SdpCodec | undefined {
  const stream = parseProfileLevelId(streamProfileLevelId)?.profile ?? Profile.ConstrainedBaseline;
  const accepted = DECODABLE_BY[stream] ?? [stream];
  let best: SdpCodec | undefined;
  for (const codec of section.codecs) {
    if (!isH264Mode1(codec)) continue;
    const offered = parseProfileLevelId(codec.parameters.get("profile-level-id") ?? "42000a");
    if (!offered || !accepted.includes(offered.profile)) continue;
    if (offered.profile === stream) return codec;
    best ??= codec;
  }
  return best;
}
