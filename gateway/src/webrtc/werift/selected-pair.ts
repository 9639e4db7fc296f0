import type { RTCPeerConnection } from "werift";
import type { TurnTransport } from "../ice-server-provider.js";
import { turnClientTransport } from "./ice-servers.js";

/** One end of the ICE candidate pair in use (RFC 8445 candidate types). */
export interface PairEnd {
  type: string;
  protocol: string;
  address: string;
  port: number;
  /**
   * For a local relay candidate: how this peer reaches its TURN server
   * (RFC 8656 allows UDP, TCP and TLS; the candidate itself is always UDP).
   */
  relayProtocol?: TurnTransport;
}

/** The candidate pair ICE nominated: which path the media takes (host, srflx, prflx, relay). */
export interface SelectedPair {
  local: PairEnd;
  remote: PairEnd;
}

/**
 * The nominated pair of a werift peer connection's first (bundled) ICE
 * transport, or null before ICE has one. werift 0.24.4 keeps it as
 * `Connection.nominated` (packages/ice/src/ice.ts); the local end's TURN
 * client leg is in the pair's protocol (ice-servers.ts, turnClientTransport).
 */
export function selectedPair(pc: RTCPeerConnection | undefined): SelectedPair | null {
  const pair = pc?.iceTransports[0]?.connection.nominated;
  if (!pair) return null;
  const end = (c: typeof pair.localCandidate): PairEnd => ({
    type: c.type,
    protocol: c.transport.toLowerCase(),
    address: c.host,
    port: c.port,
  });
  const local = end(pair.localCandidate);
  const relayProtocol = turnClientTransport(pair.protocol);
  return {
    local: relayProtocol ? { ...local, relayProtocol } : local,
    remote: end(pair.remoteCandidate),
  };
}

/** "relay(tcp) 198.18.0.2:50000 -> prflx 198.18.11.2:4000", for logs and reports. */
export function describePair(pair: SelectedPair): string {
  const end = (e: PairEnd): string =>
    `${e.type}${e.relayProtocol ? `(${e.relayProtocol})` : ""} ${e.address}:${e.port}/${e.protocol}`;
  return `${end(pair.local)} -> ${end(pair.remote)}`;
}
