/**
 * Page side of the audio/video timing probe (av-probe.ts injects it, bundled
 * by esbuild): hears the virtual microphone's tone bursts (docs/firmware-sim.md,
 * "Microphone signal") and reads the frame stamps (docs/frame-stamp.md) of one
 * tile, both on this page's wall clock.
 *
 * The point measured for audio is the moment the viewer's own output plays
 * the burst's onset. Chromium plays a remote track through its WebRTC audio
 * renderer: each output callback pulls 10 ms from libwebrtc, which hands the
 * same 10 ms to the track's other sinks at that instant
 * (PeerConnectionRemoteAudioSource::OnData), and the output plays it the
 * renderer's output delay later (the
 * `media-playout` stats' totalPlayoutDelay / totalSamplesCount, what
 * libwebrtc's lip sync counts too). So: a MediaStreamTrackProcessor on a
 * clone of the track, read in a worker, gives each 10 ms with its delivery
 * time, and the output delay is added.
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

/**
 * Reads a MediaStreamTrackProcessor's AudioData (transferred here, so the
 * page's main thread never delays it): each chunk's first channel, its
 * timestamp and when it arrived here, on this worker's performance clock.
 */
const READER_WORKER = `
let reader;
const chunks = [];
onmessage = async (event) => {
  if (event.data === "stop") {
    if (reader) await reader.cancel().catch(() => undefined);
    postMessage({ chunks, wallMinusPerfMs: Date.now() - performance.now() });
    return;
  }
  reader = event.data.getReader();
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ done: true }));
    if (done || !value) break;
    const arrivedUs = performance.now() * 1000;
    const samples = new Float32Array(value.numberOfFrames);
    value.copyTo(samples, { planeIndex: 0, format: "f32-planar" });
    chunks.push({ timestampUs: value.timestamp, arrivedUs, rate: value.sampleRate, samples });
    value.close();
  }
};
`;

/**
 * Chunks in a row whose timestamps advance by their length (a processor
 * that fell behind drops chunks: still one run, its gap in time).
 * Chromium 156 stamps the chunks a new processor had queued on another time
 * base than the ones that follow (7 s apart here): a run of its own.
 */
const RUN_BREAK_US = 100_000;

/** A run needs this many chunks (0.5 s) for its clock offset to be trusted. */
const MIN_RUN_CHUNKS = 50;

interface ReaderChunk {
  timestampUs: number;
  arrivedUs: number;
  rate: number;
  samples: Float32Array;
}

interface ReaderResult {
  chunks: ReaderChunk[];
  wallMinusPerfMs: number;
}

/**
 * Each chunk's delivery time on the worker's performance clock (µs), or NaN
 * in a run too short to tell. AudioData.timestamp is the delivery instant
 * on a clock of its own; within a run the smallest "arrival minus
 * timestamp" is the offset of the two clocks plus the shortest hop to the
 * worker (the hops spread 0.1-1 ms on an idle machine).
 */
function deliveryTimesUs(chunks: readonly ReaderChunk[]): number[] {
  const times: number[] = [];
  let run: ReaderChunk[] = [];
  const close = (): void => {
    const offset = Math.min(...run.map((c) => c.arrivedUs - c.timestampUs));
    for (const c of run) times.push(run.length >= MIN_RUN_CHUNKS ? c.timestampUs + offset : NaN);
    run = [];
  };
  for (const c of chunks) {
    const last = run[run.length - 1];
    const step = last ? c.timestampUs - last.timestampUs : 0;
    if (last && (step <= 0 || step > RUN_BREAK_US)) close();
    run.push(c);
  }
  if (run.length > 0) close();
  return times;
}

/** The page's peer connections, recorded by av-probe.ts's recordPeerConnections before the viewer's scripts ran. */
interface ProbedWindow {
  camgwAvPeers?: RTCPeerConnection[];
}

/** The peer connection that receives `track`. */
function receivingPeer(track: MediaStreamTrack): RTCPeerConnection {
  const peers = (window as ProbedWindow).camgwAvPeers;
  if (!peers)
    throw new Error("no recorded peer connections: open the viewer with recordPeerConnections");
  const pc = peers.find((p) => p.getReceivers().some((r) => r.track === track));
  if (!pc) throw new Error("no peer connection receives the tile's audio track");
  return pc;
}

