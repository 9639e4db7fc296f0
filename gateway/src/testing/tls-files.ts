import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "node:tls";
import { makeSelfSigned } from "../auth/tls-material.js";

/**
 * The TLS fixtures of the certificate-renewal tests (auth/tls-renewal.test.ts
 * on the classes, tls-reload.e2e.test.ts through `camgw run`): a user's own
 * certificate and key as files, renewed and broken the way certbot and a
 * half-finished copy leave them, and what a TLS client is shown.
 */

/** The names a loopback test's certificates are made for. */
export const LOOPBACK_NAMES = { dns: ["localhost"], ip: ["127.0.0.1", "::1"] };

/** A certificate cut off after its first line of base64, as a copy interrupted midway leaves it. */
export const HALF_WRITTEN_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n";

/** A user's own certificate and key files (`tls-cert`, `tls-key`) in a directory of the test's. */
export interface UserCertFiles {
  readonly cert: string;
  readonly key: string;
  /** Writes a new self-signed pair, certificate first then key (as certbot renews); its fingerprint. */
  renew(): Promise<string>;
  /** Overwrites the certificate with a half-written one (HALF_WRITTEN_CERT). */
  breakCert(): Promise<void>;
}

/** site.crt and site.key in `dir`, holding a new self-signed pair for LOOPBACK_NAMES. */
export async function userCertFiles(
  dir: string,
): Promise<UserCertFiles & { readonly fingerprint: string }> {
  const files = {
    cert: join(dir, "site.crt"),
    key: join(dir, "site.key"),
    async renew(): Promise<string> {
      const made = await makeSelfSigned(LOOPBACK_NAMES);
      await writeFile(files.cert, made.cert);
      await writeFile(files.key, made.key);
      return made.fingerprint;
    },
    async breakCert(): Promise<void> {
      await writeFile(files.cert, HALF_WRITTEN_CERT);
    },
  };
  const fingerprint = await files.renew();
  return { ...files, fingerprint };
}

/** The SHA-256 fingerprint of the certificate a TLS client is shown on 127.0.0.1:`port`. */
export function fingerprintSeen(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const seen = socket.getPeerX509Certificate()?.fingerprint256 ?? "";
      socket.end();
      resolve(seen);
    });
    socket.on("error", reject);
  });
}
