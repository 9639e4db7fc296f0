/**
 * Page side of the audio/video timing probe (av-probe.ts injects it, bundled
 * by esbuild): hears the virtual microphone's tone bursts (docs/firmware-sim.md,
 * "Microphone signal") and reads the frame stamps (docs/frame-stamp.md) of one
 * tile, both on this page's wall clock.
 *
 * The point measured for audio is the moment the viewer's own output plays
 * the burst's onset: the track's delivery time of the 10 ms it is in plus
 * the audio renderer's output delay (track-listener.ts).
 *
 * Not a WebAudio graph, as this probe used before (`webAudioBursts`, still
 * measured to compare): a MediaStreamAudioSourceNode is a second sink with a
 * FIFO of up to ten 10 ms buffers between the renderer's pulls and the
 * AudioContext's render thread, which keeps whatever level it settled at
 * (WebAudioMediaStreamAudioSink, third_party/blink/renderer/modules/
 * mediastream), then the AudioContext's own output stream with its own
 * buffering (baseLatency). Neither is on the path the viewer hears: on
 * Chromium 156 they put the bursts 11-22 ms later than the renderer plays
 * them (rounds of av-bench), which read as that much more A/V offset.
 *
 * For video it is requestVideoFrameCallback's expectedDisplayTime, as in
 * frame-monitor.ts. Everything goes to wall clock through Date.now() and
 * performance.now() pairs, sampled together.
 */
import { BURST_AMPLITUDE, findBursts } from "../../../firmware-sim/src/audio-signal.js";
import { StampReader } from "../../src/stamp-reader.js";
import { libwebrtcOffsetMs, receivingPeer, TrackListener } from "./track-listener.js";

/** One burst onset as this page played it out. */
export interface HeardBurst {
  /** Wall-clock ms (Unix epoch) the output device played the onset. */
  wallMs: number;
  /** That instant minus the nearest whole second: the burst's glass-to-glass latency, ms. */
  latencyMs: number;
}

export interface AvSample {
  /** The bursts as the viewer's audio output plays them. */
  bursts: HeardBurst[];
  /** The same bursts as a WebAudio graph on the track plays them (see the top: not what is heard). */
  webAudioBursts: HeardBurst[];
  /** The renderer's output delay over the measurement (media-playout stats), ms. */
  playoutDelayMs: number;
  /** Per stamped frame: expected display (wall clock) minus the frame's stamp, ms. */
  videoLatencyMs: number[];
  /** Wall-clock ms each of those frames was expected on screen. */
  videoWallMs: number[];
  sampleRate: number;
  baseLatencyMs: number;
  outputLatencyMs: number;
  /** libwebrtc's own offset estimates, every 250 ms of the measurement (libwebrtcOffsetMs). */
  libwebrtcOffsetsMs: number[];
}

export interface ProbeApi {
  /** Listens to and watches the tile of `deviceId` for `ms`. */
  measure(deviceId: string, ms: number): Promise<AvSample>;
  /** From now on, taps every microphone track getUserMedia returns (talk-back bench). */
  tapMicrophone(): void;
  /** Onsets heard on the tapped microphone tracks so far (wall-clock ms, as played out here). */
  microphoneOnsets(): Promise<number[]>;
}

declare global {
  interface Window {
    camgwAvProbe?: ProbeApi;
  }
}

/** Copies each render quantum's first input channel to the main thread, with its frame on the context's timeline. */
const TAP_WORKLET = `
class CamgwTap extends AudioWorkletProcessor {
  constructor() { super(); this.buf = new Float32Array(4096); this.n = 0; this.start = 0; }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true;
    if (this.n > 0 && this.start + this.n !== currentFrame) this.flush();
    if (this.n === 0) this.start = currentFrame;
    this.buf.set(ch, this.n);
    this.n += ch.length;
    if (this.n + 128 > this.buf.length) this.flush();
    return true;
  }
  flush() {
    this.port.postMessage({ start: this.start, samples: this.buf.slice(0, this.n) });
    this.n = 0;
  }
}
registerProcessor("camgw-tap", CamgwTap);
`;

/** Date.now() minus performance.now(), read together (as frame-monitor.ts does). */
function wallMinusPerfMs(): number {
  return Date.now() - performance.now();
}

/**
 * Records a stream's audio from now until stop(): its samples by context
 * frame, and the context-time to performance-time mapping of the output.
 */
class Tap {
  readonly ctx = new AudioContext({ sampleRate: 48_000 });
  readonly #chunks: { start: number; samples: Float32Array }[] = [];
  /** [context time s, performance time ms] of the output device, every 50 ms. */
  readonly #clock: [number, number][] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #node: AudioWorkletNode | undefined;

  static async open(stream: MediaStream): Promise<Tap> {
    const tap = new Tap();
    await tap.#open(stream);
    return tap;
  }

