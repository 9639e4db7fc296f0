import { EventEmitter } from "node:events";
import type { BandwidthEstimate } from "../../congestion/bandwidth-estimator.js";
import { RateWindow } from "../../congestion/rate-window.js";
import type { AccessUnit } from "../../media/access-unit.js";
import type { H264Source } from "../../media/source.js";
import { H264Payloader } from "../../rtp/h264-payloader.js";
import { PacketHistory } from "../../rtp/packet-history.js";
import { RtpPacketizer, type PacketizedFrame } from "../../rtp/packetizer.js";
import { BitratePolicy, type BitratePolicyOptions } from "./bitrate-policy.js";
import { drainTimeMs, KeyFrameRequester } from "./keyframe-requester.js";
import { LayerPolicy, lowEncodingFor, type LayerName } from "./layer-policy.js";
import type { FrameSink } from "./video-sender.js";

/**
 * A stream's second, lower encoding and who watches it (issue 16: a viewer
 * far below the others gets its own lower encoding instead of dragging
 * everyone down). The layer policy decides who should watch which
 * (layer-policy.ts); this moves each viewer at the next key frame of the
 * encoding it moves to, so its RTP stream goes on unbroken (the
 * VideoSender renumbers across the switch; both encodings' timestamps come
 * from one capture clock and one offset), starts the source's second
 * encoder with the first viewer that needs it and stops it when the last
 * has left it, and makes its bitrate follow the viewers on it.
 *
 * The stream fan-out keeps the main encoding: it asks `watchesMain` for
 * each main frame and each viewer, and feeds the main bitrate policy only
 * `mainEstimates`.
 */

export interface SecondEncodingOptions {
  source: H264Source;
  /** The main packetizer's timestamp offset: both encodings' RTP timestamps line up. */
  timestampOffset: number;
  /** The main encoding's bitrate bounds; the low one's ceiling is derived from them. */
  bitrate: BitratePolicyOptions;
  maxPayloadSize?: number;
  historyPackets?: number;
  keyFrameInFlightMs?: number;
  /** Asks the main encoder for an IDR (a viewer moving back to it). */
  requestMainKeyFrame: () => void;
  /** Who watches the stream now. */
  viewers: () => Iterable<FrameSink>;
}

export interface SecondEncodingEvents {
  /** The second encoder runs, at this size, on this encoder. */
  started: [{ width: number; height: number }, string];
  stopped: [];
  /** The source cannot run a second encoding: every viewer stays on the main one for good. */
  failed: [Error];
  /** A viewer now watches another encoding (from the key frame just sent to it). */
  moved: [FrameSink, LayerName];
}

export class SecondEncoding extends EventEmitter<SecondEncodingEvents> {
  readonly history: PacketHistory;
  private readonly source: H264Source;
  private readonly packetizer: RtpPacketizer;
  private readonly policy: LayerPolicy<FrameSink>;
  private readonly bitrate: BitratePolicy;
  private readonly keyFrames: KeyFrameRequester;
  private readonly rate = new RateWindow(1000);
  private readonly options: SecondEncodingOptions;
  /** What each viewer is sent now; absent: the main encoding. */
  private readonly watching = new Map<FrameSink, LayerName>();
  private running = false;
  private disabled = false;
  private closed = false;
  private lastKeyFrameBytes = 0;
  private readonly onLayerFrame = (au: AccessUnit): void => this.fanOut(au);

  constructor(options: SecondEncodingOptions) {
    super();
    this.options = options;
    this.source = options.source;
    this.history = new PacketHistory(options.historyPackets);
    this.packetizer = new RtpPacketizer({
      payloader: new H264Payloader({ maxPayloadSize: options.maxPayloadSize }),
      timestampOffset: options.timestampOffset,
    });
    this.policy = new LayerPolicy({
      maxKbps: options.bitrate.maxKbps,
      share: options.bitrate.share,
    });
    const low = lowEncodingFor(this.source.info, options.bitrate.maxKbps, options.bitrate.minKbps);
    this.keyFrames = new KeyFrameRequester(() => this.source.requestLayerKeyFrame?.(), {
      inFlightMs: options.keyFrameInFlightMs,
    });
    this.bitrate = new BitratePolicy({ ...options.bitrate, maxKbps: low.maxKbps }, (kbps) => {
      this.source.setLayerBitrate?.(kbps);
      this.keyFrames.rateChanged(kbps);
    });
    this.keyFrames.rateChanged(this.bitrate.targetKbps);
    this.source.on("layerFrame", this.onLayerFrame);
  }

  /** Whether the low encoding runs (someone watches it or is moving to it). */
  get active(): boolean {
    return this.running;
  }

  /** What the low encoder is asked for, kbit/s; null while it does not run. */
  get targetKbps(): number | null {
    return this.running ? this.bitrate.targetKbps : null;
  }

  /** What the low encoding sends each of its viewers, bit/s, over the last second. */
  get bitrateBps(): number {
    return this.rate.rateBps(performance.now());
  }

  /** When the low bitrate policy wants to be asked again (a held-back raise); see BitratePolicy. */
  get raiseDueAtMs(): number | undefined {
    return this.running ? this.bitrate.raiseDueAtMs : undefined;
  }

