import { EventEmitter } from "node:events";
import type { OpusFrame, OpusSource } from "../../media/audio-source.js";
import { OPUS_CLOCK_RATE, OpusPayloader } from "../../rtp/opus-payloader.js";
import { RtpPacketizer } from "../../rtp/packetizer.js";
import { SourceRunner } from "./source-runner.js";
import type { FrameSink } from "./video-sender.js";

/**
 * The microphone and the viewers listening to it: each Opus packet is
 * packetized once (RFC 7587, 48 kHz clock from the capture time, like the
 * video's 90 kHz one, so both sender reports map capture time to NTP the
 * same way) and the same immutable Buffers go to every listener's
 * AudioSender. The microphone runs only while someone listens, unless
 * `keepWarm`. A microphone that fails or is unplugged costs the viewers
 * their sound, never their call: the fan-out tries it again every
 * `retryMs` while anyone listens.
 */

export interface AudioFanoutOptions {
  source: OpusSource;
  keepWarm?: boolean;
  /** How often a failed microphone is tried again while someone listens (default 2000 ms). */
  retryMs?: number;
}

export interface AudioFanoutEvents {
  /** The microphone failed (it is retried); for the log. */
  error: [Error];
}

export interface AudioFanoutStats {
  packets: number;
  bytes: number;
  /** Packets the payloader refused (not Opus-sized). */
  badPackets: number;
  /** Times the microphone failed or went away. */
  failures: number;
}

/** A gap in capture times longer than this starts a new talkspurt (xrun, stall, restart). */
const GAP_US = 30_000;

export class AudioFanout extends EventEmitter<AudioFanoutEvents> {
  readonly source: OpusSource;
  readonly stats: AudioFanoutStats = { packets: 0, bytes: 0, badPackets: 0, failures: 0 };
  private readonly packetizer = new RtpPacketizer({
    payloader: new OpusPayloader(),
    payloadType: 111,
    clockRate: OPUS_CLOCK_RATE,
  });
  private readonly keepWarm: boolean;
  private readonly retryMs: number;
  private readonly sinks = new Set<FrameSink>();
  private readonly runner: SourceRunner;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastCaptureUs = -Infinity;
  private closed = false;

  private readonly onPacket = (packet: OpusFrame): void => this.fanOut(packet);
  private readonly onError = (error: Error): void => this.failed(error);
  private readonly onEnd = (): void => this.failed(undefined);

  constructor(options: AudioFanoutOptions) {
    super();
    this.source = options.source;
    this.runner = new SourceRunner(this.source, { startFailed: (error) => this.failed(error) });
    this.keepWarm = options.keepWarm ?? false;
    this.retryMs = options.retryMs ?? 2000;
    this.source.on("packet", this.onPacket);
    this.source.on("error", this.onError);
    this.source.on("end", this.onEnd);
  }

  get sinkCount(): number {
    return this.sinks.size;
  }

  attach(listener: FrameSink): void {
    if (this.closed) return;
    this.sinks.add(listener);
    this.setRunning(true);
  }

  detach(listener: FrameSink): void {
    this.sinks.delete(listener);
    if (this.sinks.size === 0 && !this.keepWarm) this.setRunning(false);
  }

  /** Starts the microphone now (keepWarm). */
  warmUp(): Promise<void> {
    this.setRunning(true);
    return this.runner.settled();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sinks.clear();
    clearTimeout(this.retryTimer);
    this.source.off("packet", this.onPacket);
    this.source.off("error", this.onError);
    this.source.off("end", this.onEnd);
    this.setRunning(false, true);
    await this.runner.settled();
    this.removeAllListeners();
  }

  private setRunning(want: boolean, force = false): void {
    if (this.closed && !force) return;
    if (!want) clearTimeout(this.retryTimer);
    this.runner.want(want);
  }

  /** The microphone failed: stop what is left of it and try again later while wanted. */
  private failed(error: Error | undefined): void {
    this.stats.failures++;
    if (error) this.emit("error", error);
    this.runner.failed(true);
    clearTimeout(this.retryTimer);
    if (this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.runner.wanted && !this.runner.running) this.setRunning(true);
    }, this.retryMs);
  }

  private fanOut(packet: OpusFrame): void {
    if (this.sinks.size === 0) return;
    const marker = packet.captureTimeUs - this.lastCaptureUs > GAP_US;
    this.lastCaptureUs = packet.captureTimeUs;
    let frame;
    try {
      frame = this.packetizer.packetize({
        data: packet.data,
        // The RTP timestamp names the capture instant of the first sample the
        // viewer's decoder outputs, which is the encoder's lookahead before
        // the packet's first input sample: RTP Opus has no pre-skip (RFC 7587;
        // Ogg's is RFC 7845 section 4.2), so without this the viewer's lip
        // sync would play the sound that much (6.5 ms) late.
        captureTimeUs: packet.captureTimeUs - (this.source.encoderDelayUs ?? 0),
        keyframe: true,
        marker,
      });
    } catch {
      this.stats.badPackets++;
      return;
    }
    this.stats.packets++;
    for (const p of frame.packets) this.stats.bytes += p.length;
    for (const listener of this.sinks) listener.send(frame);
  }
}
