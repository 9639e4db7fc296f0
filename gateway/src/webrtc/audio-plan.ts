import type { OfferSdp, SdpCodec, SdpMediaSection } from "./offer-sdp.js";

/**
 * The audio and data sections of a viewer's offer, planned (pure, like
 * offer-plan.ts, which calls these): which audio section carries Opus in
 * which direction, and whether the DataChannel's section is taken.
 */

/** What the device can and may do with sound now (config `audio` and the devices found). */
export interface AudioAbility {
  /** A microphone, and `audio: listen | talk`: viewers may listen. */
  readonly listen: boolean;
  /** A speaker, and `audio: talk`: viewers may talk back. */
  readonly talk: boolean;
}

export const NO_AUDIO: AudioAbility = { listen: false, talk: false };

export interface PlannedAudio {
  readonly section: SdpMediaSection;
  /** The offered opus/48000/2 (its payload type and fmtp). */
  readonly codec: SdpCodec;
  /** We send the microphone in it (the viewer listens). */
  readonly send: boolean;
  /** We play what the viewer sends in it (talk-back). */
  readonly receive: boolean;
  /** Our side's direction, for werift's transceiver. */
  readonly direction: "sendonly" | "recvonly" | "sendrecv";
}

/** RFC 7587 section 7: Opus is always opus/48000/2 in SDP, whatever is sent. */
export function isOpus(codec: SdpCodec): boolean {
  return codec.name.toLowerCase() === "opus" && codec.clockRate === 48_000 && codec.channels === 2;
}

/**
 * The first audio section that offers Opus and a direction we can serve:
 * the viewer receiving (recvonly/sendrecv) when we may send, the viewer
 * sending (sendonly/sendrecv) when we may play. Undefined: no audio (the
 * section, if any, is answered inactive).
 */
export function planAudio(offer: OfferSdp, ability: AudioAbility): PlannedAudio | undefined {
  if (!ability.listen && !ability.talk) return undefined;
  for (const section of offer.media) {
    if (section.kind !== "audio" || section.port === 0) continue;
    const codec = section.codecs.find(isOpus);
    if (!codec) continue;
    const viewerReceives = section.direction === "recvonly" || section.direction === "sendrecv";
    const viewerSends = section.direction === "sendonly" || section.direction === "sendrecv";
    const send = ability.listen && viewerReceives;
    const receive = ability.talk && viewerSends;
    if (!send && !receive) continue;
    const direction = send && receive ? "sendrecv" : send ? "sendonly" : "recvonly";
    return { section, codec, send, receive, direction };
  }
  return undefined;
}

/** The offer's SCTP DataChannel section (RFC 8841), if it has one that is not rejected. */
export function dataSection(offer: OfferSdp): SdpMediaSection | undefined {
  return offer.media.find(
    (m) => m.kind === "application" && m.port !== 0 && m.formats.includes("webrtc-datachannel"),
  );
}
