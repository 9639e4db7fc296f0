import type { OfferSdp } from "./offer-sdp.js";

/**
 * What a new offer for a live session is, and so how camgw answers it
 * (docs/signaling.md "Renegotiation and ICE restarts"). The signaling spec
 * lets an offer for an existing session replace it ("ICE restart or
 * renegotiation"); this is the one place that tells them apart:
 *
 * - **ice-restart**: a subsequent offer of the same peer connection (RFC
 *   9429 section 5.2.2: the same o= sess-id) with new ice-ufrag and ice-pwd
 *   (RFC 8839 section 4.4.1.1.1), the same media sections and the same DTLS
 *   fingerprint. Answered on the same peer connection, which keeps its DTLS
 *   association: a WHEP player restarting ICE with a PATCH
 *   (draft-ietf-wish-whep section 4.3.3) and a browser's
 *   createOffer({iceRestart: true}) both keep theirs, so an answer from a new
 *   peer connection would never carry media again. The sess-id matters:
 *   werift keeps one certificate for every peer connection of a process, so
 *   a fresh werift viewer's offer has the same fingerprint as its last one.
 * - **renegotiation**: the same ICE credentials, DTLS fingerprints and
 *   BUNDLE tag, every earlier section still in its place (new ones may
 *   follow; a section the last offer rejected, port 0, may be recycled with
 *   a new mid, RFC 8829 section 5.2.2): answered on the same peer
 *   connection with no new ICE and no new DTLS; this is how audio, talk-back
 *   or the control DataChannel come and go mid-call (a section paused with
 *   a=inactive, or rejected with port 0 when a browser stops its
 *   transceiver).
 * - **replacement**: anything else (a fresh peer connection's offer, a new
 *   certificate, no BUNDLE, sections removed or moved, an ICE restart that
 *   also changes the sections): a fresh peer connection answers.
 */
export type OfferChange =
  | { readonly kind: "ice-restart" }
  | { readonly kind: "renegotiation" }
  | { readonly kind: "replacement"; readonly reason: string };

/** How `next` relates to `previous`, the offer last applied on the session. */
export function offerChange(previous: OfferSdp, next: OfferSdp): OfferChange {
  const before = transportFacts(previous);
  const after = transportFacts(next);
  const replace = (reason: string): OfferChange => ({ kind: "replacement", reason });
  if (after.ufrags.length === 0 || !after.pwd || before.ufrags.length === 0) {
    return replace("no ICE credentials");
  }
  if (after.fingerprints.length === 0) return replace("no DTLS fingerprint");
  if (after.fingerprints.join(" ") !== before.fingerprints.join(" ")) {
    return replace("new DTLS certificate");
  }
  const sameCredentials =
    after.ufrags.join(" ") === before.ufrags.join(" ") && after.pwd === before.pwd;
  if (!sameCredentials) {
    if (before.sessionId === undefined || before.sessionId !== after.sessionId) {
      return replace("new peer connection");
    }
    // Every section takes the new credentials (max-bundle: one transport).
    if (after.ufrags.some((u) => before.ufrags.includes(u)))
      return replace("mixed ICE credentials");
    if (after.sections.join() !== before.sections.join()) {
      return replace("ICE restart with other sections");
    }
    return { kind: "ice-restart" };
  }
  if (!before.bundle?.length || !after.bundle?.length) return replace("not bundled");
  if (before.bundle[0] !== after.bundle[0]) return replace("new BUNDLE tag");
  if (after.mids.length < before.mids.length) return replace("sections removed");
  const moved = before.mids.some(
    (mid, i) => mid === undefined || (after.mids[i] !== mid && !before.rejected[i]),
  );
  if (moved) return replace("sections moved");
  return { kind: "renegotiation" };
}

interface TransportFacts {
  /** The o= line's sess-id (RFC 8866 section 5.2). */
  readonly sessionId: string | undefined;
  /** Every a=ice-ufrag value, deduplicated, in order. */
  readonly ufrags: readonly string[];
  readonly pwd: string | undefined;
  /** a=fingerprint values, lower-cased and sorted. */
  readonly fingerprints: readonly string[];
  /** The mids of the offer's first BUNDLE group (the first is its tag, RFC 9143 section 7.2.1). */
  readonly bundle: readonly string[] | undefined;
  /** Each media section's mid, in order. */
  readonly mids: readonly (string | undefined)[];
  /** kind, mid and whether it is rejected (port 0), of each media section in order. */
  readonly sections: readonly string[];
  /** Whether each media section, in order, is rejected (port 0). */
  readonly rejected: readonly boolean[];
}

function transportFacts(offer: OfferSdp): TransportFacts {
  const values = (prefix: string): string[] =>
    offer.lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length).trim());
  const origin = offer.lines.find((l) => l.startsWith("o="));
  const group = values("a=group:BUNDLE")[0];
  return {
    sessionId: origin?.slice(2).split(" ")[1],
    ufrags: [...new Set(values("a=ice-ufrag:"))],
    pwd: values("a=ice-pwd:")[0],
    fingerprints: [...new Set(values("a=fingerprint:").map((f) => f.toLowerCase()))].sort(),
    bundle: group === undefined ? undefined : group.split(/\s+/).filter(Boolean),
    mids: offer.media.map((m) => m.mid),
    sections: offer.media.map((m) => `${m.kind}/${m.mid ?? ""}/${m.port === 0 ? 0 : 1}`),
    rejected: offer.media.map((m) => m.port === 0),
  };
}
