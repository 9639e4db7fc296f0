import type { OfferSdp } from "./offer-sdp.js";

/**
 * Is a new offer for a live session a renegotiation of the same transport,
 * or a new one? The signaling spec lets an offer for an existing session
 * replace it ("ICE restart or renegotiation"); camgw answers the two
 * differently (docs/signaling.md "Renegotiation and ICE restarts"):
 *
 * - same ICE credentials, same DTLS fingerprints and the same BUNDLE tag,
 *   every earlier section still in its place: a renegotiation, answered on
 *   the same peer connection (no new ICE, no new DTLS; media keeps flowing);
 * - anything else (new ice-ufrag/ice-pwd: an ICE restart, RFC 8839 section
 *   4.4.1.1.1; a new certificate: a new DTLS association, RFC 8842 section
 *   5.5; no BUNDLE; sections removed or reordered): a replacement, a fresh
 *   peer connection. werift 0.24.4 would reset its ICE agent in place on
 *   new credentials (RTCIceTransport.setRemoteParams calls restart(), which
 *   drops the nominated pair and starts over with new local credentials),
 *   but that path has never carried media for camgw; a fresh peer is the
 *   tested one, and what the web viewer sends for an ICE restart anyway.
 */

export interface OfferTransport {
  readonly ufrag: string | undefined;
  readonly pwd: string | undefined;
  /** a=fingerprint values, lower-cased and sorted. */
  readonly fingerprints: readonly string[];
  /** The mids of the offer's first BUNDLE group (the first is its tag, RFC 9143 section 7.2.1). */
  readonly bundle: readonly string[] | undefined;
  /** Each media section's mid, in order. */
  readonly mids: readonly (string | undefined)[];
}

export function offerTransport(offer: OfferSdp): OfferTransport {
  const first = (prefix: string): string | undefined =>
    offer.lines
      .find((l) => l.startsWith(prefix))
      ?.slice(prefix.length)
      .trim();
  const fingerprints = offer.lines
    .filter((l) => l.startsWith("a=fingerprint:"))
    .map((l) => l.slice("a=fingerprint:".length).trim().toLowerCase());
  const group = first("a=group:BUNDLE");
  return {
    ufrag: first("a=ice-ufrag:"),
    pwd: first("a=ice-pwd:"),
    fingerprints: [...new Set(fingerprints)].sort(),
    bundle: group === undefined ? undefined : group.split(/\s+/).filter(Boolean),
    mids: offer.media.map((m) => m.mid),
  };
}

/** Why `next` cannot renegotiate the transport of `previous`, or undefined when it can. */
export function replacementReason(
  previous: OfferTransport,
  next: OfferTransport,
): string | undefined {
  if (!next.ufrag || !next.pwd) return "no ICE credentials";
  if (next.ufrag !== previous.ufrag || next.pwd !== previous.pwd) return "ICE restart";
  if (next.fingerprints.length === 0) return "no DTLS fingerprint";
  if (next.fingerprints.join(" ") !== previous.fingerprints.join(" "))
    return "new DTLS certificate";
  if (!previous.bundle?.length || !next.bundle?.length) return "not bundled";
  if (previous.bundle[0] !== next.bundle[0]) return "new BUNDLE tag";
  if (next.mids.length < previous.mids.length) return "sections removed";
  if (previous.mids.some((mid, i) => mid === undefined || next.mids[i] !== mid)) {
    return "sections moved";
  }
  return undefined;
}
