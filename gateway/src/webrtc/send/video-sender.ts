import { EventEmitter } from "node:events";
import {
  MediaStreamTrack,
  RTCRtpCodecParameters,
  useFIR,
  useNACK,
  usePLI,
  useREMB,
  useTWCC,
  type MediaStream,
  type RTCPeerConnection,
  type RTCRtpSender,
} from "werift";
import {
  BandwidthEstimator,
  type BandwidthEstimate,
  type BandwidthEstimatorOptions,
} from "../../congestion/bandwidth-estimator.js";
import { Pacer } from "../../congestion/pacer.js";
import type { TraceEvent } from "../../congestion/trace.js";
import type { PacketHistory } from "../../rtp/packet-history.js";
import type { PacketizedFrame } from "../../rtp/packetizer.js";
import { formatFmtp, type SdpCodec } from "../offer-sdp.js";
import { onFullIntraRequest } from "../werift/fir.js";
import { negotiatedExtensions } from "../werift/header-extensions.js";
import { dropOnWire, type WireHeader } from "../werift/rtp-send.js";
import { negotiatedRtx } from "../werift/rtx.js";
import { takeSenderFeedback } from "../werift/sender-feedback.js";
import { stampSenderReports } from "../werift/sender-report.js";
import { onTransportFeedback } from "../werift/transport-cc.js";
import { KeyFrameHold } from "./key-frame-hold.js";
import { NackResponder } from "./nack-responder.js";
import { PacketTransmitter } from "./packet-transmitter.js";
import type { RepairPolicyOptions } from "./repair-policy.js";
import { ReportRtt } from "./report-rtt.js";
import { emptyVideoSenderStats, type VideoSenderStats } from "./video-sender-stats.js";

/**
 * One viewer's H.264 video: its own werift track and RTCRtpSender (werift
 * mutates the RtpPacket it parses per sender, so tracks are never shared),
 * fed the stream's shared, immutable PacketizedFrames.
 *
 *     frames ──▶ key frame gate ──▶ pacer ──▶ transmitter ──▶ werift (SRTP, ICE)
 *                                     ▲          │ transport-wide numbers, sizes
 *           NACK ──▶ responder ───────┘          ▼
 *     transport-cc, RR, REMB ──────────────▶ bandwidth estimator ──▶ pacing rate, `estimate`
 *
 * It holds frames back until the first key frame, paces packets at a
 * multiple of this viewer's bandwidth estimate, answers NACKs within a
 * repair budget (RTX where negotiated), probes with padding, stamps sender
 * reports on the capture clock, and turns PLI/FIR into key frame requests.
 * The peer connection around it is the ViewerSession's.
 */

/**
 * Why a viewer needs an IDR. "drained": it asked while its path's queue
 * drained (key-frame-hold.ts), and any IDR sent before the drain ended met
 * that queue: like a joining viewer's, the request is not served by an IDR
 * already on its way.
 */
export type KeyFrameRequestKind = "join" | "pli" | "fir" | "repair" | "drained";

/**
 * What a stream fan-out feeds: one viewer's sender of the stream's
 * packetized frames. `history`: the encoding the frame comes from, when
 * the stream has more than one (stream-fanout.ts); a frame from another
 * encoding than the last is a key frame, and the viewer's RTP stream goes
 * on across it with the same SSRC and its own sequence numbers.
 */
export interface FrameSink {
  send(frame: PacketizedFrame, history?: PacketHistory): void;
}

export interface VideoSenderEvents {
  /** This viewer needs an IDR: it just joined, asked (PLI, FIR), or lost more than repair may resend. */
  keyFrameRequest: [KeyFrameRequestKind];
  /** This viewer's bandwidth estimate changed (for an encoder policy). */
  estimate: [BandwidthEstimate];
}

