/**
 * Short-lived TURN credentials from a shared secret, the "TURN REST API"
 * scheme coturn implements with `use-auth-secret` (draft-uberti-behave-turn-rest-00;
 * RFC 7635 section 2 describes the same idea): the username is the expiry
 * time in Unix seconds, optionally ":" and a name, and the password is
 * base64(HMAC-SHA1(secret, username)).
 */
import { createHmac } from "node:crypto";

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Unix seconds after which the server refuses them. */
  expires: number;
}

export function turnRestCredentials(
  secret: string,
  name: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): TurnCredentials {
  const expires = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = name ? `${expires}:${name}` : String(expires);
  const credential = createHmac("sha1", secret).update(username).digest("base64");
  return { username, credential, expires };
}