/** The media-playout stats' totals of the peer connection that receives `track`. */
async function playoutTotals(
  track: MediaStreamTrack,
): Promise<{ delayS: number; samples: number }> {
  let totals = { delayS: 0, samples: 0 };
  (await receivingPeer(track).getStats()).forEach(
    (s: { type: string; totalPlayoutDelay?: number; totalSamplesCount?: number }) => {
      if (s.type === "media-playout")
        totals = { delayS: s.totalPlayoutDelay ?? 0, samples: s.totalSamplesCount ?? 0 };
    },
  );
  return totals;
}

/**
 * libwebrtc's own view of the offset, ms (+: the sound late): the capture
 * time (sender's NTP clock) of what the video and the audio receiver each
 * play now, from their `estimatedPlayoutTimestamp`. The video's is taken
 * when a frame goes to the renderer, not when it is on screen; the audio's
 * counts the output delay. Undefined before both have one.
 */
async function libwebrtcOffsetMs(pc: RTCPeerConnection): Promise<number | undefined> {
  const playout: Partial<Record<string, number>> = {};
  (await pc.getStats()).forEach(
    (s: { type: string; kind?: string; estimatedPlayoutTimestamp?: number }) => {
      if (s.type === "inbound-rtp" && s.kind && s.estimatedPlayoutTimestamp)
        playout[s.kind] = s.estimatedPlayoutTimestamp;
    },
  );
  const { audio, video } = playout;
  return audio === undefined || video === undefined ? undefined : video - audio;
}

/**
 * Listens to a remote audio track as its renderer delivers it: burst onsets
 * at the instant the viewer's output plays them (see the top of this file).
 */
class TrackListener {
  readonly #track: MediaStreamTrack;
  readonly #worker: Worker;
  #before: { delayS: number; samples: number } = { delayS: 0, samples: 0 };

  private constructor(track: MediaStreamTrack) {
    this.#track = track;
    const url = URL.createObjectURL(new Blob([READER_WORKER], { type: "text/javascript" }));
    this.#worker = new Worker(url);
    URL.revokeObjectURL(url);
  }

  static async open(track: MediaStreamTrack): Promise<TrackListener> {
    const listener = new TrackListener(track);
    listener.#before = await playoutTotals(track);
    const Processor = (window as { MediaStreamTrackProcessor?: MediaStreamTrackProcessorClass })
      .MediaStreamTrackProcessor;
    if (!Processor) throw new Error("this browser has no MediaStreamTrackProcessor");
    // A clone: a second sink on the same source, the viewer's own track untouched.
    const readable = new Processor({ track: track.clone() }).readable;
    listener.#worker.postMessage(readable, [readable]);
    return listener;
  }

  /** Onsets of the bursts heard, wall-clock ms when the output played them; and the output delay. */
  async stop(): Promise<{ onsets: number[]; playoutDelayMs: number }> {
    const result = await new Promise<ReaderResult>((resolve) => {
      this.#worker.onmessage = (event: MessageEvent<ReaderResult>) => resolve(event.data);
      this.#worker.postMessage("stop");
    });
    this.#worker.terminate();
    const after = await playoutTotals(this.#track);
    const samples = after.samples - this.#before.samples;
    const playoutDelayMs =
      samples > 0 ? ((after.delayS - this.#before.delayS) / samples) * 1000 : NaN;
    const { chunks, wallMinusPerfMs } = result;
    const rate = chunks[0]?.rate ?? 48_000;
    const delivered = deliveryTimesUs(chunks);
    // The chunks in order; an onset's time is its own chunk's delivery time
    // plus its place in it.
    const starts: number[] = [];
    let length = 0;
    for (const c of chunks) {
      starts.push(length);
      length += c.samples.length;
    }
    const x = new Float32Array(length);
    chunks.forEach((c, i) => {
      for (let k = 0; k < c.samples.length; k++)
        x[(starts[i] ?? 0) + k] = (c.samples[k] ?? 0) * 32768;
    });
    const onsets: number[] = [];
    for (const onset of findBursts(x, rate, { threshold: BURST_AMPLITUDE / 4 })) {
      let i = starts.length - 1;
      while (i > 0 && (starts[i] ?? 0) > onset) i--;
      const deliveredUs = (delivered[i] ?? NaN) + ((onset - (starts[i] ?? 0)) * 1e6) / rate;
      if (!Number.isNaN(deliveredUs))
        onsets.push(deliveredUs / 1000 + wallMinusPerfMs + playoutDelayMs);
    }
    return { onsets, playoutDelayMs };
  }
}

interface MediaStreamTrackProcessorClass {
  new (init: { track: MediaStreamTrack }): { readable: ReadableStream<unknown> };
}

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
