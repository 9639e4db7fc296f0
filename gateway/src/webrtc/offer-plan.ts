import { dataSection, planAudio, type AudioAbility, type PlannedAudio } from "./audio-plan.js";
import { chooseH264Codec } from "./h264-profile.js";
import {
  narrowOffer,
  primaryCodec,
  rtxFor,
  type OfferSdp,
  type SdpCodec,
  type SdpMediaSection,
} from "./offer-sdp.js";

/**
 * What to answer to a viewer's offer, decided from the offer and the stream
 * alone (no werift, no session state): which video section and H.264 codec
 * we send in, which other sections are answered inactive, or why the offer
 * is refused. The checks run in the spec's order (signaling-v1 "Messages",
 * step 6), each `unsupported`: the offer's shape (at most 16 media sections,
 * at most 4 of them not rejected, those bundled when there are several, no
 * data channel unless the device offers one), no video section, unknown
 * stream, no receivable H.264 with packetization-mode=1. Parsing (`bad-request`) comes before and the viewer
 * limit (`busy`) after, in the session manager.
 *
 * The shape checks come first because they bound the work an offer can make:
 * every unbundled section is a transport of its own, with its own UDP
 * sockets and candidates, and werift opened 601 sockets and blocked the event
 * loop for ~5 s for one 52 KB offer of 600 sections (issue 10). A browser
 * offers one section per track it wants, bundled (RFC 9143; Chrome and
 * Firefox do by default): video, audio and the control DataChannel.
 *
 * Two bounds, because sections cost two different things:
 *
 * - a section that is not rejected is a transceiver (or the SCTP
 *   association) werift sets up, feeds and answers: at most
 *   MAX_ACTIVE_SECTIONS of them;
 * - a rejected one (port 0) costs nothing but its lines: it is answered
 *   port 0 (RFC 3264 section 6) and werift sets nothing up for it
 *   (docs/werift-patches.md, 7). A viewer leaves one behind each time it
 *   stops a transceiver and adds another before the stopped one could be
 *   recycled (RFC 8829 section 5.2.2: only a section rejected in the
 *   current local and remote descriptions is), so they are allowed up to
 *   MAX_MEDIA_SECTIONS in all; past that a viewer starts a fresh peer
 *   connection (a replacement, docs/signaling.md).
 */

/**
 * Media sections an offer may have in all, rejected ones included: the
 * active ones and a dozen stopped transceivers' sections.
 */
export const MAX_MEDIA_SECTIONS = 16;

/** Sections not rejected (port other than 0): video, audio, the DataChannel, and one spare. */
export const MAX_ACTIVE_SECTIONS = 4;

/**
 * The m= lines of an SDP text, counted without parsing it: the session
 * manager refuses an offer of too many sections before it spends time on
 * each line (a 600-section offer costs ~30 ms to parse on a busy core, and
 * many viewers can send one each).
 */
export function countMediaSections(sdp: string): number {
  let count = sdp.startsWith("m=") ? 1 : 0;
  for (let at = sdp.indexOf("\nm="); at >= 0; at = sdp.indexOf("\nm=", at + 3)) count++;
  return count;
}

/** What the plan needs to know of the stream the offer asks for. */
export interface StreamFacts {
  /** H.264 profile-level-id the stream has (or is assumed to have until its first SPS). */
  readonly profileLevelId: string;
}

/** A media section of the offer other than the one we send H.264 in (answered inactive). */
export interface InactiveSection {
  readonly kind: "audio" | "video";
  /** The one codec the section is narrowed to, declared to werift (werift/inactive-section.ts). */
  readonly codec: SdpCodec;
}

export interface AcceptedOffer<S extends StreamFacts = StreamFacts> {
  readonly accepted: true;
  /** The stream the offer asked for. */
  readonly stream: S;
  /** The video section we send the stream in. */
  readonly section: SdpMediaSection;
  /** The offered H.264 codec we send with (its payload type and fmtp). */
  readonly codec: SdpCodec;
  /** The offer's RTX codec for it (RFC 4588), if any: repairs go as RTX then. */
  readonly rtx: SdpCodec | undefined;
  readonly inactive: readonly InactiveSection[];
  /** The audio section we send and/or receive Opus in (audio-plan.ts), if any. */
  readonly audio?: PlannedAudio;
  /** The DataChannel section we answer (only when asked for: `PlanOptions.dataChannel`). */
  readonly data?: SdpMediaSection;
  /** The offer narrowed to one payload type per answered section: what werift gets. */
  readonly sdp: string;
}

export interface RefusedOffer {
  readonly accepted: false;
  /** The spec's error code. */
  readonly code: "unsupported";
  readonly message: string;
  readonly context: Readonly<Record<string, string>>;
}

export type OfferPlan<S extends StreamFacts = StreamFacts> = AcceptedOffer<S> | RefusedOffer;