export interface VideoSenderOptions {
  /** The stream's retransmission history. */
  history: PacketHistory;
  /** The stream's own bitrate, bit/s (what the encoder makes for all viewers): the pacer's floor. */
  streamBps?: () => number;
  /** Start, floor and ceiling of the bandwidth estimate. */
  bandwidth?: Pick<BandwidthEstimatorOptions, "startBps" | "minBps" | "maxBps">;
  /** Pacing factor over the estimate (default 2.5); false: packets leave as they come. */
  pacing?: { factor?: number; maxQueueMs?: number; burstMs?: number } | false;
  /** playout-delay to send (default min 0, max 100 ms); false: none. */
  playoutDelay?: { minMs: number; maxMs: number } | false;
  repair?: RepairPolicyOptions;
  /** Tests only: RTP packets to drop on the wire (induced loss). */
  dropOnWire?: (header: WireHeader) => boolean;
  /** Records what the estimator is told (congestion/trace.ts), for traces of real calls. */
  trace?: (event: TraceEvent) => void;
}

export const DEFAULT_PLAYOUT_DELAY = { minMs: 0, maxMs: 100 } as const;

/**
 * The least playout-delay maximum while the viewer also gets audio. A
 * receiver lip-syncs by delaying the stream that is ahead (libwebrtc
 * video/stream_synchronization.cc), and the video's delay never exceeds the
 * extension's maximum (modules/video_coding/timing VCMTiming clamps to it):
 * with 100 ms the video stays ahead of a NetEq that buffers more (measured
 * here: sound 65-160 ms after the picture, web-viewer/test/audio.test.ts).
 * 500 ms is the largest that keeps Chrome's low-latency renderer
 * (kLowLatencyRendererMaxPlayoutDelay); the minimum stays 0.
 */
export const LIP_SYNC_MAX_PLAYOUT_DELAY_MS = 500;

/** The werift codec we send the stream with: the offered H.264 variant and its feedback. */
export function h264SendCodec(codec: SdpCodec): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90_000,
    rtcpFeedback: [useNACK(), usePLI(), useFIR(), useTWCC(), useREMB()],
    parameters: formatFmtp(codec),
  });
}

type Outgoing =
  | {
      readonly kind: "media";
      readonly sequence: number;
      readonly packet: Buffer;
      readonly firstOfFrame: boolean;
      readonly captureTimeUs: number;
    }
  | { readonly kind: "repair"; readonly sequence: number; readonly packet: Buffer };

/** How often the estimator's periodic work (probing) and the pacing rate are refreshed. */
const PROCESS_INTERVAL_MS = 100;

const nowMs = (): number => performance.now();

export class VideoSender extends EventEmitter<VideoSenderEvents> implements FrameSink {
  private readonly counters = emptyVideoSenderStats();
  private readonly options: VideoSenderOptions;
  private readonly nacks: NackResponder;
  private readonly estimator: BandwidthEstimator;
  private readonly pacer: Pacer<Outgoing>;
  private readonly rtt = new ReportRtt();
  private readonly track = new MediaStreamTrack({ kind: "video" });
  private sender: RTCRtpSender | undefined;
  private transmitter: PacketTransmitter | undefined;
  private lipSync = false;
  private readonly unsubscribers: (() => void)[] = [];
  private processTimer: NodeJS.Timeout | undefined;
  private lastFrame: { timestamp: number; captureTimeUs: number } | undefined;
  private sending = false;
  private needKeyFrame = true;
  /** The encoding this viewer's frames come from, and how far its wire numbers run ahead of it. */
  private history: PacketHistory;
  private sequenceOffset = 0;
  private readonly keyFrameHold = new KeyFrameHold();
  /** Frames were skipped since the last one sent: the next one is renumbered to follow on. */
  private skipped = false;
  /** The sequence number the viewer's next media packet gets; undefined before the first. */
  private nextSequence: number | undefined;
  private closed = false;

  constructor(options: VideoSenderOptions) {
    super();
    this.options = options;
    this.history = options.history;
    this.nacks = new NackResponder(options.history, options.repair);
    this.estimator = new BandwidthEstimator({ ...options.bandwidth });
    const pacing = options.pacing === false ? { factor: Infinity } : (options.pacing ?? {});
    this.pacer = new Pacer<Outgoing>({
      ...pacing,
      send: (item, cluster) => this.transmit(item, cluster),
      pad: (bytes, cluster) => this.transmitter?.padding(bytes, cluster) ?? 0,
      dropped: (items) => {
        for (const item of items) if (item.kind === "media") this.counters.packetsSuperseded++;
      },
    });
  }

