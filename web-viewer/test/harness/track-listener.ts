/**
 * Page side, for av-probe-page.ts: hears a remote audio track where the
 * viewer does (docs/viewer.md, "Sound"). Chromium plays a remote track
 * through its WebRTC audio renderer: each output callback pulls 10 ms from
 * libwebrtc, which hands the same 10 ms to the track's other sinks at that
 * instant (PeerConnectionRemoteAudioSource::OnData), and the output plays
 * it the renderer's output delay later (the `media-playout` stats'
 * totalPlayoutDelay / totalSamplesCount, which libwebrtc's lip sync counts
 * too). A MediaStreamTrackProcessor on a clone of the track, read in a
 * worker, gives each 10 ms with its delivery time; the output delay is
 * added. Also libwebrtc's own A/V offset, from the same peer connection.
 */
import { BURST_AMPLITUDE, findBursts } from "../../../firmware-sim/src/audio-signal.js";

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
export function receivingPeer(track: MediaStreamTrack): RTCPeerConnection {
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
export async function libwebrtcOffsetMs(pc: RTCPeerConnection): Promise<number | undefined> {
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
export class TrackListener {
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
