import wrtc from "@roamhq/wrtc";
import { CONTROL_LABEL } from "../../control/control-messages.js";
import { DEFAULT_STREAM } from "../../signaling/message-types.js";
import type { IceCandidate } from "../../signaling/session-host.js";
import type { SessionManager } from "../session-manager.js";

function vp8PayloadType(sdp: string): string {
  return /^a=rtpmap:(\d+) VP8\/90000/m.exec(sdp)?.[1] ?? "96";
}

/** `sdp` (this peer's offer) with its VP8 payload type presented as H.264 (see LibwebrtcViewer). */
export function vp8AsH264(sdp: string): string {
  const vp8 = vp8PayloadType(sdp);
  return sdp.replace(
    new RegExp(`^a=rtpmap:${vp8} VP8/90000\\r\\n`, "m"),
    `a=rtpmap:${vp8} H264/90000\r\na=fmtp:${vp8} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n`,
  );
}

/**
 * A viewer on libwebrtc's own stack (@roamhq/wrtc 0.10.0: the SDP, ICE,
 * DTLS and SCTP Chromium runs), wired in-process to a SessionManager the
 * way signaling would be: a second peer independent of werift, for the
 * control DataChannel and for renegotiation as a browser does it
 * (transceiver.stop() rejects a section with port 0, a new transceiver
 * recycles it with a new mid, RFC 8829 section 5.2.2).
 *
 * libwebrtc in @roamhq/wrtc is built without H.264, and an offer without it
 * is refused (signaling spec, step 6): this peer presents its VP8 payload
 * type as H.264 to the gateway and reads each answer back as VP8. Its video
 * is counted as RTP, never decoded.
 */
export class LibwebrtcViewer {
  readonly pc: RTCPeerConnection = new wrtc.RTCPeerConnection();
  private readonly detach: () => void;

  constructor(
    private readonly manager: SessionManager,
    readonly viewerId: string,
    readonly session = "s1",
  ) {
    this.pc.addTransceiver("video", { direction: "recvonly" });
    this.pc.onicecandidate = ({ candidate }) => {
      // Loopback only: libwebrtc also gathers the host's own addresses.
      if (candidate && / 127\.0\.0\.1 /.test(candidate.candidate)) {
        manager.addCandidate(viewerId, session, {
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid,
          sdpMLineIndex: candidate.sdpMLineIndex,
        });
      }
    };
    const toViewer = (v: string, s: string, c: IceCandidate | null): void => {
      if (v === viewerId && s === session && c)
        void this.pc.addIceCandidate(c).catch(() => undefined);
    };
    manager.on("candidate", toViewer);
    this.detach = () => manager.off("candidate", toViewer);
  }

  /** Opens the control channel (negotiate() next, unless it is already negotiated). */
  openControl(): RTCDataChannel {
    return this.pc.createDataChannel(CONTROL_LABEL);
  }

  /** Makes an offer, has the manager answer it, applies the answer; returns the answer as the gateway wrote it. */
  async negotiate(): Promise<string> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    const sdp = offer.sdp ?? "";
    const vp8 = vp8PayloadType(sdp);
    const answer = await this.manager.offer({
      viewerId: this.viewerId,
      session: this.session,
      sdp: vp8AsH264(sdp),
      stream: DEFAULT_STREAM,
    });
    const asVp8 = answer
      .replace(new RegExp(`^a=rtpmap:${vp8} H264/90000`, "m"), `a=rtpmap:${vp8} VP8/90000`)
      .replace(new RegExp(`^a=fmtp:${vp8} .*\\r\\n`, "m"), "");
    await this.pc.setRemoteDescription({ type: "answer", sdp: asVp8 });
    return answer;
  }

  /** RTP packets received so far, per kind (inbound-rtp stats, every transceiver). */
  async received(): Promise<{ audio: number; video: number }> {
    const counts = { audio: 0, video: 0 };
    const report = await this.pc.getStats();
    report.forEach((s: { type: string; kind?: string; packetsReceived?: number }) => {
      if (s.type === "inbound-rtp" && (s.kind === "audio" || s.kind === "video")) {
        counts[s.kind] += s.packetsReceived ?? 0;
      }
    });
    return counts;
  }

  get connected(): boolean {
    return this.pc.connectionState === "connected";
  }

  close(): void {
    this.detach();
    this.pc.close();
  }
}
