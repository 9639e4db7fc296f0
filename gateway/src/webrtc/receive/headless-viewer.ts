import { EventEmitter } from "node:events";
import {
  GenericNack,
  RTCPeerConnection,
  RtcpSrPacket,
  RtcpTransportLayerFeedback,
  useAbsSendTime,
  useH264,
  useSdesMid,
  type MediaStreamTrack,
  type RTCRtpTransceiver,
  type RtpPacket,
} from "werift";
import type { IceCandidate } from "../../signaling/session-host.js";
import {
  weriftCandidate,
  weriftIceOptions,
  type IceConfig,
  type IceServer,
} from "../ice-config.js";
import { clearDefaultStunServer } from "../werift/default-stun.js";
import { fullIntraRequest } from "../werift/fir.js";
import { setIceServersBeforeGathering } from "../werift/ice-servers.js";
import { selectedPair, type SelectedPair } from "../werift/selected-pair.js";
import { FrameAssembler, type ReceivedFrame } from "./frame-assembler.js";

/**
 * A viewer without a browser, for `camgw probe` and tests: a werift peer
 * that offers to receive H.264 (packetization-mode=1), applies the answer
 * and trickled candidates, turns received RTP back into access units, and
 * sends the feedback a browser would (PLI, FIR, NACK). The receiving
 * counterpart of the gateway's ViewerSession.
 */

export type { ReceivedFrame } from "./frame-assembler.js";

export interface HeadlessViewerOptions {
  ice?: IceConfig;
  /** How long a missing packet is waited for before the frame is dropped (default 300 ms). */
  maxWaitMs?: number;
  /** Repeat the PLI this often while waiting for a key frame (default 1000 ms). */
  keyFrameRetryMs?: number;
  /**
   * Simulated loss for tests: packets for which this returns true are
   * dropped after werift has seen them (so werift's own NACK logic does not
   * ask for them; `sendNack` does).
   */
  dropPacket?: (sequenceNumber: number) => boolean;
}

export interface HeadlessViewerEvents {
  candidate: [IceCandidate | null];
  frame: [ReceivedFrame];
  /** Every RTP packet as it arrives (after dropPacket), for tests and stats. */
  rtp: [RtpPacket];
  connectionState: [string];
  /** An RTCP sender report (RFC 3550 section 6.4.1): the sender's NTP/RTP clock mapping. */
  senderReport: [SenderReport];
}

export interface SenderReport {
  /** 64-bit NTP timestamp as sent (seconds since 1900 << 32 | fraction). */
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export { unixUsFromNtp } from "../../rtp/ntp.js";

export { describePair, type PairEnd, type SelectedPair } from "../werift/selected-pair.js";

export interface HeadlessViewerStats {
  packetsReceived: number;
  packetsLost: number;
  packetsDropped: number;
  bytesReceived: number;
  frames: number;
  keyFrames: number;
  framesDropped: number;
  plisSent: number;
  nacksSent: number;
  /** µs since the Unix epoch, when createOffer was called / the first frame completed. */
  startedAtUs: number;
  firstFrameAtUs: number | undefined;
}

const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

export class HeadlessViewer extends EventEmitter<HeadlessViewerEvents> {
  private readonly pc: RTCPeerConnection;
  private readonly ice: IceConfig;
  private readonly transceiver: RTCRtpTransceiver;
  private readonly assembler: FrameAssembler;
  private readonly dropPacket: ((seq: number) => boolean) | undefined;
  private readonly keyFrameRetryMs: number;
  private readonly unsubscribers: (() => void)[] = [];
  private readonly heldCandidates: (IceCandidate | null)[] = [];
  private released = false;
  private offer: { type: "offer"; sdp: string } | undefined;
  /** setLocalDescription: werift gathers inside it, and the answer may only follow it. */
  private gathering: Promise<void> | undefined;
  private mediaSsrc: number | undefined;
  // The gateway sends an IDR on join by itself; PLI only if none came within keyFrameRetryMs.
  private lastPliAt = performance.now();
  private wantKeyFrame = true;
  private closed = false;
  private firSequence = 0;
  private readonly counters = { bytes: 0, dropped: 0, frames: 0, keyFrames: 0, plis: 0, nacks: 0 };
  private readonly startedAtUs = nowUs();
  private firstFrameAtUs: number | undefined;

