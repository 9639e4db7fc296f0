/**
 * Decides whether a running source still makes frames, from when frames
 * reach JavaScript and, for a camera, the addon's own counters (captured and
 * encoded frames, counted on the native threads, so a busy event loop is not
 * mistaken for a stalled encoder: frames waiting in the queue still count).
 *
 * Two ways a source stops:
 * - the encoder stalls: a frame goes in (captured moves) and nothing comes
 *   out for `intervals` frame intervals beyond the encoder's own latency (the
 *   Pi's bcm2835-codec is known to hang, e.g. at very low bitrates;
 *   firmware-sim's `enc-stop`). Restarting it is the cure, so this is
 *   decided quickly.
 * - the source goes silent: nothing captured, or nothing from a pipe command
 *   (a camera that stalls, firmware-sim's `stall`, a command that stops
 *   writing). It may come back by itself, so the caller tells viewers first
 *   and restarts later; `silentMs` says for how long.
 *
 * The limit is `intervals` times the nominal frame interval, or times the
 * mean interval seen lately when frames come slower than nominal (a UVC
 * camera lowering its rate in the dark), plus the encoder's mean latency
 * (an encoder that takes 200 ms per frame on a loaded board pauses longer
 * than one that takes a frame interval), and at least half as long again
 * as the longest pause seen lately (decaying by half every ~10 s of
 * frames): a source whose frames come in bursts (a CPU-starved encoder
 * thread, as firmware-sim's is on a loaded machine) is not taken for a
 * stalled one; on a board whose frames come like clockwork this changes
 * nothing. After a (re)start the first frame gets twice as long as
 * the last start's first frame took, at most `startGraceMs` (opening
 * devices, the encoder's set-up): an encoder still wedged after a restart
 * is found as soon as a healthy one would have answered.
 */

export interface FrameWatchdogOptions {
  /** The source's nominal frame rate. */
  fps: number;
  /** Frame intervals without output before the encoder counts as stalled (default 3). */
  intervals?: number;
  /** Most time allowed for the first frame after a (re)start, ms (default 2000). */
  startGraceMs?: number;
}

/** The addon's counters of the running pipeline (they start at 0 with each pipeline). */
export interface PipelineProgress {
  captured: number;
  encoded: number;
  /** Mean time a frame spends in the encoder, µs, when known. */
  encodeTimeUs?: number;
}

export type WatchdogVerdict =
  /** Frames flow; look again in `recheckInMs`. */
  | { kind: "ok"; recheckInMs: number }
  /** Frames were captured and none was encoded for longer than the limit. */
  | { kind: "encoder-stalled"; captured: number; silentMs: number }
  /** Nothing came at all for `silentMs` (at least the limit). */
  | { kind: "silent"; silentMs: number };

/**
 * Frames captured since the last output, and not out by the limit (which
 * includes the encoder's latency), that make a stall the encoder's: a
 * stalled camera's last frame comes out within the latency, so its count
 * is 0. One is enough: with DMABUF the camera's buffers stay queued in a
 * hung encoder, and a camera with few free buffers left captures only one
 * more frame (firmware-sim's enc-stop on a loaded machine).
 */
const CAPTURED_WITHOUT_OUTPUT = 1;
/** Gaps longer than this are outages, not a slow frame rate: kept out of the mean and the max. */
const MAX_MEAN_GAP_MS = 1000;
/** Per frame, the longest recent pause shrinks by this: to half in 300 frames (10 s at 30 fps). */
const MAX_GAP_DECAY = 0.5 ** (1 / 300);

export class FrameWatchdog {
  readonly intervals: number;
  readonly startGraceMs: number;
  private nominalMs: number;
  /** The source's own frame interval, ms: the shortest nominal one. */
  private readonly sourceMs: number;
  private meanGapMs = 0;
  private maxGapMs = 0;
  private lastFrameAt = 0;
  private lastProgressAt = 0;
  private awaitingFirst = true;
  private encodedSeen = 0;
  /** Captured minus encoded at the last progress: what the encoder holds or skipped. */
  private backlogAtProgress = 0;
  /** The encoder's mean latency as the last pipeline that encoded anything measured it, ms. */
  private encodeMs: number | undefined;
  /** When the source was last (re)started, and how long its first frame took then. */
  private startedAt = 0;
  private firstFrameMs: number | undefined;

