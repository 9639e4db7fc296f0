/**
 * Microphone capture: ALSA -> Opus (48 kHz, 20 ms frames) on a native
 * thread, delivering packets with their capture time as 'packet' events.
 */
import { EventEmitter } from "node:events";
import type { NativeAudioCapture, NativeAudioEvent } from "./audio-binding.js";
import type {
  AudioCaptureNegotiated,
  AudioCaptureOptions,
  AudioCaptureStats,
  AudioPacket,
} from "./audio-types.js";
import { loadBinding } from "./binding.js";
import { callNative, fromNative } from "./errors.js";

export interface AudioCaptureEvents {
  packet: [AudioPacket];
  /** Asynchronous failures; after a fatal one capture has stopped (see `running`). */
  error: [Error];
  /** An overrun (samples lost), recovered; the argument counts them so far. */
  xrun: [number];
  /** No samples for this many ms (once per stall); capture goes on when they come back. */
  stall: [number];
  /** The sound card went away; capture has closed itself. */
  unplugged: [];
  closed: [];
}

export class AudioCapture extends EventEmitter<AudioCaptureEvents> {
  /** What the device and encoder settled on. */
  readonly negotiated: AudioCaptureNegotiated;
  readonly #native: NativeAudioCapture;
  #closed = false;
  #running = false;

  private constructor(options: AudioCaptureOptions) {
    super();
    // The native constructor validates options (TypeError) before it opens anything.
    this.#native = callNative(
      () =>
        new (loadBinding().NativeAudioCapture)(options, (...event: NativeAudioEvent) => {
          this.#onNative(event);
        }),
    );
    this.negotiated = this.#native.negotiated();
  }

  /** Opens and configures the device and the encoder; does not start capturing. */
  static open(options: AudioCaptureOptions): AudioCapture {
    return new AudioCapture(options);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#closed) throw new Error("AudioCapture.start: capture is closed");
    callNative(() => {
      this.#native.start();
    });
    this.#running = true;
  }

  /** Stops capturing (thread joined); start() may follow. */
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

  stats(): AudioCaptureStats {
    return this.#native.stats();
  }

  #onNative(event: NativeAudioEvent): void {
    if (this.#closed) return;
    switch (event[0]) {
      case "packet":
        this.emit("packet", event[1]);
        break;
      case "xrun":
        this.emit("xrun", event[1]);
        break;
      case "stall":
        this.emit("stall", event[1]);
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
    }
  }
}
