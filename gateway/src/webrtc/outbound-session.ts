import { EventEmitter } from "node:events";
import type { ByeReason } from "../signaling/session-host.js";
import type { IceServer } from "./ice-config.js";
import type { SdpCodec } from "./offer-sdp.js";
import type { ViewerSession } from "./viewer-session.js";

/**
 * A session we open towards a media server (WHIP egress, RFC 9725) rather
 * than one a viewer asks for: the session manager keeps it with the
 * viewers' sessions (same fan-out, encoder, key frame requests, liveness
 * rule, shutdown) and hands its owner this handle. We offer, the server
 * answers; its end is reported here, never to signaling.
 */

export interface OutboundRequest {
  /** Names the session with the manager, like a viewer id (e.g. "whip"). */
  viewerId: string;
  session: string;
  stream: string;
  /** The transport name stats count it under ("whip"). */
  transport: string;
  /** ICE servers for this session on top of the gateway's own (a WHIP server's Link headers). */
  iceServers?: IceServer[];
}

export interface OutboundSessionEvents {
  /** DTLS is up: media flows. */
  connected: [];
  /** The session ended by itself or for shutdown (never after close()). */
  ended: [ByeReason];
}

/**
 * The codec we offer: H.264 packetization-mode=1 with the stream's profile
 * (RFC 6184 section 8.1), as a receiver must decode exactly what the
 * encoder makes, with level-asymmetry-allowed so the level need not match.
 */
export function offerCodec(profileLevelId: string): SdpCodec {
  return {
    payloadType: 96,
    name: "H264",
    clockRate: 90_000,
    channels: undefined,
    parameters: new Map([
      ["level-asymmetry-allowed", "1"],
      ["packetization-mode", "1"],
      ["profile-level-id", profileLevelId],
    ]),
  };
}

export class OutboundSession extends EventEmitter<OutboundSessionEvents> {
  readonly viewerId: string;
  readonly session: string;
  /** Our offer, candidates included (set once the session manager has made it). */
  offerSdp = "";
  #viewer: ViewerSession | undefined;
  #closed = false;
  readonly #close: () => void;

  /** `close` ends the session in the session manager (its bye). */
  constructor(viewerId: string, session: string, close: () => void) {
    super();
    this.viewerId = viewerId;
    this.session = session;
    this.#close = close;
  }

  get state(): ViewerSession["state"] {
    return this.#closed ? "closed" : (this.#viewer?.state ?? "new");
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Called by the session manager once the offer is made. */
  bind(viewer: ViewerSession, offerSdp: string): void {
    this.#viewer = viewer;
    this.offerSdp = offerSdp;
    viewer.on("connected", () => this.emit("connected"));
  }

  /** Applies the media server's answer. */
  acceptAnswer(sdp: string): Promise<void> {
    const viewer = this.#viewer;
    if (!viewer || this.#closed) return Promise.reject(new Error("outbound session is closed"));
    return viewer.acceptAnswer(sdp);
  }

  /** Called by the session manager when the session ended by itself. */
  end(reason: ByeReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit("ended", reason);
    this.removeAllListeners();
  }

  /** Ends the session now (idempotent); emits nothing. */
  close(): void {
    if (this.#closed) return;
    this.#close();
    this.markClosed();
  }

  /** Called by the session manager when the session is gone (bye, close()). */
  markClosed(): void {
    this.#closed = true;
    this.removeAllListeners();
  }
}
