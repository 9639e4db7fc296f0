import type { RTCPeerConnection } from "werift";

/**
 * werift 0.24.4 workaround, docs/werift.md "SCTP added by renegotiation".
 *
 * RTCPeerConnection.connect() (packages/webrtc/src/peerConnection.ts), run
 * after each answer, returns early for a transport whose ICE is already
 * connected, before its `sctpManager.connectSctp()`. So a DataChannel
 * section added by a renegotiation gets an SCTP transport that is never
 * started: the browser's INIT goes unanswered and the channel never opens.
 * Starting it ourselves once the answer is applied is what connect() would
 * have done (SctpTransportManager.connectSctp: start(remotePort), then wait
 * for the association); it is a no-op without an SCTP transport or its
 * remote port, and we call it only when the transport was not there before.
 */

interface SctpManagerView {
  sctpTransport?: { sctp?: { associationState?: number } };
  connectSctp(): Promise<void>;
}

/** The peer connection has an SCTP transport (a DataChannel section was negotiated). */
export function hasSctp(pc: RTCPeerConnection): boolean {
  return pc.sctpTransport !== undefined;
}

/** Starts the SCTP association of a DataChannel section that a renegotiation added. */
export function startSctpAddedByRenegotiation(pc: RTCPeerConnection): Promise<void> {
  const manager = Reflect.get(pc, "sctpManager") as SctpManagerView | undefined;
  if (!manager) return Promise.reject(new Error("werift has no sctpManager (changed?)"));
  return manager.connectSctp();
}
