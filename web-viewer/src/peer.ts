/**
 * This browser's peer connection to one camera: a recvonly H.264
 * transceiver tuned for latency, and a sendrecv Opus transceiver: the
 * camera's microphone comes in on it, and push-to-talk puts this browser's
 * microphone on its sender (replaceTrack, no renegotiation; nothing is sent
 * and no permission is asked until then). A camera without sound answers
 * that section inactive (docs/signaling.md "Audio"). It also opens the
 * control DataChannel (docs/control.md; reliable and ordered). It makes the
 * offer, applies the answer, and queues remote candidates until the answer
 * is in (trickled candidates may arrive while setRemoteDescription is still
 * running). The offer can be
 * sent before gathering starts, so that ICE servers the camera gives can
 * still be used for it (docs/signaling.md, "ICE servers"). An ICE restart
 * uses a new CameraPeerConnection on the same signaling session (see
 * camera-call.ts).
 */
import type { IceCandidate } from "../../gateway/src/signaling/messages.js";
import { CONTROL_LABEL } from "../../gateway/src/control/control-messages.js";
import { TypedEmitter } from "../../gateway/src/signaling/typed-emitter.js";
import { preferredCodecs } from "./codecs.js";

export interface CameraPeerConnectionEvents extends Record<string, unknown[]> {
  /** The video arrived, in its stream (the camera's audio, if any, is in the same stream). */
  track: [stream: MediaStream];
  /** A local candidate to trickle; null is end-of-candidates. */
  candidate: [candidate: IceCandidate | null];
  "ice-state": [state: RTCIceConnectionState];
}

/** Why this browser cannot play a camera, or undefined when it can. */
export function playbackProblem(): string | undefined {
  if (typeof RTCPeerConnection === "undefined")
    return "this browser has no WebRTC (RTCPeerConnection)";
  const caps =
    typeof RTCRtpReceiver.getCapabilities === "function"
      ? RTCRtpReceiver.getCapabilities("video")
      : null;
  // Without getCapabilities we cannot tell; the camera will say "unsupported" if it is so.
  if (caps && preferredCodecs(caps.codecs).length === 0) {
    return "this browser cannot receive H.264 (packetization-mode 1)";
  }
  return undefined;
}

type LatencyReceiver = RTCRtpReceiver & { playoutDelayHint?: number | null };

export class CameraPeerConnection extends TypedEmitter<CameraPeerConnectionEvents> {
  readonly pc: RTCPeerConnection;
  readonly receiver: RTCRtpReceiver;
  readonly #config: RTCConfiguration;
  #offer: RTCSessionDescriptionInit | undefined;
  #gathering: Promise<void> | undefined;
  /** Where push-to-talk puts the microphone track (null: silent). */
  readonly talkSender: RTCRtpSender;
  /** The camera's control channel (docs/control.md). */
  readonly control: RTCDataChannel;
  #answered: Promise<void> = Promise.resolve();
  #markAnswered: () => void = () => undefined;
  #closed = false;