  get stats(): VideoSenderStats {
    const p = this.pacer.stats;
    const n = this.nacks.stats;
    return {
      ...this.counters,
      nacksReceived: n.nacksReceived,
      packetsNacked: n.packetsNacked,
      nackMisses: n.nackMisses,
      repairsSuperseded: n.repairsSuppressed.superseded,
      repairsTooOld: n.repairsSuppressed["too-old"],
      repairsTooSoon: n.repairsSuppressed["too-soon"],
      repairsTooOften: n.repairsSuppressed["too-often"],
      repairsOverBudget: n.repairsSuppressed["over-budget"],
      keyFramesInsteadOfRepair: n.keyFramesInsteadOfRepair,
      keyFrameRequestsHeld: this.keyFrameHold.heldCount,
      paddingBytesSent: p.paddingBytesSent,
      probesSent: p.probesSent,
      pacerQueueDelaySumMs: p.queueDelaySumMs,
      pacerQueueDelayCount: p.queueDelayCount,
      pacerQueueDelayMaxMs: p.queueDelayMaxMs,
    };
  }

  /** This viewer's latest bandwidth estimate. */
  get estimate(): BandwidthEstimate {
    return this.estimator.estimate;
  }

  /** How long the oldest packet in this viewer's pacer has waited, ms. */
  get pacerQueueMs(): number {
    return this.pacer.queueDelayMs;
  }

  /** The rate this viewer's pacer releases packets at, bit/s. */
  get pacingBps(): number {
    return this.pacer.pacingBps;
  }

  /** Round trip to this viewer from its receiver reports, ms; undefined until measured. */
  get roundTripTimeMs(): number | undefined {
    return this.estimator.estimate.rttMs;
  }

  /**
   * Adds the send-only video transceiver to `pc` (before setRemoteDescription),
   * in `stream` when given (a=msid: a browser lip-syncs only the tracks of one stream).
   */
  addTo(pc: RTCPeerConnection, stream?: MediaStream): void {
    if (this.sender) throw new Error("VideoSender.addTo called twice");
    const streams = stream ? { streams: [stream] } : {};
    const sender = pc.addTransceiver(this.track, { direction: "sendonly", ...streams }).sender;
    this.sender = sender;
    const sub = sender.onPictureLossIndication.subscribe(() => {
      this.counters.pliReceived++;
      this.requestKeyFrame("pli");
    });
    this.unsubscribers.push(() => sub.unSubscribe());
  }

