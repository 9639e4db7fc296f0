/** Reading an answer's media sections in tests (RFC 8866 5.14: each starts at its m= line). */

/** Each media section's text, in order, without the session part before the first. */
export function mediaSections(sdp: string): string[] {
  return sdp.split(/(?=^m=)/m).slice(1);
}

/** Each media section's kind and port, e.g. "audio 0" for a rejected audio section. */
export function sectionKinds(sdp: string): (string | undefined)[] {
  return mediaSections(sdp).map((m) => /^m=(\w+) (\d+)/.exec(m)?.slice(1, 3).join(" "));
}
