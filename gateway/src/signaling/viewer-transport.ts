/**
 * The seam between the transports that carry signaling (the MQTT link today,
 * WHEP over HTTP later) and the dispatcher that applies the protocol. A
 * transport hands the dispatcher each message a viewer sent together with a
 * ViewerTransport: who sent it, as the transport established it, and the way
 * back to that viewer. It is the device-side mirror of `CallTransport`
 * (viewer-call.ts), which is the way from one call to its device.
 *
 *   MQTT link ──(viewer, payload)──▶ SignalingDispatcher ──▶ SessionHost
 *   WHEP      ──(viewer, payload)──▶        │
 *   viewer.send(answer | candidate | bye | error) ◀──────────┘
 */
import type { ViewerInbound } from "./message-types.js";

/**
 * Who sent a message. It comes from the transport (the MQTT topic level
 * rx/<viewerId>, later a WHEP resource) and travels with every message into
 * the dispatcher; the dispatcher, not the transport, decides what a viewer
 * may do.
 */
export interface ViewerIdentity {
  /**
   * The id the session host keeps this viewer's sessions under. Transports
   * that share a dispatcher give out ids that do not collide.
   */
  readonly viewerId: string;
  /**
   * The account the transport authenticated (an MQTT username the broker
   * enforces, a WHEP bearer token's subject); undefined for an anonymous
   * viewer, which every viewer is until the transports authenticate.
   */
  readonly account?: string;
}

/** One viewer as a transport reaches it. */
export interface ViewerTransport {
  readonly identity: ViewerIdentity;
  /** The transport's name for logs and error context: "mqtt", later "whep". */
  readonly via: string;
  /**
   * Sends one message to this viewer (a reply, a trickled candidate, a bye).
   * Resolves once the transport has it on its way; rejects when it cannot be
   * sent (the dispatcher counts it as dropped and reports the error).
   */
  send(message: ViewerInbound): Promise<void>;
}

/** Where a transport delivers what viewers send: the dispatcher. */
export interface InboundSink {
  /** One message as received, before any check (the dispatcher applies the spec's order). */
  receive(from: ViewerTransport, payload: Uint8Array | string): void;
}
