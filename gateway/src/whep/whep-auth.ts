import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Who may use WHEP: each request's bearer token (RFC 6750 section 2.1,
 * draft-ietf-wish-whep section 4.7) is handed to a WhepAuthorizer, which
 * names the account it belongs to or refuses it. The account becomes the
 * viewer identity's `account` (signaling/viewer-transport.ts), so the
 * dispatcher, not WHEP, decides what it may do. `accountTokenAuthorizer`
 * takes the viewers' own tokens (`camgw viewer add`, docs/security.md), and
 * `sharedTokenAuthorizer` one configured token (`whep-token`) for players
 * that cannot hold one per viewer.
 */

export interface AuthorizedViewer {
  /** The account the token belongs to. */
  readonly account: string;
}

export interface WhepAuthorizer {
  /** The account for this token, or null to refuse it. Never throws for a bad token. */
  authorize(token: string): Promise<AuthorizedViewer | null>;
  /** Why every request is refused (e.g. no token configured), for the 401 body; undefined when tokens can pass. */
  readonly disabledReason?: string;
}

/**
 * The account name requests with the shared `whep-token` get: under the
 * prefix no viewer account may take (auth/account-store.ts RESERVED_PREFIX).
 */
export const SHARED_TOKEN_ACCOUNT = "camgw-whep";

/**
 * One shared token for every WHEP player. An empty token refuses every
 * request: a camera is a privacy device, and WHEP stays closed until it is
 * given credentials. Compared in constant time (hashes first, so the
 * lengths match).
 */
export function sharedTokenAuthorizer(token: string): WhepAuthorizer {
  if (token === "") {
    return {
      authorize: () => Promise.resolve(null),
      disabledReason: "WHEP is off: the gateway has no whep-token configured",
    };
  }
  const expected = createHash("sha256").update(token).digest();
  return {
    authorize(given: string): Promise<AuthorizedViewer | null> {
      const actual = createHash("sha256").update(given).digest();
      return Promise.resolve(
        timingSafeEqual(actual, expected) ? { account: SHARED_TOKEN_ACCOUNT } : null,
      );
    },
  };
}

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 section
 * 2.1: the scheme is case-insensitive, b64token characters only), or
 * undefined when there is none or it is malformed.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return m?.[1];
}

/**
 * The viewers' own bearer tokens (`token` of `camgw viewer add --json`),
 * then `fallback` (the shared whep-token) for a token that is none of them.
 */
export function accountTokenAuthorizer(
  verifyToken: (token: string) => Promise<string | undefined>,
  fallback: WhepAuthorizer,
): WhepAuthorizer {
  return {
    async authorize(token: string): Promise<AuthorizedViewer | null> {
      const account = await verifyToken(token);
      if (account !== undefined) return { account };
      return fallback.disabledReason === undefined ? fallback.authorize(token) : null;
    },
  };
}
