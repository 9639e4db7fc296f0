/**
 * Debian's coturn (/usr/bin/turnserver) on the lab's internet: STUN and
 * TURN over UDP and TCP on 3478 and TLS on 5349, with the REST-API shared
 * secret (`use-auth-secret`), a certificate from the lab CA and a
 * configurable maximum allocation lifetime. Everything it writes (database,
 * pid file, log) stays in the lab's folder.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDaemon, waitForLog, type Daemon } from "./daemon.js";
import type { ServerCertificate } from "./lab-ca.js";
import { turnRestCredentials, type TurnCredentials } from "./turn-credentials.js";

export const TURN_PORT = 3478;
export const TURNS_PORT = 5349;
export const TURN_REALM = "camgw.lab";

export interface TurnServerOptions {
  /** coturn's max-allocate-lifetime in seconds (its default: 3600). */
  maxAllocateLifetimeS?: number;
}

/** What a lab user needs to use the TURN server. */
export interface TurnInfo {
  address: string;
  stunUrl: string;
  /**
   * turn: over UDP and TCP, turns: over TLS (checked against caFile), and a
   * plain turn: URL that leaves the transport to the client.
   */
  urls: { udp: string; tcp: string; tls: string; plain: string };
  /** The REST-API shared secret (coturn's static-auth-secret). */
  secret: string;
  realm: string;
  caFile: string;
  maxAllocateLifetimeS: number;
  logFile: string;
  /** REST credentials valid for ttlSeconds. */
  credentials(name: string, ttlSeconds?: number): TurnCredentials;
}

export async function startCoturn(
  ns: string,
  dir: string,
  address: string,
  /** A second address to listen on: answers RFC 5780 CHANGE-REQUESTs (turnutils_natdiscovery). */
  alternateAddress: string | undefined,
  certificate: ServerCertificate,
  caFile: string,
  options: TurnServerOptions = {},
): Promise<{ daemon: Daemon; info: TurnInfo }> {
  const secret = randomBytes(24).toString("hex");
  const lifetime = options.maxAllocateLifetimeS ?? 3600;
  const logFile = join(dir, "turnserver.log");
  const config = join(dir, "turnserver.conf");
  await writeFile(
    config,
    [
      `listening-ip=${address}`,
      ...(alternateAddress ? [`listening-ip=${alternateAddress}`] : []),
      `relay-ip=${address}`,
      `listening-port=${TURN_PORT}`,
      `tls-listening-port=${TURNS_PORT}`,
      "min-port=49152",
      "max-port=65535",
      "fingerprint",
      "use-auth-secret",
      `static-auth-secret=${secret}`,
      `realm=${TURN_REALM}`,
      `cert=${certificate.certFile}`,
      `pkey=${certificate.keyFile}`,
      "no-tlsv1",
      "no-tlsv1_1",
      // DTLS-to-the-server is no WebRTC transport; the CLI would listen on a port.
      "no-dtls",
      "no-cli",
      `max-allocate-lifetime=${lifetime}`,
      // Allocations, refreshes and deletions are logged: tests read them.
      "verbose",
      `log-file=${logFile}`,
      "simple-log",
      `pidfile=${join(dir, "turnserver.pid")}`,
      `userdb=${join(dir, "turndb")}`,
      "",
    ].join("\n"),
  );
  const daemon = startDaemon(ns, "turnserver", ["-c", config]);
  await waitForLog("coturn", daemon, logFile, [
    new RegExp(`UDP listener opened on: ${address.replace(/\./g, "\\.")}:${TURN_PORT}`),
    new RegExp(`TLS/TCP listener opened on : ${address.replace(/\./g, "\\.")}:${TURNS_PORT}`),
  ]);
  return {
    daemon,
    info: {
      address,
      stunUrl: `stun:${address}:${TURN_PORT}`,
      urls: {
        udp: `turn:${address}:${TURN_PORT}?transport=udp`,
        tcp: `turn:${address}:${TURN_PORT}?transport=tcp`,
        tls: `turns:${address}:${TURNS_PORT}?transport=tcp`,
        plain: `turn:${address}:${TURN_PORT}`,
      },
      secret,
      realm: TURN_REALM,
      caFile,
      maxAllocateLifetimeS: lifetime,
      logFile,
      credentials: (name, ttlSeconds = 86_400) => turnRestCredentials(secret, name, ttlSeconds),
    },
  };
}
