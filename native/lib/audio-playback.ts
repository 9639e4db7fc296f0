/**
 * Speaker playback of Opus packets (48 kHz): a jitter buffer ordered by RTP
 * timestamp, in-band FEC and packet loss concealment for gaps, a latency
 * bound, and ALSA output on a native thread.
 */
import type { NativeAudioEvent, NativeAudioPlayback } from "./audio-binding.js";
import type {
  AudioPlaybackNegotiated,
  AudioPlaybackOptions,
  AudioPlaybackStats,
} from "./audio-types.js";
import { loadBinding } from "./binding.js";
import { NativeDevice, type CommonNativeEvent, type NativeDeviceEvents } from "./native-device.js";

export interface AudioPlaybackEvents extends NativeDeviceEvents {
  /** An underrun (the device ran dry), recovered; the argument counts them so far. */
  xrun: [number];
}

/**
 * start() feeds the device silence until packets fill the jitter buffer;
 * stop() drops what is queued in the device.
 */
export class AudioPlayback extends NativeDevice<
  AudioPlaybackEvents,
  NativeAudioPlayback,
  NativeAudioEvent
> {
  readonly negotiated: AudioPlaybackNegotiated;

  private constructor(options: AudioPlaybackOptions) {
    super("AudioPlayback", (onEvent) => new (loadBinding().NativeAudioPlayback)(options, onEvent));
    this.negotiated = this.native.negotiated();
  }

  /** Opens and configures the device; does not start playing. */
  static open(options: AudioPlaybackOptions): AudioPlayback {
    return new AudioPlayback(options);
  }

  /**
   * Queues one Opus packet. `timestamp` is its RTP timestamp (48 kHz clock,
   * wrapping at 2^32), which orders packets and reveals losses; without it a
   * packet follows the previous one. Returns false when the packet is refused
   * (not Opus, late, a duplicate); the stats count why. Packets pushed to a
   * closed playback are refused.
   */
  push(packet: Uint8Array, timestamp?: number): boolean {
    if (this.closed) return false;
    return this.native.push(packet, timestamp);
  }

  stats(): AudioPlaybackStats {
    return this.native.stats();
  }

  protected onEvent(event: Exclude<NativeAudioEvent, CommonNativeEvent>): void {
    // Playback's thread reports underruns; packets and stalls are capture's.
    if (event[0] === "xrun") this.emit("xrun", event[1]);
  }
}