const refuse = (message: string, context: Record<string, string> = {}): RefusedOffer => ({
  accepted: false,
  code: "unsupported",
  message,
  context,
});

/** What the device offers besides video (default: nothing). */
export interface PlanOptions {
  /** Sound the device can and may send or play (audio-plan.ts). */
  readonly audio?: AudioAbility;
  /** Answer a DataChannel section (the control channel). */
  readonly dataChannel?: boolean;
}

/**
 * Plans the answer to `offer` for the stream named `streamId`, whose facts
 * are `stream` (undefined: the gateway has no such stream).
 */
export function planOffer<S extends StreamFacts>(
  offer: OfferSdp,
  streamId: string,
  stream: S | undefined,
  options: PlanOptions = {},
): OfferPlan<S> {
  const shape = shapeProblem(offer, options.dataChannel === true);
  if (shape !== undefined) return refuse(shape);
  const videos = offer.media.filter((m) => m.kind === "video" && m.port !== 0);
  if (videos.length === 0) return refuse("the offer has no video section");
  if (!stream) return refuse(`no stream named "${streamId}"`, { stream: streamId });

  let chosen: { section: SdpMediaSection; codec: SdpCodec } | undefined;
  for (const section of videos) {
    if (section.direction !== "recvonly" && section.direction !== "sendrecv") continue;
    const codec = chooseH264Codec(section, stream.profileLevelId);
    if (codec) {
      chosen = { section, codec };
      break;
    }
  }
  if (!chosen) {
    return refuse("the offer has no receivable H.264 with packetization-mode=1 for this stream", {
      profileLevelId: stream.profileLevelId,
    });
  }

  // Every other audio/video section is answered too (inactive), with the
  // first media codec it offers: werift refuses an offer with any section
  // it has no codec for (werift/inactive-section.ts).
  const rtx = rtxFor(chosen.section, chosen.codec);
  const choices = new Map<SdpMediaSection, readonly number[]>([
    [
      chosen.section,
      rtx ? [chosen.codec.payloadType, rtx.payloadType] : [chosen.codec.payloadType],
    ],
  ]);
  const audio = options.audio ? planAudio(offer, options.audio) : undefined;
  if (audio) choices.set(audio.section, [audio.codec.payloadType]);
  const inactive: InactiveSection[] = [];
  for (const section of offer.media) {
    if (section === chosen.section || section === audio?.section || section.port === 0) continue;
    if (section.kind !== "audio" && section.kind !== "video") continue;
    const codec = primaryCodec(section);
    if (!codec) continue;
    choices.set(section, [codec.payloadType]);
    inactive.push({ kind: section.kind, codec });
  }
  return {
    accepted: true,
    stream,
    section: chosen.section,
    codec: chosen.codec,
    rtx,
    inactive,
    ...(audio ? { audio } : {}),
    ...(options.dataChannel ? { data: dataSection(offer) } : {}),
    sdp: narrowOffer(offer, choices),
  };
}

/** The refusal of an offer of `count` media sections, over MAX_MEDIA_SECTIONS. */
export function tooManySections(count: number): string {
  return (
    `the offer has ${count} media sections; this camera answers at most ${MAX_MEDIA_SECTIONS} ` +
    `(${MAX_ACTIVE_SECTIONS} of them not rejected): offer from a fresh peer connection`
  );
}

/** Why the offer's sections are not a shape the device answers; undefined when they are. */
function shapeProblem(offer: OfferSdp, dataChannel: boolean): string | undefined {
  const count = offer.media.length;
  if (count > MAX_MEDIA_SECTIONS) return tooManySections(count);
  const used = offer.media.filter((m) => m.port !== 0);
  if (used.length > MAX_ACTIVE_SECTIONS) {
    return (
      `the offer has ${used.length} media sections that are not rejected (port 0); ` +
      `this camera answers at most ${MAX_ACTIVE_SECTIONS}`
    );
  }
  if (!dataChannel && offer.media.some((m) => m.kind === "application")) {
    return "the offer has a data channel section; this camera offers none";
  }
  if (used.length > 1) {
    const bundle = bundleGroup(offer);
    if (!used.every((m) => m.mid !== undefined && bundle.includes(m.mid))) {
      return "an offer with several media sections must bundle them all (a=group:BUNDLE, RFC 9143)";
    }
  }
  return undefined;
}

/** The mids of the session-level `a=group:BUNDLE` line (RFC 9143 7.1); empty without one. */
function bundleGroup(offer: OfferSdp): string[] {
  const end = offer.media[0]?.startLine ?? offer.lines.length;
  for (const line of offer.lines.slice(0, end)) {
    if (line.startsWith("a=group:BUNDLE"))
      return line.slice("a=group:BUNDLE".length).trim().split(/\s+/);
  }
  return [];
}
