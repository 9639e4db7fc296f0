/**
 * Types-only description of the raw addon's audio exports (loaded, like the
 * rest, by binding.ts only).
 */
import type {
  AudioCaptureNegotiated,
  AudioCaptureOptions,
  AudioCaptureStats,
  AudioDeviceInfo,
  AudioPacket,
  AudioPlaybackNegotiated,
  AudioPlaybackOptions,
  AudioPlaybackStats,
} from "./audio-types.js";

export type NativeAudioEvent =
  | ["packet", AudioPacket]
  | ["error", Error, boolean]
  | ["xrun", number]
  | ["stall", number]
  | ["unplugged"];

export interface NativeAudioCapture {
  start(): void;
  stop(): void;
  close(): void;
  stats(): AudioCaptureStats;
  negotiated(): AudioCaptureNegotiated;
}

export interface NativeAudioPlayback {
  start(): void;
  stop(): void;
  close(): void;
  push(packet: Uint8Array, timestamp?: number): boolean;
  stats(): AudioPlaybackStats;
  negotiated(): AudioPlaybackNegotiated;
}

export interface NativeAudioBinding {
  listAudioDevices(): AudioDeviceInfo[];
  NativeAudioCapture: new (
    options: AudioCaptureOptions,
    onEvent: (...event: NativeAudioEvent) => void,
  ) => NativeAudioCapture;
  NativeAudioPlayback: new (
    options: AudioPlaybackOptions,
    onEvent: (...event: NativeAudioEvent) => void,
  ) => NativeAudioPlayback;
}
