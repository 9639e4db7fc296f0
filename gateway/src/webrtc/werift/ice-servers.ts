import { parseIceServers, type RTCIceServer, type RTCPeerConnection } from "werift";
import type { TurnTransport } from "../ice-server-provider.js";

/**
 * werift 0.24.4 workaround, docs/werift.md "ICE servers after construction".
 *
 * werift reads its ICE servers once, when a transport is made
 * (RTCPeerConnection.createTransport: `parseIceServers(this.config.iceServers)`
 * into the RTCIceGatherer's Connection options), and has no
 * setConfiguration(). A viewer that learns its servers from the device after
 * it made its offer sets them here, on every transport, before
 * setLocalDescription starts gathering (packages/ice/src/ice.ts,
 * getCandidatePromises reads `this.stunServer`, `this.turnServer` and
 * `this.options.turn*` then). Like werift, only the first STUN and the first
 * TURN URL are used. No STUN URL clears werift's default public STUN server
 * (see default-stun.ts).
 */
export function setIceServersBeforeGathering(
  pc: RTCPeerConnection,
  servers: readonly RTCIceServer[],
): void {
  const parsed = parseIceServers([...servers]);
  pc.config.iceServers = [...servers];
  for (const transport of pc.iceTransports) {
    const connection = transport.connection;
    connection.stunServer = parsed.stunServer;
    connection.turnServer = parsed.turnServer;
    connection.options.turnUsername = parsed.turnUsername;
    connection.options.turnPassword = parsed.turnPassword;
    connection.options.turnTransport = parsed.turnTransport;
  }
}

/** The part of werift's StunOverTurnProtocol (packages/ice/src/turn/protocol.ts) read here. */
interface TurnProtocolShape {
  type: string;
  turn?: { transport?: { type?: unknown } };
}

/**
 * The transport between this peer and its TURN server (the client leg of a
 * relay candidate): werift's candidate says only "udp" (the relayed
 * transport) and keeps the client leg in the protocol object,
 * `StunOverTurnProtocol.turn.transport.type` ("udp", "tcp", "tls").
 */
export function turnClientTransport(protocol: unknown): TurnTransport | undefined {
  const p = protocol as TurnProtocolShape | undefined;
  if (p?.type !== "turn") return undefined;
  const type = p.turn?.transport?.type;
  return type === "udp" || type === "tcp" || type === "tls" ? type : undefined;
}

/**
 * The transport of the TURN allocation a peer connection made, if any:
 * werift keeps its protocols (one per host socket, one for TURN) in the
 * Connection's private `protocols`.
 */
export function relayAllocationTransport(pc: RTCPeerConnection): TurnTransport | undefined {
  for (const transport of pc.iceTransports) {
    const protocols = (transport.connection as unknown as { protocols?: unknown[] }).protocols;
    for (const protocol of protocols ?? []) {
      const type = turnClientTransport(protocol);
      if (type) return type;
    }
  }
  return undefined;
}