  /**
   * The offer is applied and the transports are final (BUNDLE): read what was
   * negotiated and listen to the viewer's feedback.
   */
  transportsReady(pc: RTCPeerConnection): void {
    const sender = this.sender;
    if (!sender || this.closed) return;
    const rtx = negotiatedRtx(sender);
    this.transmitter = new PacketTransmitter(
      {
        track: this.track,
        sender,
        extensions: negotiatedExtensions(sender),
        rtx,
        playoutDelay: this.playoutDelay(),
      },
      (sent) => {
        this.estimator.onPacketSent(
          sent.transportSequence,
          sent.size,
          sent.kind,
          sent.probeClusterId,
        );
        this.options.trace?.({
          type: "sent",
          atMs: nowMs(),
          sequence: sent.transportSequence,
          size: sent.size,
          kind: sent.kind,
          ...(sent.probeClusterId === undefined ? {} : { probeClusterId: sent.probeClusterId }),
        });
      },
    );
    this.estimator.on("estimate", (estimate) => {
      this.pacer.setTarget(estimate.targetBps, this.options.streamBps?.() ?? 0);
      this.emit("estimate", estimate);
      const held = this.keyFrameHold.estimate(estimate.draining, nowMs());
      if (held) this.emit("keyFrameRequest", held);
    });
    this.estimator.on("probe", (cluster) => {
      if (this.transmitter?.canPad) this.pacer.sendProbe(cluster);
    });
    this.estimator.setProbing(rtx !== undefined);
    this.unsubscribers.push(
      onFullIntraRequest(pc, sender, () => {
        this.counters.firReceived++;
        this.requestKeyFrame("fir");
      }),
      takeSenderFeedback(sender, {
        nack: (lost) => this.onNack(lost),
        receiverReport: (block) => {
          this.counters.receiverReports++;
          const rtt = this.rtt.receiverReport(
            block.lastSenderReport,
            block.delaySinceLastSenderReport,
            nowMs(),
          );
          this.estimator.onReceiverReport(block.fractionLost, rtt);
          this.options.trace?.({
            type: "report",
            atMs: nowMs(),
            fractionLost: block.fractionLost,
            ...(rtt === undefined ? {} : { rttMs: rtt }),
          });
        },
        remb: (bps) => {
          this.counters.rembReceived++;
          this.estimator.onRemb(bps);
          this.options.trace?.({ type: "remb", atMs: nowMs(), bps });
        },
      }),
      onTransportFeedback(pc, (bytes) => {
        this.counters.transportFeedbackReceived++;
        this.options.trace?.({ type: "feedback", atMs: nowMs(), bytes: bytes.toString("hex") });
        try {
          this.estimator.onTransportFeedback(bytes);
        } catch {
          // A malformed message says nothing; the next one will.
          this.counters.transportFeedbackMalformed++;
        }
      }),
      stampSenderReports(sender, {
        rtpTimestampAt: (unixUs) => {
          const f = this.lastFrame;
          if (!f) return undefined;
          return (
            (f.timestamp + Math.round(((unixUs - f.captureTimeUs) * 90_000) / 1_000_000)) >>> 0
          );
        },
        sent: (compactNtp) => this.rtt.senderReportSent(compactNtp, nowMs()),
      }),
    );
    if (this.options.dropOnWire)
      this.unsubscribers.push(dropOnWire(sender, this.options.dropOnWire));
  }

  /**
   * The viewer gets audio of the same stream (a=msid) or no longer does:
   * the playout-delay lets its lip sync hold the video back (see
   * LIP_SYNC_MAX_PLAYOUT_DELAY_MS), or asks for the lowest delay again.
   */
  setLipSync(on: boolean): void {
    if (on === this.lipSync) return;
    this.lipSync = on;
    this.transmitter?.setPlayoutDelay(this.playoutDelay());
  }

  private playoutDelay(): { minMs: number; maxMs: number } | undefined {
    const configured = this.options.playoutDelay ?? DEFAULT_PLAYOUT_DELAY;
    if (configured === false) return undefined;
    if (!this.lipSync) return configured;
    return {
      minMs: configured.minMs,
      maxMs: Math.max(configured.maxMs, LIP_SYNC_MAX_PLAYOUT_DELAY_MS),
    };
  }

  /** DTLS is up: send from the next key frame on, and ask for one now. */
  start(): void {
    if (this.closed || this.sending) return;
    this.sending = true;
    this.pacer.setTarget(this.estimator.estimate.targetBps, this.options.streamBps?.() ?? 0);
    this.estimator.start();
    this.processTimer = setInterval(() => {
      this.estimator.process();
      this.pacer.setTarget(this.estimator.estimate.targetBps, this.options.streamBps?.() ?? 0);
    }, PROCESS_INTERVAL_MS);
    this.emit("keyFrameRequest", "join");
  }

