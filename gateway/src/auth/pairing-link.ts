/**
 * The pairing link: a viewer's credentials in the URL fragment,
 * `https://<host>:<port>/#pair=<username>.<password>.<token secret>`.
 * Browsers never send a fragment to the server (RFC 3986 3.5), so the
 * credentials reach no log and no Referer; the page stores them, removes the
 * fragment from the address bar and logs in (docs/viewer.md). Isomorphic:
 * the web viewer and `camgw probe --pair` parse it, `camgw viewer add` makes it.
 */

export interface PairingCredentials {
  /** MQTT username, also the viewer's name and signaling viewerId. */
  readonly username: string;
  /** MQTT password. */
  readonly password: string;
  /** Bearer token for HTTP: `<username>.<secret>`. */
  readonly token: string;
}

const PART = /^[A-Za-z0-9_-]{1,128}$/;

/** The fragment (without "#") that carries `credentials`. */
export function pairingFragment(credentials: PairingCredentials): string {
  const prefix = `${credentials.username}.`;
  if (!credentials.token.startsWith(prefix)) {
    throw new RangeError("the token does not belong to this username");
  }
  const secret = credentials.token.slice(prefix.length);
  return `pair=${credentials.username}.${credentials.password}.${secret}`;
}

/** `base` (an http(s) URL of the viewer page) with the credentials in its fragment. */
export function pairingLink(base: string, credentials: PairingCredentials): string {
  const url = new URL(base);
  url.hash = pairingFragment(credentials);
  return url.toString();
}

/**
 * Credentials from a pairing link, a bare fragment (`#pair=...`, `pair=...`)
 * or the code alone; undefined when the text holds none.
 */
export function parsePairing(text: string): PairingCredentials | undefined {
  let code = text.trim();
  const at = code.indexOf("pair=");
  if (at >= 0) code = code.slice(at + "pair=".length);
  const amp = code.search(/[&\s]/);
  if (amp >= 0) code = code.slice(0, amp);
  const parts = code.split(".");
  if (parts.length !== 3 || !parts.every((p) => PART.test(p))) return undefined;
  const [username = "", password = "", secret = ""] = parts;
  if (username.length > 64) return undefined;
  return { username, password, token: `${username}.${secret}` };
}