  constructor(options: HeadlessViewerOptions = {}) {
    super();
    this.ice = options.ice ?? {};
    this.dropPacket = options.dropPacket;
    this.keyFrameRetryMs = options.keyFrameRetryMs ?? 1000;
    this.pc = new RTCPeerConnection({
      ...weriftIceOptions(this.ice),
      codecs: { audio: [], video: [useH264()] },
      headerExtensions: { audio: [], video: [useSdesMid(), useAbsSendTime()] },
    });
    this.transceiver = this.pc.addTransceiver("video", { direction: "recvonly" });
    clearDefaultStunServer(this.pc, this.ice);
    this.assembler = new FrameAssembler({
      maxWaitMs: options.maxWaitMs,
      onFrame: (frame) => this.onFrame(frame),
      onNeedKeyFrame: () => {
        this.wantKeyFrame = true;
        this.requestKeyFrame();
      },
    });
    const subs = [
      this.pc.onTrack.subscribe((track: MediaStreamTrack) => {
        const sub = track.onReceiveRtp.subscribe((rtp) => this.onRtp(rtp));
        this.unsubscribers.push(() => sub.unSubscribe());
      }),
      this.pc.onIceCandidate.subscribe((c) => {
        if (c?.candidate) {
          this.emitCandidate({
            candidate: c.candidate,
            sdpMid: c.sdpMid ?? null,
            sdpMLineIndex: c.sdpMLineIndex ?? null,
          });
        }
      }),
      this.pc.iceGatheringStateChange.subscribe((state) => {
        if (state === "complete") this.emitCandidate(null);
      }),
      this.pc.connectionStateChange.subscribe((state) => this.emit("connectionState", state)),
      this.transceiver.receiver.onRtcp.subscribe((packet) => {
        if (packet instanceof RtcpSrPacket) {
          const info = packet.senderInfo;
          this.emit("senderReport", {
            ntpTimestamp: info.ntpTimestamp,
            rtpTimestamp: info.rtpTimestamp,
            packetCount: info.packetCount,
            octetCount: info.octetCount,
          });
        }
      }),
    ];
    for (const sub of subs) this.unsubscribers.push(() => sub.unSubscribe());
  }

  /**
   * Creates the recvonly offer and gathers (werift's setLocalDescription
   * waits for every candidate, so the SDP has them all; they trickle too).
   */
  async createOffer(): Promise<string> {
    const sdp = await this.makeOffer();
    await this.gather();
    return this.pc.localDescription?.sdp ?? sdp;
  }

  /**
   * The recvonly offer without gathering yet: its candidates trickle once
   * gather() runs. A viewer that learns its ICE servers from the device
   * sends this at once and gathers when they arrive (docs/signaling.md,
   * "ICE servers").
   */
  async makeOffer(): Promise<string> {
    const offer = await this.pc.createOffer();
    this.offer = { type: "offer", sdp: offer.sdp };
    return offer.sdp;
  }

  /**
   * Gathers candidates for the offer made by makeOffer(), with these ICE
   * servers in place of the constructor's when given; resolves when
   * gathering is complete. Once only.
   */
  gather(iceServers?: readonly IceServer[]): Promise<void> {
    if (this.gathering) return this.gathering;
    const offer = this.offer;
    if (!offer) return Promise.reject(new Error("HeadlessViewer.gather before makeOffer"));
    if (iceServers) setIceServersBeforeGathering(this.pc, iceServers);
    this.gathering = this.pc.setLocalDescription(offer).then(() => undefined);
    // Candidates go out once the caller has handed the offer over.
    setImmediate(() => this.releaseCandidates());
    return this.gathering;
  }