  /** Queues one packetized frame (shared Buffers; parsed per packet when it leaves). */
  send(frame: PacketizedFrame, history: PacketHistory = this.options.history): void {
    if (!this.sending || !this.sender || this.closed) return;
    if (history !== this.history) {
      // Another encoding of the same camera (stream-fanout.ts): it starts at
      // a key frame, and its packets follow on from the last sequence
      // number this viewer got, so the receiver sees one RTP stream whose
      // picture changes size (RFC 3550 section 5.1: consecutive numbers;
      // the timestamps share the capture clock already).
      if (!frame.keyframe) return;
      this.history = history;
      this.followOn(frame, history);
      this.counters.encodingSwitches++;
    }
    let first = false;
    if (this.needKeyFrame) {
      // Frames before the first IDR reference pictures this viewer never got.
      if (!frame.keyframe) return;
      this.needKeyFrame = false;
      first = true;
    }
    if (!frame.keyframe && this.keyFrameHold.viewerWaiting(nowMs())) {
      // Useless to a viewer waiting for a key frame (key-frame-hold.ts);
      // the frames after the gap are renumbered to follow on.
      this.counters.framesSkipped++;
      this.skipped = true;
      return;
    }
    if (this.skipped) {
      this.skipped = false;
      this.followOn(frame, history);
    }
    this.lastFrame = { timestamp: frame.timestamp, captureTimeUs: frame.captureTimeUs };
    if (frame.keyframe) {
      this.nacks.keyFrameStarted();
      this.keyFrameHold.keyFrameSent();
    }
    this.counters.framesSent++;
    const firstSequence = (frame.firstSequence + this.sequenceOffset) & 0xffff;
    this.nextSequence = (firstSequence + frame.packets.length) & 0xffff;
    frame.packets.forEach((packet, i) => {
      const item: Outgoing = {
        kind: "media",
        sequence: (firstSequence + i) & 0xffff,
        packet,
        firstOfFrame: i === 0,
        captureTimeUs: frame.captureTimeUs,
      };
      // The viewer's first key frame leaves at once: nothing is known of the
      // path yet (pacing at the start estimate would not protect a slow link
      // either), and it is the time to first frame (docs/congestion.md).
      if (first) this.transmit(item, undefined);
      else this.pacer.enqueue(item, packet.length + 38, "media", frame.keyframe && i === 0);
    });
  }

  /** Stops sending and drops the subscriptions (idempotent); the peer connection is the session's. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sending = false;
    if (this.processTimer) clearInterval(this.processTimer);
    this.processTimer = undefined;
    this.pacer.close();
    this.estimator.close();
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.track.stop();
    this.sender = undefined;
    this.transmitter = undefined;
    this.removeAllListeners();
  }

  private transmit(item: Outgoing, cluster: number | undefined): number {
    const transmitter = this.transmitter;
    if (!transmitter || this.closed) return 0;
    if (item.kind === "media") {
      const size = transmitter.media(item, cluster);
      if (size > 0) {
        this.nacks.sent(item.sequence, nowMs());
        this.counters.packetsSent++;
        this.counters.bytesSent += size;
      }
      return size;
    }
    const size = transmitter.repair(item.packet, item.sequence, cluster);
    if (size > 0) {
      if (transmitter.usesRtx) this.counters.rtxSent++;
      else this.counters.resentWithoutRtx++;
      this.counters.repairBytesSent += size;
    }
    return size;
  }

  /**
   * Numbers `frame` and those after it to follow on from the last packet
   * this viewer got (after another encoding's packets, or skipped frames),
   * and maps the viewer's NACKs back to `history`'s numbers.
   */
  private followOn(frame: PacketizedFrame, history: PacketHistory): void {
    this.sequenceOffset =
      this.nextSequence === undefined ? 0 : (this.nextSequence - frame.firstSequence) & 0xffff;
    this.nacks.useHistory(history, this.sequenceOffset);
  }

  /** Passes a viewer's key frame request on, or holds it while the path's queue drains (key-frame-hold.ts). */
  private requestKeyFrame(kind: KeyFrameRequestKind): void {
    const now = this.keyFrameHold.request(kind, this.estimator.estimate.draining);
    if (now) this.emit("keyFrameRequest", now);
  }

  private onNack(lost: readonly number[]): void {
    if (this.closed) return;
    const estimate = this.estimator.estimate;
    // Loss without congestion (some but under 10 % over the last second,
    // no overuse, no drain): repairs go twice (nack-responder.ts).
    const randomLoss =
      estimate.lossRatio > 0 &&
      estimate.lossRatio <= 0.1 &&
      estimate.usage !== "overusing" &&
      !estimate.draining;
    const answer = this.nacks.handle(lost, nowMs(), estimate.rttMs, estimate.targetBps, randomLoss);
    for (const repair of answer.repairs) {
      this.pacer.enqueue(
        { kind: "repair", sequence: repair.sequence, packet: repair.packet },
        repair.packet.length + 60,
        "retransmission",
      );
    }
    if (answer.keyFrameNeeded) this.requestKeyFrame("repair");
  }
}
