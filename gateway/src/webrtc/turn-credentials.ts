/**
 * Short-lived TURN credentials from a shared secret: the "TURN REST API"
 * scheme (draft-uberti-behave-turn-rest-00; RFC 7635 section 2 describes the
 * same idea) that coturn implements with `use-auth-secret` /
 * `static-auth-secret`. The username is the expiry time in Unix seconds,
 * ":" and a name (here the viewer's or the device's id, so the TURN
 * server's log says whose allocation it is); the password is
 * base64(HMAC-SHA1(secret, username)). The TURN server recomputes it from
 * the same secret, so nothing is stored or sent anywhere but to the user.
 */
import { createHmac } from "node:crypto";

export interface TurnCredentials {
  username: string;
  credential: string;
  /** Unix seconds after which the server refuses them for new allocations. */
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
