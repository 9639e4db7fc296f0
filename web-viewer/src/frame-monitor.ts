/**
 * Watches the frames a <video> presents with requestVideoFrameCallback: the
 * first frame (time to first frame), a frame count, freezes, and the
 * glass-to-glass latency of each frame: from the stamp drawn in the picture
 * (the virtual board draws one) and, for any camera, from the capture time
 * the camera sends with each frame (abs-capture-time, capture-clock.ts).
 */
import { TypedEmitter } from "../../gateway/src/signaling/typed-emitter.js";
import { CaptureClock, type CaptureSource } from "./capture-clock.js";
import { LatencySeries } from "./latency-series.js";
import { StampReader } from "./stamp-reader.js";

export interface FrameMonitorEvents extends Record<string, unknown[]> {
  /** The first frame after start() or rearmFirstFrame(); `at` is performance.now() time. */
  "first-frame": [at: number];
}

/** webrtc-stats' freeze rule: a gap over max(3 x mean interval, mean + 150 ms). */
export function isFreeze(gapMs: number, meanIntervalMs: number): boolean {
  return meanIntervalMs > 0 && gapMs > Math.max(3 * meanIntervalMs, meanIntervalMs + 150);
}

export class FrameMonitor extends TypedEmitter<FrameMonitorEvents> {
  /** Glass-to-glass from the frame stamp (exact on one machine). */
  readonly latency = new LatencySeries(300);
  /** Glass-to-glass from each frame's capture time (abs-capture-time, clocks aligned by RTCP). */
  readonly captureLatency = new LatencySeries(300);
  readonly captureClock = new CaptureClock();
  #receiver: RTCRtpReceiver | undefined;
  readonly #video: HTMLVideoElement;
  readonly #reader: StampReader;
  #handle: number | undefined;
  #frames = 0;
  #stampedFrames = 0;
  #freezes = 0;
  #lastPresented: number | undefined;
  #lastFrameAt: number | undefined;
  #meanInterval = 0;
  #receiveToDisplay: number | undefined;
  #stopped = true;
  /** The next frame emits "first-frame" (set by start() and rearmFirstFrame()). */
  #armed = false;

  constructor(video: HTMLVideoElement) {
    super();
    this.#video = video;
    this.#reader = new StampReader(video.ownerDocument);
  }

  /** Frames presented since start(). */
  get frames(): number {
    return this.#frames;
  }

  /** Frames whose stamp read back valid. */
  get stampedFrames(): number {
    return this.#stampedFrames;
  }

  /** performance.now() of the last frame presented since start(). */
  get lastFrameAt(): number | undefined {
    return this.#lastFrameAt;
  }

  get freezes(): number {
    return this.#freezes;
  }

  /** Last frame's last-packet-received to display time (ms), when the browser reports it. */
  get receiveToDisplayMs(): number | undefined {
    return this.#receiveToDisplay;
  }

  /** The receiver whose frames are shown (its synchronization sources carry capture times). */
  useReceiver(receiver: RTCRtpReceiver): void {
    this.#receiver = receiver;
    this.captureClock.reset();
  }

  /** Starts counting afresh (a new call). */
  start(): void {
    this.stop();
    this.#stopped = false;
    this.#frames = 0;
    this.#stampedFrames = 0;
    this.#lastPresented = undefined;
    this.#lastFrameAt = undefined;
    this.#meanInterval = 0;
    this.#armed = true;
    this.latency.clear();
    this.captureLatency.clear();
    this.#schedule();
  }

  /** After an ICE restart: the next frame to arrive means the picture is back. */
  rearmFirstFrame(): void {
    this.#armed = true;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#handle !== undefined) this.#video.cancelVideoFrameCallback(this.#handle);
    this.#handle = undefined;
  }

  #schedule(): void {
    this.#handle = this.#video.requestVideoFrameCallback((now, meta) => {
      this.#onFrame(now, meta);
    });
  }

  #onFrame(now: number, meta: VideoFrameCallbackMetadata): void {
    if (this.#stopped) return;
    this.#frames++;
    this.#lastFrameAt = now;
    if (this.#armed) {
      this.#armed = false;
      this.emit("first-frame", now);
    }
    this.#trackFreezes(meta.presentationTime);
    // Wall-clock time the frame is expected on screen: Date.now() and
    // performance.now() are sampled together so their drift cancels.
    const displayWallMs = Date.now() + (meta.expectedDisplayTime - performance.now());
    const stampUs = this.#reader.read(this.#video);
    if (stampUs !== null) {
      this.#stampedFrames++;
      this.latency.push(displayWallMs - Number(stampUs) / 1000);
    }
    const captureMs = this.#captureUnixMs(meta.rtpTimestamp);
    if (captureMs !== undefined) this.captureLatency.push(displayWallMs - captureMs);
    if (meta.receiveTime !== undefined)
      this.#receiveToDisplay = meta.expectedDisplayTime - meta.receiveTime;
    this.#schedule();
  }

  #captureUnixMs(rtpTimestamp: number | undefined): number | undefined {
    const receiver = this.#receiver;
    if (!receiver || rtpTimestamp === undefined) return undefined;
    // Chromium adds captureTimestamp to the entry when abs-capture-time was negotiated.
    for (const source of receiver.getSynchronizationSources() as unknown as CaptureSource[]) {
      this.captureClock.observeSource(source);
    }
    return this.captureClock.captureUnixMs(rtpTimestamp);
  }

  #trackFreezes(presented: number): void {
    if (this.#lastPresented !== undefined) {
      const gap = presented - this.#lastPresented;
      if (isFreeze(gap, this.#meanInterval)) this.#freezes++;
      // An exponential mean (about 30 frames) follows fps changes.
      this.#meanInterval = this.#meanInterval === 0 ? gap : this.#meanInterval * 0.97 + gap * 0.03;
    }
    this.#lastPresented = presented;
  }
}
