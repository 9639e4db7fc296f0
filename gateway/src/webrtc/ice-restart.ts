import type { OfferSdp } from "./offer-sdp.js";

/**
 * Whether a new offer for an existing session is an ICE restart of it and
 * nothing else: a subsequent offer of the same peer connection (RFC 9429
 * section 5.2.2: the same o= sess-id), with new ice-ufrag and ice-pwd (RFC
 * 8839 section 4.4.1.1.1), the same media sections and the same DTLS
 * fingerprint. The sess-id matters: werift keeps one certificate for every
 * peer connection of a process, so a fresh werift viewer's offer has the
 * same fingerprint as its last one. Such an offer is answered
 * on the same peer connection, which keeps its DTLS association: a WHEP
 * player restarting ICE with a PATCH (draft-ietf-wish-whep section 4.3.3)
 * and a browser's createOffer({iceRestart: true}) both keep theirs, so an
 * answer from a new peer connection (new certificate) would never carry
 * media again. Anything else (a fresh peer connection's offer, a
 * renegotiation) replaces the session.
 */
export function isIceRestart(previous: OfferSdp, next: OfferSdp): boolean {
  const before = iceFacts(previous);
  const after = iceFacts(next);
  if (before.ufrags.length === 0 || after.ufrags.length === 0) return false;
  if (before.sessionId === undefined || before.sessionId !== after.sessionId) return false;
  if (before.fingerprints.join() !== after.fingerprints.join()) return false;
  if (before.fingerprints.length === 0) return false;
  if (before.sections.join() !== after.sections.join()) return false;
  // Every section takes the new credentials (max-bundle: one transport).
  return after.ufrags.every((u) => !before.ufrags.includes(u));
}

interface IceFacts {
  /** The o= line's sess-id (RFC 8866 section 5.2). */
  sessionId: string | undefined;
  ufrags: string[];
  fingerprints: string[];
  /** kind and mid of each media section, in order. */
  sections: string[];
}

function iceFacts(offer: OfferSdp): IceFacts {
  const origin = offer.lines.find((l) => l.startsWith("o="));
  const facts: IceFacts = {
    sessionId: origin?.slice(2).split(" ")[1],
    ufrags: [],
    fingerprints: [],
    sections: [],
  };
  for (const line of offer.lines) {
    if (line.startsWith("a=ice-ufrag:")) facts.ufrags.push(line.slice(12).trim());
    else if (line.startsWith("a=fingerprint:"))
      facts.fingerprints.push(line.slice(14).trim().toLowerCase());
  }
  facts.ufrags = [...new Set(facts.ufrags)];
  facts.fingerprints = [...new Set(facts.fingerprints)];
  facts.sections = offer.media.map((m) => `${m.kind}/${m.mid ?? ""}/${m.port === 0 ? 0 : 1}`);
  return facts;
}
