import type { EventEmitter } from "node:events";

/**
 * What device-side signaling needs from the media side. The WebRTC session
 * manager (gateway/src/webrtc) implements it structurally, so neither
 * directory imports the other; the app wires them together.
 */
export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** Why a session ended: the spec's `bye` reasons. */
export type ByeReason =
  "shutdown" | "timeout" | "ice-failed" | "source-lost" | "replaced" | "kicked";

export interface SessionHostEvents {
  /** A local ICE candidate to trickle to the viewer; null is end-of-candidates. */
  candidate: [viewerId: string, session: string, candidate: IceCandidateInit | null];
  /** The device ended a session by itself; signaling sends `bye` with the reason. */
  ended: [viewerId: string, session: string, reason: ByeReason];
}

export interface OfferRequest {
  viewerId: string;
  session: string;
  sdp: string;
  stream: string;
}

/**
 * Errors thrown by `offer` carry a spec error code as `code`:
 * "bad-request" (SDP does not parse), "unsupported" (no video / no H.264
 * packetization-mode=1 / unknown stream), "busy" (viewer limit), "internal".
 */
export interface SessionHost extends EventEmitter<SessionHostEvents> {
  /** Creates or replaces the session and resolves with the answer SDP. */
  offer(request: OfferRequest): Promise<string>;
  /** Adds a remote candidate; false when the session does not exist. */
  addCandidate(viewerId: string, session: string, candidate: IceCandidateInit | null): boolean;
  /** The viewer said bye: free the session (no reply). */
  bye(viewerId: string, session: string): void;
  /** Live sessions, negotiating ones included. */
  readonly sessionCount: number;
}