  constructor(config: RTCConfiguration = {}) {
    super();
    // No ICE servers by default: cameras and viewers share a LAN (the gateway
    // does the same); config may add STUN/TURN.
    this.#config = { bundlePolicy: "max-bundle", ...config };
    this.pc = new RTCPeerConnection(this.#config);
    const transceiver = this.pc.addTransceiver("video", { direction: "recvonly" });
    const caps = RTCRtpReceiver.getCapabilities("video");
    const codecs = caps ? preferredCodecs(caps.codecs) : [];
    if (codecs.length > 0 && typeof transceiver.setCodecPreferences === "function") {
      transceiver.setCodecPreferences(codecs);
    }
    negotiateCaptureTime(transceiver);
    this.receiver = transceiver.receiver;
    tuneForLatency(this.receiver);
    this.talkSender = this.pc.addTransceiver("audio", { direction: "sendrecv" }).sender;
    this.control = this.pc.createDataChannel(CONTROL_LABEL);
    this.pc.addEventListener("track", (event) => {
      // The camera puts audio and video in one stream (so the browser lip-syncs
      // them); the video's track event is the one that sets the picture.
      if (event.track.kind !== "video") return;
      this.emit("track", event.streams[0] ?? new MediaStream([event.track]));
    });
    this.pc.addEventListener("icecandidate", (event) => {
      const candidate = event.candidate;
      if (candidate === null) {
        this.emit("candidate", null);
      } else if (candidate.candidate !== "") {
        // An empty candidate string is the legacy per-section end marker; null follows.
        this.emit("candidate", candidate.toJSON() as IceCandidate);
      }
    });
    this.pc.addEventListener("iceconnectionstatechange", () => {
      this.emit("ice-state", this.pc.iceConnectionState);
    });
  }

  /**
   * The local offer, not applied yet: nothing is gathered until gather()
   * (candidates trickle then). Remote candidates wait until its answer is in.
   */
  async makeOffer(): Promise<string> {
    this.#answered = new Promise((resolve) => {
      this.#markAnswered = resolve;
    });
    const offer = await this.pc.createOffer();
    this.#offer = offer;
    return offer.sdp ?? "";
  }

  /**
   * Applies the offer, which starts gathering; with `iceServers` given they
   * replace the constructor's first (setConfiguration before
   * setLocalDescription: nothing has been gathered with the old ones). Once only.
   */
  gather(iceServers?: RTCIceServer[]): Promise<void> {
    if (this.#gathering) return this.#gathering;
    const offer = this.#offer;
    if (!offer) return Promise.reject(new Error("gather() before makeOffer()"));
    if (iceServers) this.pc.setConfiguration({ ...this.#config, iceServers });
    this.#gathering = this.pc.setLocalDescription(offer);
    return this.#gathering;
  }

  async acceptAnswer(sdp: string): Promise<void> {
    await this.gather();
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    // Chrome may reset the receiver's hints on renegotiation; set them again.
    tuneForLatency(this.receiver);
    this.#markAnswered();
  }

  addRemoteCandidate(candidate: IceCandidate | null): void {
    void this.#answered
      .then(() => (this.#closed ? undefined : this.pc.addIceCandidate(candidate ?? undefined)))
      .catch((err: unknown) => {
        // One bad candidate (e.g. an address family this host lacks) must not end the call.
        console.warn("camgw viewer: remote candidate rejected", candidate, err);
      });
  }

  /** Whether the camera answered with sound we may hear / may talk into. */
  audioDirections(): { listen: boolean; talk: boolean } {
    const transceiver = this.pc.getTransceivers().find((t) => t.sender === this.talkSender);
    const dir = transceiver?.currentDirection ?? null;
    return {
      listen: dir === "recvonly" || dir === "sendrecv",
      talk: dir === "sendonly" || dir === "sendrecv",
    };
  }

  getStats(): Promise<RTCStatsReport> {
    return this.pc.getStats();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#markAnswered();
    this.pc.close();
    this.removeAllListeners();
  }
}

const ABS_CAPTURE_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";

type HeaderExtensionControl = RTCRtpTransceiver & {
  getHeaderExtensionsToNegotiate?: () => {
    uri: string;
    direction: RTCRtpTransceiverDirection | "stopped";
  }[];
  setHeaderExtensionsToNegotiate?: (
    extensions: { uri: string; direction: RTCRtpTransceiverDirection | "stopped" }[],
  ) => void;
};

/**
 * Offers abs-capture-time, which Chromium knows but leaves out of its offers
 * ("stopped" in getHeaderExtensionsToNegotiate), so the camera's capture
 * time of each frame reaches getSynchronizationSources() (capture-clock.ts).
 * RTP header extension control (webrtc-extensions); browsers without it
 * simply do not offer it.
 */
function negotiateCaptureTime(transceiver: HeaderExtensionControl): void {
  try {
    const extensions = transceiver.getHeaderExtensionsToNegotiate?.();
    if (!extensions || !transceiver.setHeaderExtensionsToNegotiate) return;
    transceiver.setHeaderExtensionsToNegotiate(
      extensions.map((e) => (e.uri === ABS_CAPTURE_TIME ? { ...e, direction: "recvonly" } : e)),
    );
  } catch {
    // An implementation that refuses the change negotiates without it.
  }
}

/**
 * jitterBufferTarget 0 asks for the smallest buffer the receiver can manage
 * (webrtc-extensions); playoutDelayHint is Chrome's older, non-standard knob
 * in seconds. Neither adds delay when the network is clean.
 */
function tuneForLatency(receiver: LatencyReceiver): void {
  try {
    if ("jitterBufferTarget" in receiver) receiver.jitterBufferTarget = 0;
  } catch {
    // Older implementations throw on 0 (they want null); the default is fine there.
  }
  if ("playoutDelayHint" in receiver) receiver.playoutDelayHint = 0;
}