  constructor(options: FrameWatchdogOptions) {
    this.nominalMs = this.sourceMs = 1000 / Math.max(1, options.fps);
    this.intervals = options.intervals ?? 3;
    this.startGraceMs = options.startGraceMs ?? 2000;
  }

  /**
   * The encoder is given `fps` frames a second from now on (frame-rate
   * steps drop camera frames before it: H264Source.setFrameRate): its
   * output pauses that much longer between frames without being stalled.
   * At or above the source's own rate: the source's.
   */
  setFrameRate(fps: number): void {
    this.nominalMs = Math.max(this.sourceMs, 1000 / Math.max(1, fps));
  }

  /** The source was (re)started at `now`: its counters are back at 0. */
  restarted(now: number): void {
    this.awaitingFirst = true;
    this.startedAt = now;
    this.lastProgressAt = now;
    this.lastFrameAt = 0;
    this.encodedSeen = 0;
    this.backlogAtProgress = 0;
  }

  /** A frame reached JavaScript at `now`, with the addon's counters when the source has them. */
  frame(now: number, progress?: PipelineProgress): void {
    if (progress) this.progressed(progress);
    if (this.lastFrameAt > 0) {
      const gap = now - this.lastFrameAt;
      if (gap < MAX_MEAN_GAP_MS) {
        this.meanGapMs = this.meanGapMs === 0 ? gap : this.meanGapMs * 0.9 + gap * 0.1;
        this.maxGapMs = Math.max(gap, this.maxGapMs * MAX_GAP_DECAY);
      }
    }
    this.lastFrameAt = now;
    this.lastProgressAt = Math.max(this.lastProgressAt, now);
    this.firstProgress(now);
  }

  /** How long output may pause before something is wrong, ms. */
  limitMs(): number {
    const frames = this.intervals * this.nominalMs;
    if (!this.awaitingFirst) {
      const usual =
        this.intervals * Math.max(this.nominalMs, this.meanGapMs) + (this.encodeMs ?? 0);
      return Math.max(usual, 1.5 * this.maxGapMs);
    }
    if (this.firstFrameMs === undefined) return this.startGraceMs;
    return Math.min(this.startGraceMs, Math.max(frames, 2 * this.firstFrameMs));
  }

  /** Looks at the source at `now`; `progress` are the addon's counters when the source has them. */
  check(now: number, progress?: PipelineProgress): WatchdogVerdict {
    if (progress && progress.encoded !== this.encodedSeen) {
      // Encoded frames count even while they wait in the queue to JavaScript
      // (a busy event loop is no stalled encoder).
      this.progressed(progress);
      this.lastProgressAt = Math.max(this.lastProgressAt, now);
      this.firstProgress(now);
    }
    const silentMs = now - this.lastProgressAt;
    const limit = this.limitMs();
    if (silentMs < limit) return { kind: "ok", recheckInMs: Math.max(1, limit - silentMs) };
    const held = progress ? progress.captured - progress.encoded - this.backlogAtProgress : 0;
    if (held >= CAPTURED_WITHOUT_OUTPUT)
      return { kind: "encoder-stalled", captured: held, silentMs };
    return { kind: "silent", silentMs };
  }

  private firstProgress(now: number): void {
    if (!this.awaitingFirst) return;
    this.awaitingFirst = false;
    this.firstFrameMs = now - this.startedAt;
  }

  private progressed(progress: PipelineProgress): void {
    this.encodedSeen = progress.encoded;
    this.backlogAtProgress = progress.captured - progress.encoded;
    if (progress.encodeTimeUs !== undefined && progress.encoded > 0)
      this.encodeMs = progress.encodeTimeUs / 1000;
  }
}
