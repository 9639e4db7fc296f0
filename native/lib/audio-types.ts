/** Plain data types of the native audio API (what crosses from C++ to JS). */

/** What one direction of an ALSA PCM device offers (hw_params ranges). */
export interface AudioStreamCaps {
  /** False when the stream could not be opened to read its ranges (busy). */
  available: boolean;
  channelsMin: number;
  channelsMax: number;
  rateMin: number;
  rateMax: number;
}

/** One PCM device of a sound card, e.g. a USB card's "USB Audio". */
export interface AudioDeviceInfo {
  /** Stable ALSA name without conversions: "hw:CARD=Device,DEV=0". */
  name: string;
  /** The same with alsa-lib's conversions (rate, channels): "plughw:CARD=Device,DEV=0". */
  plugName: string;
  /** Card index (changes with plug order; the names above do not). */
  card: number;
  cardId: string;
  cardName: string;
  longName: string;
  /** Kernel driver, e.g. "USB-Audio". */
  driver: string;
  device: number;
  pcmName: string;
  /** Microphone side; null when the device has no capture stream. */
  capture: AudioStreamCaps | null;
  /** Speaker side; null when the device has no playback stream. */
  playback: AudioStreamCaps | null;
}

export type OpusApplication = "voip" | "audio" | "lowdelay";

export interface AudioCaptureOptions {
  /** ALSA PCM name: "plughw:CARD=Device,DEV=0" (converts), "hw:..." (48 kHz devices). */
  device: string;
  /** Encoded channels, 1 (default) or 2; the device's are mixed to these. */
  channels?: 1 | 2;
  /** Opus bitrate in bit/s, 6000..510000; default 32000. */
  bitrate?: number;
  /** Opus application; default "voip" (speech). */
  application?: OpusApplication;
  /** Opus complexity 0..10; default 5 (a Pi 4 core uses ~2% of itself). */
  complexity?: number;
  /** Opus in-band forward error correction; default true. */
  fec?: boolean;
  /** Packets held for JS before the oldest are dropped; default 50 (1 s). */
  queueDepth?: number;
  /** ALSA capture buffer in ms (slack for a late worker, not latency); default 200. */
  bufferMs?: number;
  /** No samples for this long is reported once as a 'stall'; default 500 ms. */
  stallMs?: number;
}

export interface AudioCaptureNegotiated {
  rate: 48000;
  /** Encoded channels. */
  channels: number;
  /** Samples per channel in a packet (960 = 20 ms). */
  frameSamples: number;
  /** Channels the device gave (mixed to `channels`). */
  deviceChannels: number;
  periodFrames: number;
  bufferFrames: number;
  /** Samples the encoder delays the signal by (a decoder's pre-skip, RFC 7845 section 4.2). */
  lookahead: number;
}

export interface AudioPacket {
  /** One Opus packet (RFC 6716), 20 ms. */
  data: Buffer;
  /** CLOCK_REALTIME of the packet's first sample, µs since the epoch (device timestamp). */
  captureTimeUs: number;
  /** Samples per channel at 48 kHz. */
  samples: number;
}

export interface AudioCaptureStats {
  packetsEncoded: number;
  packetsDelivered: number;
  /** Dropped because JS did not take them in time. */
  packetsDropped: number;
  /** Overruns recovered with snd_pcm_recover. */
  xruns: number;
  stalls: number;
  encodeTimeMeanUs: number;
  queueDepth: number;
}

export interface AudioPlaybackOptions {
  /** ALSA PCM name: "plughw:CARD=Device,DEV=0", ... */
  device: string;
  /** ALSA playback buffer in ms; default 60. */
  bufferMs?: number;
  /** Playout starts with this much buffered; default 40 ms. */
  jitterMs?: number;
  /** Beyond this the oldest packets are dropped (latency bound); default 200 ms. */
  maxJitterMs?: number;
}

export interface AudioPlaybackNegotiated {
  rate: 48000;
  deviceChannels: number;
  periodFrames: number;
  bufferFrames: number;
}

export interface AudioPlaybackStats {
  packetsReceived: number;
  /** Arrived after their playout time (or duplicates). */
  packetsLate: number;
  /** Dropped to keep the latency bound. */
  packetsDropped: number;
  /** Not Opus packets. */
  packetsInvalid: number;
  framesDecoded: number;
  /** Lost frames recovered from the next packet's FEC. */
  framesFec: number;
  /** Lost frames concealed (Opus PLC). */
  framesConcealed: number;
  /** Silence played while nothing was buffered. */
  framesSilent: number;
  /** Times the jitter buffer ran dry and refilled. */
  underflows: number;
  /** Device underruns recovered with snd_pcm_recover. */
  xruns: number;
  bufferedMs: number;
}
