import { EventEmitter } from "node:events";
import { AudioPlayback, type AudioPlaybackOptions } from "../../../native/lib/index.js";
import { SourceError } from "../errors.js";

export interface OpusSinkEvents {
  /** The speaker failed or went away; the next start() opens it again. */
  error: [Error];
}

/** Counters of a speaker, for /metrics and the control channel's stats. */
export interface OpusSinkStats {
  packetsPlayed: number;
  packetsRefused: number;
  framesConcealed: number;
  underflows: number;
}

/**
 * Where talk-back goes: Opus packets with their RTP timestamps (48 kHz) in,
 * sound out. Open only between start() and stop(), so the sound card is not
 * held while nobody talks.
 */
export interface OpusSink extends EventEmitter<OpusSinkEvents> {
  readonly name: string;
  readonly running: boolean;
  start(): void;
  stop(): void;
  /** Queues one packet; false when refused (not Opus, late, not running). */
  push(packet: Uint8Array, rtpTimestamp: number): boolean;
  close(): void;
  stats(): OpusSinkStats;
}

export type AlsaSpeakerOptions = AudioPlaybackOptions;

/**
 * A speaker through the native addon (native/lib AudioPlayback: jitter
 * buffer, in-band FEC and PLC, ALSA on a native thread). The device is
 * opened by start() and closed by stop(): a speaker that only plays while
 * someone talks is free for other programs the rest of the time, and an
 * unplugged card is simply opened again next time.
 */
export class AlsaSpeaker extends EventEmitter<OpusSinkEvents> implements OpusSink {
  readonly name: string;
  private playback: AudioPlayback | null = null;
  private closed = false;
  private readonly past: OpusSinkStats = {
    packetsPlayed: 0,
    packetsRefused: 0,
    framesConcealed: 0,
    underflows: 0,
  };

  constructor(private readonly options: AlsaSpeakerOptions) {
    super();
    this.name = `alsa:${options.device}`;
  }

  get running(): boolean {
    return this.playback?.running ?? false;
  }

  /** Opens and starts the device; throws SourceError when it cannot. */
  start(): void {
    if (this.closed) throw new SourceError("speaker is closed", { sink: this.name });
    if (this.playback?.running) return;
    try {
      this.playback ??= this.open();
      this.playback.start();
    } catch (err) {
      this.release();
      throw new SourceError(
        `cannot start ${this.name}: ${(err as Error).message}`,
        { sink: this.name },
        { cause: err },
      );
    }
  }

  stop(): void {
    this.release();
  }

  push(packet: Uint8Array, rtpTimestamp: number): boolean {
    const playback = this.playback;
    if (!playback?.running) return false;
    return playback.push(packet, rtpTimestamp);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.removeAllListeners();
  }

  stats(): OpusSinkStats {
    const now = this.playback && !this.playback.closed ? this.playback.stats() : undefined;
    return {
      packetsPlayed: this.past.packetsPlayed + (now ? now.packetsReceived - refusedOf(now) : 0),
      packetsRefused: this.past.packetsRefused + (now ? refusedOf(now) : 0),
      framesConcealed: this.past.framesConcealed + (now?.framesConcealed ?? 0),
      underflows: this.past.underflows + (now?.underflows ?? 0),
    };
  }

  private open(): AudioPlayback {
    const playback = AudioPlayback.open(this.options);
    const lost = (err: Error): void => {
      if (this.playback === playback) this.playback = null;
      this.emit("error", new SourceError(`${this.name}: ${err.message}`, { sink: this.name }));
    };
    playback.on("error", (err) => {
      if (!playback.running) lost(err);
    });
    playback.on("unplugged", () => lost(new Error("the sound card was unplugged")));
    return playback;
  }

  private release(): void {
    const playback = this.playback;
    if (!playback) return;
    // Totals never go down: what this device played joins the past.
    Object.assign(this.past, this.stats());
    this.playback = null;
    playback.close();
  }
}

function refusedOf(s: { packetsLate: number; packetsInvalid: number }): number {
  return s.packetsLate + s.packetsInvalid;
}
