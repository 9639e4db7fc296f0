/**
 * Microphone capture: ALSA -> Opus (48 kHz, 20 ms frames) on a native
 * thread, delivering packets with their capture time as 'packet' events.
 */
import type { NativeAudioCapture, NativeAudioEvent } from "./audio-binding.js";
import type {
  AudioCaptureNegotiated,
  AudioCaptureOptions,
  AudioCaptureStats,
  AudioPacket,
} from "./audio-types.js";
import { loadBinding } from "./binding.js";
import { NativeDevice, type CommonNativeEvent, type NativeDeviceEvents } from "./native-device.js";

export interface AudioCaptureEvents extends NativeDeviceEvents {
  packet: [AudioPacket];
  /** An overrun (samples lost), recovered; the argument counts them so far. */
  xrun: [number];
  /** No samples for this many ms (once per stall); capture goes on when they come back. */
  stall: [number];
}

export class AudioCapture extends NativeDevice<
  AudioCaptureEvents,
  NativeAudioCapture,
  NativeAudioEvent
> {
  /** What the device and encoder settled on. */
  readonly negotiated: AudioCaptureNegotiated;

  private constructor(options: AudioCaptureOptions) {
    super("AudioCapture", (onEvent) => new (loadBinding().NativeAudioCapture)(options, onEvent));
    this.negotiated = this.native.negotiated();
  }

  /** Opens and configures the device and the encoder; does not start capturing. */
  static open(options: AudioCaptureOptions): AudioCapture {
    return new AudioCapture(options);
  }

  stats(): AudioCaptureStats {
    return this.native.stats();
  }

  protected onEvent(event: Exclude<NativeAudioEvent, CommonNativeEvent>): void {
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
    }
  }
}
