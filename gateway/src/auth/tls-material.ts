/**
 * The certificate and key of the gateway's HTTPS and MQTT-over-TLS
 * listeners: the user's own (`tls-cert`/`tls-key`), or a self-signed one the
 * gateway makes on first start and keeps in the state directory. A person
 * checks a self-signed certificate by its SHA-256 fingerprint, which camgw
 * prints at start and in `camgw viewer add`.
 *
 * The self-signed certificate is what iOS and macOS still accept for a
 * TLS server (Apple, "Requirements for trusted certificates in iOS 13 and
 * macOS 10.15"): ECDSA P-256 with SHA-256, names in subjectAltName, the
 * serverAuth extended key usage, and at most 825 days of validity. It is
 * made again when fewer than 30 days are left (the fingerprint changes then,
 * and the log says so).
 */
import { createPrivateKey, webcrypto, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname as osHostname } from "node:os";
import * as x509 from "@peculiar/x509";
import { StateError } from "../errors.js";
import { lanAddresses } from "../lan-addresses.js";
import { readStateFile, writeStateFile } from "./state-dir.js";

export const CERT_FILE = "tls-cert.pem";
export const KEY_FILE = "tls-key.pem";
const VALID_DAYS = 825;
const RENEW_DAYS = 30;
const DAY_MS = 86_400_000;

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 of the DER certificate, colon-separated hex (as browsers show it). */
  fingerprint: string;
  /** Where it came from: the user's files, or the state directory. */
  origin: "configured" | "self-signed";
  /** True when this start made a new self-signed certificate. */
  created: boolean;
}

export interface TlsOptions {
  stateDir: string;
  /** The user's PEM files; both or neither. */
  certFile?: string;
  keyFile?: string;
  /** Names for a new certificate; default: hostnameAndAddresses(). */
  names?: { dns: string[]; ip: string[] };
  now?: Date;
}

/** This machine's names for a certificate: host name, localhost, loopback and LAN addresses. */
export function hostnameAndAddresses(): { dns: string[]; ip: string[] } {
  const host = osHostname();
  const dns = ["localhost", ...(host && host !== "localhost" ? [host, `${host}.local`] : [])];
  const ip = ["127.0.0.1", "::1", ...lanAddresses()];
  return { dns: [...new Set(dns)], ip: [...new Set(ip)] };
}

function fingerprintOf(cert: string, where: string): X509Certificate {
  try {
    return new X509Certificate(cert);
  } catch (err) {
    throw new StateError(`${where} is not a PEM certificate: ${(err as Error).message}`, {
      path: where,
    });
  }
}

async function readUserFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new StateError(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`, {
      path,
    });
  }
}

/** The listeners' certificate and key: the configured files, or the self-signed pair. */
export async function loadTlsMaterial(options: TlsOptions): Promise<TlsMaterial> {
  if (options.certFile || options.keyFile) {
    if (!options.certFile || !options.keyFile) {
      throw new StateError("tls-cert and tls-key go together: set both, or neither");
    }
    const cert = await readUserFile(options.certFile, "certificate");
    const key = await readUserFile(options.keyFile, "key");
    const parsed = fingerprintOf(cert, options.certFile);
    if (!parsed.checkPrivateKey(createPrivateKey(key))) {
      throw new StateError(`${options.keyFile} is not the key of ${options.certFile}`);
    }
    return { cert, key, fingerprint: parsed.fingerprint256, origin: "configured", created: false };
  }
  const now = options.now ?? new Date();
  const cert = await readStateFile(options.stateDir, CERT_FILE);
  const key = await readStateFile(options.stateDir, KEY_FILE);
  if (cert !== undefined && key !== undefined) {
    const parsed = fingerprintOf(cert, `${options.stateDir}/${CERT_FILE}`);
    const left = new Date(parsed.validTo).getTime() - now.getTime();
    if (left > RENEW_DAYS * DAY_MS) {
      return {
        cert,
        key,
        fingerprint: parsed.fingerprint256,
        origin: "self-signed",
        created: false,
      };
    }
  }
  const made = await makeSelfSigned(options.names ?? hostnameAndAddresses(), now);
  // Key first: a crash between the two leaves a key without a certificate,
  // which the next start simply replaces.
  await writeStateFile(options.stateDir, KEY_FILE, made.key);
  await writeStateFile(options.stateDir, CERT_FILE, made.cert);
  return { ...made, origin: "self-signed", created: true };
}

/** A new self-signed ECDSA P-256 certificate for `names`. */
export async function makeSelfSigned(
  names: { dns: string[]; ip: string[] },
  now = new Date(),
): Promise<{ cert: string; key: string; fingerprint: string }> {
  x509.cryptoProvider.set(webcrypto as Crypto);
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  // A positive INTEGER (RFC 5280 4.1.2.2): clear the top bit.
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: `CN=camgw ${osHostname() || "gateway"}`,
    notBefore: new Date(now.getTime() - DAY_MS),
    notAfter: new Date(now.getTime() + VALID_DAYS * DAY_MS),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: "dns" as const, value })),
        ...names.ip.map((value) => ({ type: "ip" as const, value })),
      ]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const cert = certificate.toString("pem") + "\n";
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" })
    .export({ format: "pem", type: "pkcs8" })
    .toString();
  return { cert, key, fingerprint: new X509Certificate(cert).fingerprint256 };
}