  async #open(stream: MediaStream): Promise<void> {
    const url = URL.createObjectURL(new Blob([TAP_WORKLET], { type: "text/javascript" }));
    await this.ctx.audioWorklet.addModule(url);
    URL.revokeObjectURL(url);
    await this.ctx.resume();
    const node = new AudioWorkletNode(this.ctx, "camgw-tap", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      channelCount: 1,
      channelCountMode: "explicit",
    });
    node.port.onmessage = (event: MessageEvent<{ start: number; samples: Float32Array }>) => {
      this.#chunks.push(event.data);
    };
    this.ctx.createMediaStreamSource(stream).connect(node);
    // Only nodes that reach the destination are rendered; the tap outputs silence.
    node.connect(this.ctx.destination);
    this.#node = node;
    this.#timer = setInterval(() => this.#sampleClock(), 50);
  }

  #sampleClock(): void {
    const { contextTime, performanceTime } = this.ctx.getOutputTimestamp();

    // Before the output device has played anything both are 0.
    if (contextTime && performanceTime) this.#clock.push([contextTime, performanceTime]);
  }

  /** Onsets of the bursts heard, wall-clock ms when the output device played them. */
  async stop(): Promise<number[]> {
    clearInterval(this.#timer);
    this.#sampleClock();
    this.#node?.disconnect();
    const rate = this.ctx.sampleRate;
    await this.ctx.close();
    if (this.#clock.length === 0 || this.#chunks.length === 0) return [];
    const first = this.#chunks[0]?.start ?? 0;
    const last = this.#chunks[this.#chunks.length - 1];
    const length = (last?.start ?? 0) + (last?.samples.length ?? 0) - first;
    // int16 scale, the unit findBursts' threshold and rise time are in.
    const x = new Float32Array(length);
    for (const c of this.#chunks) {
      for (let i = 0; i < c.samples.length; i++)
        x[c.start - first + i] = (c.samples[i] ?? 0) * 32768;
    }
    const wall = wallMinusPerfMs();
    return findBursts(x, rate, { threshold: BURST_AMPLITUDE / 4 }).map(
      (onset) => this.#outputPerfMs((first + onset) / rate) + wall,
    );
  }

  /**
   * performance.now() time the output device plays context time `t`, from the
   * nearest clock sample: a context whose device falls behind (a loaded
   * machine) slips against real time, so no single offset holds for the run.
   */
  #outputPerfMs(t: number): number {
    let best = this.#clock[0] ?? [0, 0];
    for (const c of this.#clock) if (Math.abs(c[0] - t) < Math.abs(best[0] - t)) best = c;
    return best[1] + (t - best[0]) * 1000;
  }
}

function tileVideo(deviceId: string): HTMLVideoElement {
  const video = document.querySelector<HTMLVideoElement>(`.tile[data-device="${deviceId}"] video`);
  if (!video) throw new Error(`no tile ${deviceId}`);
  return video;
}

async function measure(deviceId: string, ms: number): Promise<AvSample> {
  const video = tileVideo(deviceId);
  const stream = video.srcObject;
  if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) {
    throw new Error("the tile's stream has no audio track");
  }
  const [audioTrack] = stream.getAudioTracks();
  if (!audioTrack) throw new Error("the tile's stream has no audio track");
  const listener = await TrackListener.open(audioTrack);
  const tap = await Tap.open(stream);
  const reader = new StampReader(document);
  const videoLatencyMs: number[] = [];
  const videoWallMs: number[] = [];
  let watching = true;
  const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
    if (!watching) return;
    const displayWallMs = Date.now() + (meta.expectedDisplayTime - performance.now());
    const stampUs = reader.read(video);
    if (stampUs !== null) {
      videoLatencyMs.push(displayWallMs - Number(stampUs) / 1000);
      videoWallMs.push(displayWallMs);
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  const { baseLatency, outputLatency, sampleRate } = tap.ctx;
  const pc = receivingPeer(audioTrack);
  const libwebrtcOffsetsMs: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const offset = await libwebrtcOffsetMs(pc);
    if (offset !== undefined) libwebrtcOffsetsMs.push(offset);
    await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, end - performance.now()))));
  }
  watching = false;
  const heard = await listener.stop();
  const webAudio = await tap.stop();
  // Sound cannot come before its capture: the burst is the last whole
  // second's (latency in [0, 1 s); on a loaded machine NetEq alone has held over 500 ms).
  const burst = (wallMs: number): HeardBurst => ({
    wallMs,
    latencyMs: ((wallMs % 1000) + 1000) % 1000,
  });

  return {
    bursts: heard.onsets.map(burst),
    webAudioBursts: webAudio.map(burst),
    playoutDelayMs: heard.playoutDelayMs,
    videoLatencyMs,
    videoWallMs,
    sampleRate,
    baseLatencyMs: baseLatency * 1000,
    outputLatencyMs: outputLatency * 1000,
    libwebrtcOffsetsMs,
  };
}

const micTaps: Promise<Tap>[] = [];

function tapMicrophone(): void {
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    // A clone, so the viewer stopping its track does not end the tap mid-burst.
    if (stream.getAudioTracks().length > 0) micTaps.push(Tap.open(stream.clone()));
    return stream;
  };
}

async function microphoneOnsets(): Promise<number[]> {
  const taps = await Promise.all(micTaps.splice(0));
  const onsets = await Promise.all(taps.map((t) => t.stop()));
  return onsets.flat().sort((a, b) => a - b);
}

window.camgwAvProbe = { measure, tapMicrophone, microphoneOnsets };
