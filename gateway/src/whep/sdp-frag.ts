/**
 * SDP fragments for trickle ICE over HTTP (RFC 8840 section 9,
 * `application/trickle-ice-sdpfrag`), as WHEP and WHIP carry them in PATCH
 * bodies (draft-ietf-wish-whep section 4.3, RFC 9725 section 4.3), and the
 * few edits on whole offers and answers that go with them. Pure text; no
 * werift, no HTTP.
 *
 * A fragment as a WHEP player sends it (draft-ietf-wish-whep 4.3.2):
 *
 *   a=ice-ufrag:EsAw                  session-level ICE credentials (RFC 8840
 *   a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1  allows them in the m= section too)
 *   m=audio 9 UDP/TLS/RTP/SAVPF 111    one m= line per section with candidates
 *   a=mid:0                            (max-bundle: the first one only)
 *   a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host
 *   a=end-of-candidates
 */

export interface FragCandidate {
  /** The candidate attribute's value, "candidate:..." (no "a="). */
  candidate: string;
  /** The a=mid of the m= section it came in, when the fragment said. */
  sdpMid: string | undefined;
  /** The index of that m= section within the fragment. */
  sdpMLineIndex: number;
}

export interface SdpFrag {
  ufrag: string | undefined;
  pwd: string | undefined;
  candidates: FragCandidate[];
  /** a=end-of-candidates was present (RFC 8838 section 8.2). */
  endOfCandidates: boolean;
}

/** The body is not an SDP fragment; the message says why (for the 400 reply). */
export class SdpFragError extends Error {}

const LINE = /^[a-z]=/;

/** Parses a trickle-ice-sdpfrag body; throws SdpFragError when it is not one. */
export function parseSdpFrag(body: string): SdpFrag {
  const frag: SdpFrag = {
    ufrag: undefined,
    pwd: undefined,
    candidates: [],
    endOfCandidates: false,
  };
  let section = -1;
  let mid: string | undefined;
  const pending: { candidate: string; section: number }[] = [];
  const mids = new Map<number, string>();
  const lines = body.split(/\r?\n/).filter((l) => l !== "");
  if (lines.length === 0) throw new SdpFragError("the fragment is empty");
  lines.forEach((line, i) => {
    if (!LINE.test(line)) throw new SdpFragError(`line ${i + 1} is not <type>=<value>`);
    if (line.startsWith("m=")) {
      section += 1;
      mid = undefined;
      return;
    }
    if (line.startsWith("a=mid:")) {
      mid = line.slice(6).trim();
      mids.set(section, mid);
    } else if (line.startsWith("a=ice-ufrag:")) {
      frag.ufrag = credential(line.slice(12), "ice-ufrag", i);
    } else if (line.startsWith("a=ice-pwd:")) {
      frag.pwd = credential(line.slice(10), "ice-pwd", i);
    } else if (line.startsWith("a=candidate:")) {
      const candidate = line.slice(2).trim();
      // RFC 8839 section 5.1: foundation, component, transport, priority,
      // address, port, "typ", type.
      if (candidate.split(/\s+/).length < 8 || !/ typ /.test(candidate)) {
        throw new SdpFragError(`line ${i + 1} is not an ICE candidate`);
      }
      pending.push({ candidate, section: Math.max(section, 0) });
    } else if (line.trim() === "a=end-of-candidates") {
      frag.endOfCandidates = true;
    }
  });
  frag.candidates = pending.map((p) => ({
    candidate: p.candidate,
    sdpMid: mids.get(p.section) ?? mids.get(-1),
    sdpMLineIndex: p.section,
  }));
  return frag;
}

/** RFC 8839 section 5.4: ice-char = ALPHA / DIGIT / "+" / "/", 4-256 (ufrag) or 22-256 (pwd). */
function credential(value: string, name: string, line: number): string {
  const v = value.trim();
  const min = name === "ice-ufrag" ? 4 : 22;
  if (!/^[A-Za-z0-9+/]+$/.test(v) || v.length < min || v.length > 256) {
    throw new SdpFragError(`line ${line + 1}: ${name} is not ${min}-256 ice-chars`);
  }
  return v;
}

export interface IceCredentials {
  ufrag: string;
  pwd: string;
}

/** The ICE credentials of an offer or answer (the first ones given). */
export function iceCredentials(sdp: string): IceCredentials | undefined {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1];
  return ufrag && pwd ? { ufrag, pwd } : undefined;
}