  /** The encoding a viewer is sent now. */
  watchedBy(viewer: FrameSink): LayerName {
    return this.watching.get(viewer) ?? "main";
  }

  /** The encoding the policy wants a viewer on (it moves there at that encoding's next key frame). */
  targetOf(viewer: FrameSink): LayerName {
    return this.disabled ? "main" : this.policy.layerOf(viewer);
  }

  /** The estimates of the viewers the main encoding serves (or will, from its next key frame). */
  *mainEstimates(
    estimates: ReadonlyMap<FrameSink, BandwidthEstimate>,
  ): Iterable<BandwidthEstimate> {
    for (const [viewer, e] of estimates) if (this.targetOf(viewer) === "main") yield e;
  }

  /** Re-decides who watches which from every viewer's estimate; the low bitrate follows its viewers. */
  update(estimates: ReadonlyMap<FrameSink, BandwidthEstimate>): void {
    if (this.disabled || this.closed) return;
    const bps = new Map<FrameSink, number>();
    for (const [viewer, e] of estimates) bps.set(viewer, e.targetBps);
    const moves = this.policy.update(bps, performance.now());
    const lowEstimates = [...estimates].filter(([v]) => this.policy.layerOf(v) === "low");
    if (lowEstimates.length > 0) this.bitrate.update(lowEstimates.map(([, e]) => e));
    for (const [viewer, layer] of moves) {
      if (layer === "low") {
        if (!this.start()) return;
        this.keyFrames.request(true);
      } else if (this.watchedBy(viewer) === "low") {
        this.options.requestMainKeyFrame();
      }
    }
    this.stopIfUnused();
  }

  /** Whether `viewer` gets this main-encoding frame; moves it back to the main encoding at a key frame. */
  watchesMain(viewer: FrameSink, frame: PacketizedFrame): boolean {
    if (this.watchedBy(viewer) === "main") return true;
    if (!frame.keyframe || this.targetOf(viewer) !== "main") return false;
    this.watching.delete(viewer);
    this.emit("moved", viewer, "main");
    // Stopped after the caller has sent this frame: the move is complete.
    queueMicrotask(() => this.stopIfUnused());
    return true;
  }

  /**
   * A viewer asked for an IDR: served here when it watches (or is moving to)
   * the low encoding; false when the main encoding must serve it.
   */
  requestKeyFrame(
    viewer: FrameSink,
    join: boolean,
    roundTripMs?: number,
    rateBps?: number,
  ): boolean {
    const wants = this.targetOf(viewer) === "low" || this.watchedBy(viewer) === "low";
    if (!wants || !this.running) return false;
    this.keyFrames.request(join, roundTripMs, drainTimeMs(this.lastKeyFrameBytes, rateBps));
    // A viewer moving back to the main encoding needs the main's IDR too.
    return this.targetOf(viewer) === "low";
  }

  /** The viewer left. */
  remove(viewer: FrameSink): void {
    this.policy.remove(viewer);
    this.watching.delete(viewer);
    this.stopIfUnused();
  }

  /** The source restarted: the key frame it owed is not coming; its first frame is an IDR anyway. */
  reset(): void {
    this.keyFrames.reset();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.off("layerFrame", this.onLayerFrame);
    this.keyFrames.close();
    if (this.running) this.source.stopLayer?.();
    this.running = false;
    this.watching.clear();
    this.history.clear();
    this.removeAllListeners();
  }

  private start(): boolean {
    if (this.running) return true;
    const low = lowEncodingFor(
      this.source.info,
      this.options.bitrate.maxKbps,
      this.options.bitrate.minKbps,
    );
    const size = { width: low.width, height: low.height };
    try {
      if (!this.source.startLayer) throw new Error(`the source cannot make a second encoding`);
      const encoder = this.source.startLayer({ ...size, bitrateKbps: this.bitrate.targetKbps });
      this.running = true;
      this.emit("started", size, encoder);
      return true;
    } catch (err) {
      // Nobody watches it yet (it never ran): every viewer stays on the main encoding, for good.
      this.disabled = true;
      this.emit("failed", err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  private stopIfUnused(): void {
    if (!this.running || this.closed) return;
    for (const viewer of this.options.viewers()) {
      if (this.watchedBy(viewer) === "low" || this.targetOf(viewer) === "low") return;
    }
    this.running = false;
    this.keyFrames.reset();
    this.source.stopLayer?.();
    this.emit("stopped");
  }

  private fanOut(au: AccessUnit): void {
    if (!this.running) return;
    let frame: PacketizedFrame;
    try {
      frame = this.packetizer.packetize(au);
    } catch {
      return;
    }
    let bytes = 0;
    for (const p of frame.packets) bytes += p.length;
    if (frame.keyframe) {
      this.lastKeyFrameBytes = bytes;
      this.keyFrames.keyFrameSent();
    }
    this.rate.add(bytes, performance.now());
    this.history.add(frame.firstSequence, frame.packets, frame.captureTimeUs);
    for (const viewer of this.options.viewers()) {
      if (this.watchedBy(viewer) !== "low") {
        if (!frame.keyframe || this.targetOf(viewer) !== "low") continue;
        this.watching.set(viewer, "low");
        this.emit("moved", viewer, "low");
      }
      viewer.send(frame, this.history);
    }
  }
}
