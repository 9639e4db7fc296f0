/**
 * Secrets camgw makes (viewer passwords, bearer tokens, the device's broker
 * password) and how it keeps them: only a hash, in Mosquitto 2's own format
 * (`$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512>`, mosquitto
 * 2.0 src/password_mosq.c), so `camgw broker-config mosquitto` can hand the
 * same hashes to an external Mosquitto without ever knowing the passwords.
 *
 * Every secret is 144 or more random bits, never chosen by a person: no
 * dictionary applies, and the iteration count only has to make a leaked file
 * useless, not slow down guessing. Hashing runs in libuv's thread pool
 * (crypto.pbkdf2), never on the event loop.
 */
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";

/** PBKDF2 iterations for new hashes: ~5 ms on a desktop core, ~25 ms on a Pi 4. */
export const HASH_ITERATIONS = 10_000;
const SALT_BYTES = 12;
const KEY_BYTES = 64;
const FORMAT = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/**
 * A random secret of `bytes` bytes as base64url (URL, header and MQTT safe).
 * Never one that starts with "-": people paste these after a flag
 * (`camgw probe --password ...`), and Node's parseArgs takes a value that
 * starts with "-" for an option (one secret in 64 would be refused).
 */
export function randomSecret(bytes = 18): string {
  for (;;) {
    const secret = randomBytes(bytes).toString("base64url");
    if (!secret.startsWith("-")) return secret;
  }
}

function derive(secret: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(secret, salt, iterations, KEY_BYTES, "sha512", (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

/** The stored form of a secret: a salted PBKDF2-SHA512 hash in Mosquitto's `$7$` format. */
export async function hashSecret(secret: string, iterations = HASH_ITERATIONS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(secret, salt, iterations);
  return `$7$${iterations}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** True when `hash` is in the format hashSecret writes. */
export function isSecretHash(hash: string): boolean {
  return FORMAT.test(hash);
}

/** Whether `secret` matches `hash` (constant time in the secret; false for a malformed hash). */
export async function verifySecret(secret: string, hash: string): Promise<boolean> {
  const m = FORMAT.exec(hash);
  if (!m) return false;
  const iterations = Number(m[1]);
  const expected = Buffer.from(m[3] ?? "", "base64");
  if (iterations < 1 || expected.length !== KEY_BYTES) return false;
  const key = await derive(secret, Buffer.from(m[2] ?? "", "base64"), iterations);
  return timingSafeEqual(key, expected);
}

/**
 * Remembers secrets that verified, so a viewer that reconnects (a page
 * reload, a phone waking up) does not pay the hash again. Keyed by a SHA-256
 * of the secret, in memory only; cleared whenever the accounts change.
 */
export class VerifiedSecrets {
  readonly #seen = new Map<string, true>();
  readonly #limit: number;

  constructor(limit = 256) {
    this.#limit = limit;
  }

  static #key(account: string, secret: string): string {
    return `${account}\u0000${createHash("sha256").update(secret).digest("base64")}`;
  }

  has(account: string, secret: string): boolean {
    return this.#seen.has(VerifiedSecrets.#key(account, secret));
  }

  add(account: string, secret: string): void {
    if (this.#seen.size >= this.#limit) {
      const oldest = this.#seen.keys().next();
      if (!oldest.done) this.#seen.delete(oldest.value);
    }
    this.#seen.set(VerifiedSecrets.#key(account, secret), true);
  }

  clear(): void {
    this.#seen.clear();
  }
}