/**
 * The offer for an ICE restart: `offer` with new ICE credentials in every
 * section, its old candidates and end-of-candidates gone, and the
 * fragment's candidates added (draft-ietf-wish-whep section 4.3.3: every
 * non-ICE part of the first offer still applies).
 */
export function restartOffer(offer: string, frag: SdpFrag & IceCredentials): string {
  const out: string[] = [];
  let section = -1;
  let mid: string | undefined;
  const flush = (): void => {
    if (section < 0) return;
    for (const c of frag.candidates) {
      if (matches(c, section, mid)) out.push(`a=${c.candidate}`);
    }
    if (frag.endOfCandidates && section === 0) out.push("a=end-of-candidates");
  };
  for (const line of lines(offer)) {
    if (line.startsWith("m=")) {
      flush();
      section += 1;
      mid = undefined;
    }
    if (line.startsWith("a=mid:")) mid = line.slice(6).trim();
    if (line.startsWith("a=candidate:") || line === "a=end-of-candidates") continue;
    if (line.startsWith("a=ice-ufrag:")) out.push(`a=ice-ufrag:${frag.ufrag}`);
    else if (line.startsWith("a=ice-pwd:")) out.push(`a=ice-pwd:${frag.pwd}`);
    else out.push(line);
  }
  flush();
  return out.join("\r\n") + "\r\n";
}

/** A candidate belongs to a section by mid, else by its index in the fragment. */
function matches(c: FragCandidate, section: number, mid: string | undefined): boolean {
  return c.sdpMid !== undefined ? c.sdpMid === mid : c.sdpMLineIndex === section;
}

export interface LocalCandidate {
  candidate: string;
  sdpMid?: string | null;
}

/**
 * The answer with our candidates written in (and a=end-of-candidates when
 * gathering finished): a WHEP endpoint cannot trickle to the player after
 * the answer (draft-ietf-wish-whep section 4.3.2), so the answer carries
 * them all. A candidate goes to the section its sdpMid names, else the first.
 */
export function answerWithCandidates(
  answer: string,
  candidates: readonly LocalCandidate[],
  complete: boolean,
): string {
  const out: string[] = [];
  let section = -1;
  let mid: string | undefined;
  const mids = [...answer.matchAll(/^a=mid:(\S+)/gm)].map((m) => m[1]);
  const flush = (): void => {
    if (section < 0) return;
    for (const c of candidates) {
      const target = typeof c.sdpMid === "string" && mids.includes(c.sdpMid) ? c.sdpMid : mids[0];
      if (target === mid || (mid === undefined && section === 0)) out.push(`a=${c.candidate}`);
    }
    if (complete) out.push("a=end-of-candidates");
  };
  for (const line of lines(answer)) {
    if (line.startsWith("m=")) {
      flush();
      section += 1;
      mid = undefined;
    }
    if (line.startsWith("a=mid:")) mid = line.slice(6).trim();
    if (line.startsWith("a=candidate:") || line === "a=end-of-candidates") continue;
    out.push(line);
  }
  flush();
  return out.join("\r\n") + "\r\n";
}

/**
 * The fragment answering an ICE restart (draft-ietf-wish-whep section
 * 4.3.3): the new credentials and candidates, with the answer's ice-options
 * and ice-lite, the BUNDLE group and the first section's m= line and mid.
 */
export function restartAnswerFrag(answerWithAll: string): string {
  const all = lines(answerWithAll);
  const out: string[] = [];
  const session = all.slice(
    0,
    all.findIndex((l) => l.startsWith("m=")),
  );
  for (const line of session) {
    if (line === "a=ice-lite" || line.startsWith("a=ice-options:")) out.push(line);
  }
  const creds = iceCredentials(answerWithAll);
  if (creds) out.push(`a=ice-ufrag:${creds.ufrag}`, `a=ice-pwd:${creds.pwd}`);
  const group = all.find((l) => l.startsWith("a=group:BUNDLE"));
  if (group) out.push(group);
  const first = all.findIndex((l) => l.startsWith("m="));
  if (first >= 0) {
    const end = all.findIndex((l, i) => i > first && l.startsWith("m="));
    const section = all.slice(first, end < 0 ? all.length : end);
    out.push(section[0] ?? "");
    for (const line of section.slice(1)) {
      if (
        line.startsWith("a=mid:") ||
        line.startsWith("a=candidate:") ||
        line === "a=end-of-candidates"
      ) {
        out.push(line);
      }
    }
  }
  return out.join("\r\n") + "\r\n";
}

function lines(sdp: string): string[] {
  const all = sdp.split(/\r?\n/);
  while (all.length > 0 && all[all.length - 1] === "") all.pop();
  return all;
}
