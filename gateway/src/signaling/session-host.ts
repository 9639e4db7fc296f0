import type { EventEmitter } from "node:events";
import type { ByeReason, IceCandidate, IceServerEntry, SourceUpdate } from "./message-types.js";

/**
 * What the signaling dispatcher needs from the media side. The WebRTC session
 * manager (gateway/src/webrtc) implements it structurally, so neither
 * directory imports the other; the app wires them together. Whatever
 * transport a viewer came through, its sessions live here.
 *
 * The candidate and bye-reason types are the protocol's own (message-types.ts),
 * re-exported for the implementer.
 */
export type { ByeReason, IceCandidate, SourceUpdate } from "./message-types.js";

export interface SessionHostEvents {
  /** A local ICE candidate to trickle to the viewer; null is end-of-candidates. */
  candidate: [viewerId: string, session: string, candidate: IceCandidate | null];
  /** The device ended a session by itself; signaling sends `bye` with the reason. */
  ended: [viewerId: string, session: string, reason: ByeReason];
  /** The session's camera changed state (unavailable, recovering, live); signaling sends `source`. */
  source: [viewerId: string, session: string, update: SourceUpdate];
  /**
   * The session's media path is broken on the device's side (its address
   * changed, the viewer's consent checks stopped): signaling asks the viewer
   * to restart ICE (`ice-restart`).
   */
  "ice-restart": [viewerId: string, session: string, reason: string];
  /** A session's media flows; `path` describes its ICE candidate pair, for the log. */
  connected: [viewerId: string, session: string, path: string];
}

/** The STUN/TURN servers a viewer is given, credentials made for it (docs/signaling.md, "ICE servers"). */
export interface ViewerIceServers {
  iceServers: IceServerEntry[];
  /** Seconds the credentials stay valid; absent when there are none. */
  ttl?: number;
}

export interface OfferRequest {
  viewerId: string;
  session: string;
  sdp: string;
  stream: string;
  /** The transport the offer came through (ViewerTransport.via: "mqtt", "whep"), for stats. */
  transport?: string;
}

/**
 * Errors thrown by `offer` are SignalingErrors carrying the spec's code:
 * "bad-request" (SDP does not parse), "unsupported" (no video / no H.264
 * packetization-mode=1 / unknown stream), "busy" (viewer limit), "internal".
 * Anything else is a bug: the viewer gets a plain `internal`.
 */
export interface SessionHost extends EventEmitter<SessionHostEvents> {
  /** Creates or replaces the session and resolves with the answer SDP. */
  offer(request: OfferRequest): Promise<string>;
  /** Adds a remote candidate; false when the session does not exist. */
  addCandidate(viewerId: string, session: string, candidate: IceCandidate | null): boolean;
  /** The viewer said bye: free the session (no reply). */
  bye(viewerId: string, session: string): void;
  /**
   * Ends every session of a viewer (its account was removed): each is freed
   * and reported through `ended` with `reason`. Returns how many there were.
   */
  endViewer(viewerId: string, reason: ByeReason): number;
  /** Live sessions, negotiating ones included. */
  readonly sessionCount: number;
  /**
   * The ICE servers for this viewer, with fresh TURN credentials; a host
   * without it gives none (the viewer uses host candidates only).
   */
  iceServersFor?(viewerId: string): ViewerIceServers;
}
