/**
 * Speaker playback of Opus packets (48 kHz): a jitter buffer ordered by RTP
 * timestamp, in-band FEC and packet loss concealment for gaps, a latency
 * bound, and ALSA output on a native thread.
 */
import { EventEmitter } from "node:events";
import type { NativeAudioEvent, NativeAudioPlayback } from "./audio-binding.js";
import type {
  AudioPlaybackNegotiated,
  AudioPlaybackOptions,
  AudioPlaybackStats,
} from "./audio-types.js";
import { loadBinding } from "./binding.js";
import { callNative, fromNative } from "./errors.js";

export interface AudioPlaybackEvents {
  /** Asynchronous failures; after a fatal one playback has stopped (see `running`). */
  error: [Error];
  /** An underrun (the device ran dry), recovered; the argument counts them so far. */
  xrun: [number];
  /** The sound card went away; playback has closed itself. */
  unplugged: [];
  closed: [];
}

export class AudioPlayback extends EventEmitter<AudioPlaybackEvents> {
  readonly negotiated: AudioPlaybackNegotiated;
  readonly #native: NativeAudioPlayback;
  #closed = false;
  #running = false;

  private constructor(options: AudioPlaybackOptions) {
    super();
    this.#native = callNative(
      () =>
        new (loadBinding().NativeAudioPlayback)(options, (...event: NativeAudioEvent) => {
          this.#onNative(event);
        }),
    );
    this.negotiated = this.#native.negotiated();
  }

  /** Opens and configures the device; does not start playing. */
  static open(options: AudioPlaybackOptions): AudioPlayback {
    return new AudioPlayback(options);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts feeding the device (silence until packets fill the jitter buffer). */
  start(): void {
    if (this.#closed) throw new Error("AudioPlayback.start: playback is closed");
    callNative(() => {
      this.#native.start();
    });
    this.#running = true;
  }

  /** Stops playing (thread joined, what is queued in the device dropped); start() may follow. */
  stop(): void {
    if (this.#closed) return;
    this.#native.stop();
    this.#running = false;
  }

  /** Idempotent: joins the thread, closes the device, then emits 'closed'. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#running = false;
    this.#native.close();
    this.emit("closed");
  }

  /**
   * Queues one Opus packet. `timestamp` is its RTP timestamp (48 kHz clock,
   * wrapping at 2^32), which orders packets and reveals losses; without it a
   * packet follows the previous one. Returns false when the packet is refused
   * (not Opus, late, a duplicate); the stats count why. Packets pushed to a
   * closed playback are refused.
   */
  push(packet: Uint8Array, timestamp?: number): boolean {
    if (this.#closed) return false;
    return this.#native.push(packet, timestamp);
  }

  stats(): AudioPlaybackStats {
    return this.#native.stats();
  }

  #onNative(event: NativeAudioEvent): void {
    if (this.#closed) return;
    switch (event[0]) {
      case "xrun":
        this.emit("xrun", event[1]);
        break;
      case "error": {
        const [, err, fatal] = event;
        if (fatal) this.stop();
        this.emit("error", fromNative(err) as Error);
        break;
      }
      case "unplugged":
        this.#running = false;
        this.#native.close();
        this.emit("unplugged");
        this.close();
        break;
      case "packet":
      case "stall":
        break;
    }
  }
}
