import type { PeerConfig, RTCIceCandidateInit } from "werift";
import type { IceCandidate } from "../signaling/session-host.js";

/** One STUN/TURN server, as in the W3C RTCIceServer dictionary. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface IceConfig {
  /** STUN/TURN servers; none by default (LAN: host candidates only). */
  iceServers?: IceServer[];
  /**
   * Gather host candidates on exactly these addresses (e.g. ["127.0.0.1"]
   * for loopback tests). werift skips loopback interfaces by default and
   * otherwise uses every non-internal address.
   */
  hostAddresses?: string[];
  /** UDP port range for host candidates, [min, max] with min < max. */
  portRange?: [number, number];
  /** Gather IPv6 host candidates too (default true, as werift). */
  useIpv6?: boolean;
  /**
   * CA certificates (PEM) that sign the turns: servers' certificates, in
   * place of Node's own list (NODE_EXTRA_CA_CERTS adds to that list instead).
   */
  turnTlsCa?: string;
}

/** The werift peer configuration for an IceConfig (no codecs). */
export function weriftIceOptions(ice: IceConfig): Partial<PeerConfig> {
  const options: Partial<PeerConfig> = {
    iceServers: (ice.iceServers ?? []).map((s) => ({ ...s })),
    icePortRange: ice.portRange,
    iceUseIpv6: ice.useIpv6 ?? true,
    ...(ice.turnTlsCa ? { turnTlsOptions: { ca: ice.turnTlsCa } } : {}),
  };
  if (ice.hostAddresses && ice.hostAddresses.length > 0) {
    // werift 0.24.4 (docs/werift.md "Host addresses"): with both families
    // off its own interface scan finds nothing and the additional addresses
    // are the whole list (packages/ice/src/ice.ts, gatherCandidates).
    options.iceUseIpv4 = false;
    options.iceUseIpv6 = false;
    options.iceAdditionalHostAddresses = [...ice.hostAddresses];
  }
  return options;
}

/**
 * A signaling candidate as werift's addIceCandidate takes it; null
 * (end-of-candidates, RFC 8838) becomes werift's empty candidate.
 */
export function weriftCandidate(candidate: IceCandidate | null): RTCIceCandidateInit {
  if (candidate === null) return { candidate: "" };
  return {
    candidate: candidate.candidate,
    sdpMid: candidate.sdpMid ?? undefined,
    sdpMLineIndex: candidate.sdpMLineIndex ?? undefined,
    usernameFragment: candidate.usernameFragment ?? undefined,
  };
}
