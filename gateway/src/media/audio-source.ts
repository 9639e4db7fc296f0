import { EventEmitter } from "node:events";
import { AudioCapture, type AudioCaptureOptions } from "../../../native/lib/index.js";
import { SourceError } from "../errors.js";

/** One Opus packet (RFC 6716) of 20 ms and the capture time of its first sample. */
export interface OpusFrame {
  readonly data: Buffer;
  /** CLOCK_REALTIME of the first sample, µs since the Unix epoch (the video's clock). */
  readonly captureTimeUs: number;
  /** Samples per channel at 48 kHz (960 for 20 ms). */
  readonly samples: number;
}

export interface OpusSourceEvents {
  packet: [OpusFrame];
  /** A failure the source could not recover from by itself. */
  error: [Error];
  /** The source ended (sound card unplugged); start() tries to open it again. */
  end: [];
}

/** Counters of a microphone, for /metrics. */
export interface OpusSourceStats {
  packetsDelivered: number;
  packetsDropped: number;
  xruns: number;
  stalls: number;
}

/**
 * A microphone as Opus packets. Like a video source it runs only between
 * start() and stop() (the session manager starts it while anyone listens),
 * and start() after stop() or after an unplug must work.
 */
export interface OpusSource extends EventEmitter<OpusSourceEvents> {
  /** A short label for logs, e.g. "alsa:plughw:CARD=Device,DEV=0". */
  readonly name: string;
  /** Encoded channels (1 or 2). */
  readonly channels: number;
  /**
   * How far the encoder delays the signal, µs (Opus: its lookahead,
   * OPUS_GET_LOOKAHEAD; libopus at 48 kHz 312 samples, 6.5 ms): a decoder's
   * first output sample of a packet is the input from this long before the
   * packet's captureTimeUs. Undefined: none.
   */
  readonly encoderDelayUs?: number;
  readonly running: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
  stats?(): OpusSourceStats | null;
}

export type AlsaOpusSourceOptions = AudioCaptureOptions;

/**
 * A microphone through the native addon: ALSA capture and Opus encoding on
 * a native thread (native/lib AudioCapture), capture times on the video's
 * clock. The device is opened when the source is made, so a bad device name
 * fails at start-up; after an unplug the next start() opens it again.
 */
export class AlsaOpusSource extends EventEmitter<OpusSourceEvents> implements OpusSource {
  readonly name: string;
  readonly channels: number;
  private capture: AudioCapture | null;
  private closed = false;
  private readonly past = { packetsDelivered: 0, packetsDropped: 0, xruns: 0, stalls: 0 };

  private constructor(
    private readonly options: AlsaOpusSourceOptions,
    capture: AudioCapture,
  ) {
    super();
    this.name = `alsa:${options.device}`;
    this.capture = capture;
    this.channels = capture.negotiated.channels;
    this.attach(capture);
  }

  /** Opens the microphone; throws NativeDeviceError / TypeError naming the ALSA call. */
  static open(options: AlsaOpusSourceOptions): AlsaOpusSource {
    return new AlsaOpusSource(options, AudioCapture.open(options));
  }

  get running(): boolean {
    return this.capture?.running ?? false;
  }

  get encoderDelayUs(): number {
    const negotiated = this.capture?.negotiated;
    return negotiated ? (negotiated.lookahead * 1_000_000) / negotiated.rate : 0;
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new SourceError("microphone is closed", this.context));
    try {
      if (!this.capture || this.capture.closed) {
        this.capture = AudioCapture.open(this.options);
        this.attach(this.capture);
      }
      if (!this.capture.running) this.capture.start();
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(
        new SourceError(`cannot start ${this.name}: ${(err as Error).message}`, this.context, {
          cause: err,
        }),
      );
    }
  }

  stop(): Promise<void> {
    this.capture?.stop();
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.retire(this.capture);
    this.capture?.close();
    this.capture = null;
    this.removeAllListeners();
    return Promise.resolve();
  }

  stats(): OpusSourceStats {
    const now = this.capture?.stats();
    return {
      packetsDelivered: this.past.packetsDelivered + (now?.packetsDelivered ?? 0),
      packetsDropped: this.past.packetsDropped + (now?.packetsDropped ?? 0),
      xruns: this.past.xruns + (now?.xruns ?? 0),
      stalls: this.past.stalls + (now?.stalls ?? 0),
    };
  }

  private get context(): { source: string } {
    return { source: this.name };
  }

  /** Keeps the counters of a capture that is going away, so totals never go down. */
  private retire(capture: AudioCapture | null): void {
    if (!capture || capture.closed) return;
    const s = capture.stats();
    this.past.packetsDelivered += s.packetsDelivered;
    this.past.packetsDropped += s.packetsDropped;
    this.past.xruns += s.xruns;
    this.past.stalls += s.stalls;
  }

  private attach(capture: AudioCapture): void {
    capture.on("packet", (packet) => this.emit("packet", packet));
    capture.on("error", (err) => {
      this.emit(
        "error",
        new SourceError(`${this.name}: ${err.message}`, this.context, { cause: err }),
      );
      if (!capture.running) this.emit("end");
    });
    capture.on("unplugged", () => {
      if (this.capture === capture) this.capture = null;
      this.emit("error", new SourceError(`${this.name} was unplugged`, this.context));
      this.emit("end");
    });
  }
}
