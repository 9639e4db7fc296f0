/**
 * Which of a viewer's ICE candidates the device pairs with. Every candidate
 * werift accepts becomes candidate pairs and STUN checks sent to that
 * address, so a viewer could make the device send to any address it names:
 * other hosts on the LAN, services on the device's own loopback, multicast.
 * The device pairs only with what it could reach with what it gathers:
 *
 * - UDP only (werift 0.24 gathers UDP host/srflx/relay candidates, no ICE-TCP);
 * - the address families of its own host candidates (IPv4 only when it
 *   gathers IPv4 only), unless a TURN server relays (a relay may reach either);
 * - loopback only when it gathers on loopback itself (tests), never
 *   unspecified, multicast or broadcast addresses;
 * - IP addresses, or mDNS names (`.local`, RFC 6762; browsers hide host
 *   addresses behind them): no other host name, which werift would resolve
 *   through DNS;
 * - at most 32 per session (a browser sends a few per interface).
 *
 * Candidate attribute syntax: RFC 8839 5.1
 *   candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
 */
import { isIP } from "node:net";
import type { IceConfig } from "./ice-config.js";

export const MAX_REMOTE_CANDIDATES = 32;

export interface CandidatePolicy {
  /** Address families the device can pair with; null: any (a TURN relay is configured). */
  readonly families: ReadonlySet<4 | 6> | null;
  /** Whether loopback addresses are usable (the device gathers on loopback). */
  readonly loopback: boolean;
}

function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

/** The policy for what `ice` makes the device gather. */
export function candidatePolicy(ice: IceConfig): CandidatePolicy {
  const relayed = (ice.iceServers ?? []).some((server) =>
    (Array.isArray(server.urls) ? server.urls : [server.urls]).some((u) => /^turns?:/.test(u)),
  );
  if (ice.hostAddresses && ice.hostAddresses.length > 0) {
    const families = new Set<4 | 6>(ice.hostAddresses.map((a) => (isIP(a) === 6 ? 6 : 4)));
    return { families: relayed ? null : families, loopback: ice.hostAddresses.some(isLoopback) };
  }
  const families = new Set<4 | 6>(ice.useIpv6 === false ? [4] : [4, 6]);
  return { families: relayed ? null : families, loopback: false };
}

/** Why the device will not pair with `candidate`; undefined when it will. */
export function candidateRefusal(policy: CandidatePolicy, candidate: string): string | undefined {
  const text = candidate.replace(/^a=/, "").replace(/^candidate:/, "");
  const fields = text.split(/\s+/);
  const [, component, transport = "", , address = "", port = "", typ] = fields;
  if (fields.length < 8 || typ !== "typ" || !/^\d+$/.test(component ?? "")) {
    return "not an ICE candidate (RFC 8839 5.1)";
  }
  if (transport.toLowerCase() !== "udp") return `${transport} candidates are not gathered here`;
  const portNumber = Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
    return `port ${port} is not a port`;
  }
  const family = isIP(address);
  if (family === 0) {
    return /^[A-Za-z0-9-]+\.local$/.test(address)
      ? undefined
      : `host name ${address} is not an address (only mDNS .local names are resolved)`;
  }
  const special = specialAddress(address, family);
  if (special !== undefined) return special;
  if (isLoopback(address) && !policy.loopback) return "loopback addresses are not reachable";
  if (policy.families !== null && !policy.families.has(family as 4 | 6)) {
    return `IPv${family} is not gathered here`;
  }
  return undefined;
}

/** Addresses no viewer has: unspecified, multicast, broadcast. */
function specialAddress(address: string, family: number): string | undefined {
  if (family === 4) {
    const first = Number(address.split(".")[0]);
    if (address === "0.0.0.0") return "the unspecified address";
    if (first >= 224 && first <= 239) return "a multicast address";
    if (address === "255.255.255.255") return "the broadcast address";
    return undefined;
  }
  const lower = address.toLowerCase();
  if (lower === "::") return "the unspecified address";
  if (lower.startsWith("ff")) return "a multicast address";
  return undefined;
}