  /** Applies the answer once gathering for the offer is complete (werift wants that order). */
  async acceptAnswer(sdp: string): Promise<void> {
    await this.gather();
    await this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  addRemoteCandidate(candidate: IceCandidate | null): void {
    if (this.closed) return;
    this.pc.addIceCandidate(weriftCandidate(candidate)).catch(() => undefined);
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  /** The nominated candidate pair, or null before ICE has one. */
  get selectedPair(): SelectedPair | null {
    return selectedPair(this.pc);
  }

  /** Sends a PLI (RFC 4585 section 6.3.1) for the received stream. */
  requestKeyFrame(): void {
    if (this.closed || this.mediaSsrc === undefined) return;
    this.lastPliAt = performance.now();
    this.counters.plis++;
    this.transceiver.receiver.sendRtcpPLI(this.mediaSsrc).catch(() => undefined);
  }

  /**
   * Sends a FIR (RFC 5104 section 4.3.1), as browsers do where PLI was not
   * negotiated (built as bytes: werift does not export its FIR class, see
   * werift/fir.ts).
   */
  sendFir(): void {
    if (this.closed || this.mediaSsrc === undefined) return;
    this.firSequence = (this.firSequence + 1) & 0xff;
    const receiver = this.transceiver.receiver;
    const packets = fullIntraRequest(receiver.rtcpSsrc, this.mediaSsrc, this.firSequence);
    receiver.dtlsTransport.sendRtcp(packets).catch(() => undefined);
  }

  /** Sends a generic NACK (RFC 4585 section 6.2.1) for these sequence numbers. */
  sendNack(lost: number[]): void {
    if (this.closed || this.mediaSsrc === undefined) return;
    this.counters.nacks++;
    const nack = new GenericNack({
      senderSsrc: this.transceiver.receiver.rtcpSsrc,
      mediaSourceSsrc: this.mediaSsrc,
      lost,
    });
    this.transceiver.receiver.dtlsTransport
      .sendRtcp([new RtcpTransportLayerFeedback({ feedback: nack })])
      .catch(() => undefined);
  }

  get stats(): HeadlessViewerStats {
    const a = this.assembler.stats;
    return {
      packetsReceived: a.packetsReceived,
      packetsLost: a.packetsLost,
      packetsDropped: this.counters.dropped,
      bytesReceived: this.counters.bytes,
      frames: this.counters.frames,
      keyFrames: this.counters.keyFrames,
      framesDropped: a.framesDropped,
      plisSent: this.counters.plis,
      nacksSent: this.counters.nacks,
      startedAtUs: this.startedAtUs,
      firstFrameAtUs: this.firstFrameAtUs,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.removeAllListeners();
    // werift 0.24.4 leaks the sockets bound after a close during gathering
    // (werift/close-after-gathering.ts).
    await this.gathering?.catch(() => undefined);
    await this.pc.close().catch(() => undefined);
  }

  /** Closes the ICE sockets only: the gateway sees a viewer that vanished (tests). */
  async vanish(): Promise<void> {
    for (const transport of this.pc.iceTransports) await transport.connection.close();
    await this.close();
  }

  private releaseCandidates(): void {
    this.released = true;
    for (const c of this.heldCandidates.splice(0)) this.emit("candidate", c);
  }

  private emitCandidate(candidate: IceCandidate | null): void {
    if (this.closed) return;
    if (this.released) this.emit("candidate", candidate);
    else this.heldCandidates.push(candidate);
  }

  private onRtp(rtp: RtpPacket): void {
    if (this.closed) return;
    this.mediaSsrc = rtp.header.ssrc;
    if (this.dropPacket?.(rtp.header.sequenceNumber)) {
      this.counters.dropped++;
      return;
    }
    this.counters.bytes += rtp.payload.length;
    this.emit("rtp", rtp);
    this.assembler.push(
      rtp.header.sequenceNumber,
      rtp.header.timestamp,
      rtp.header.marker,
      rtp.payload,
    );
    if (this.wantKeyFrame && performance.now() - this.lastPliAt > this.keyFrameRetryMs) {
      this.requestKeyFrame();
    }
  }

  private onFrame(frame: ReceivedFrame): void {
    this.counters.frames++;
    if (frame.keyframe) {
      this.counters.keyFrames++;
      this.wantKeyFrame = false;
    }
    this.firstFrameAtUs ??= frame.receivedAtUs;
    this.emit("frame", frame);
  }
}
