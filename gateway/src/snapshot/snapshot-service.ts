/**
 * Snapshots of the camera (docs/snapshots.md): the one place that takes
 * them, for HTTP (`GET /api/snapshot.jpg`), signaling (`snapshot` messages)
 * and whatever else wants a picture (Home Assistant's camera entity).
 *
 * The addon encodes the next captured raw frame as JPEG off the JS thread
 * (native/lib CameraPipeline.snapshot), so a snapshot is never older than a
 * frame interval plus the encode. When nobody watches, the service holds the
 * stream's source running (the session manager's `holdStream`, the same
 * start/stop on demand viewers use) and keeps holding it for `lingerMs`
 * after the last snapshot, so a client polling every few seconds does not
 * restart the camera each time. At most `maxConcurrent` different snapshots
 * are encoded at once; requests for the same width while one is on its way
 * share it. Past that: `busy`. Per-client limits are the transports' (they
 * know who the client is).
 */
import { NativeSnapshotError } from "../../../native/lib/index.js";
import { SnapshotError } from "../errors.js";
import type { H264Source } from "../media/source.js";

export interface SnapshotRequest {
  /** JPEG width, an integer from 16 to the camera's width (even; height keeps the aspect). */
  width?: number;
  /** JPEG quality 1..100; default the service's (80). */
  quality?: number;
}

export interface Snapshot {
  jpeg: Buffer;
  width: number;
  height: number;
  /** When the frame was captured, ms since the Unix epoch (CLOCK_REALTIME). */
  capturedAtMs: number;
}

/** What Home Assistant discovery and the transports need: one typed function. */
export type TakeSnapshot = (request?: SnapshotRequest) => Promise<Snapshot>;

export interface SnapshotServiceOptions {
  source: Pick<H264Source, "info" | "name" | "snapshot">;
  /** Keeps the source running with nobody watching until the returned function is called. */
  hold(): () => void;
  /** Keep the source running this long after the last snapshot (default 10 000 ms). */
  lingerMs?: number;
  /** Snapshots encoded at once (default 2: one per core of a Pi Zero 2 is too many already). */
  maxConcurrent?: number;
  /** How long a cold camera may take to give its first frame (default 5000 ms). */
  startTimeoutMs?: number;
  /** JPEG quality when the request names none (default 80). */
  quality?: number;
}

export interface SnapshotStats {
  taken: number;
  refused: Record<SnapshotError["code"], number>;
  /** Snapshots that had to start the camera. */
  coldStarts: number;
}

/** Between tries while a camera starts (a frame interval at 20 fps). */
const RETRY_MS = 50;

export class SnapshotService {
  readonly stats: SnapshotStats = {
    taken: 0,
    refused: { "bad-request": 0, unsupported: 0, busy: 0, unavailable: 0 },
    coldStarts: 0,
  };
  readonly #options: SnapshotServiceOptions;
  readonly #pending = new Map<string, Promise<Snapshot>>();
  #release: (() => void) | null = null;
  #linger: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SnapshotServiceOptions) {
    this.#options = options;
  }

  /** The camera's width: the largest `width` a request may ask for. */
  get sourceWidth(): number {
    return this.#options.source.info.width;
  }

  /** Whether the source is held running for snapshots now. */
  get holding(): boolean {
    return this.#release !== null;
  }

  /** The next frame as JPEG; rejects with SnapshotError. */
  readonly take: TakeSnapshot = async (request = {}) => {
    try {
      return await this.#take(request);
    } catch (err) {
      const error =
        err instanceof SnapshotError
          ? err
          : new SnapshotError(
              "unavailable",
              `snapshot failed: ${(err as Error).message}`,
              {},
              {
                cause: err,
              },
            );
      this.stats.refused[error.code]++;
      throw error;
    }
  };

  /** Lets the source go and refuses further snapshots; idempotent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#linger);
    this.#release?.();
    this.#release = null;
  }

  async #take(request: SnapshotRequest): Promise<Snapshot> {
    if (this.#closed) throw new SnapshotError("unavailable", "the gateway is shutting down");
    const width = checkWidth(request.width, this.sourceWidth);
    const quality = request.quality ?? this.#options.quality ?? 80;
    if (!this.#options.source.snapshot) throw noRawFrames(this.#options.source.name);
    const key = `${width ?? 0}/${quality}`;
    const shared = this.#pending.get(key);
    if (shared) return shared;
    if (this.#pending.size >= (this.#options.maxConcurrent ?? 2)) {
      throw new SnapshotError("busy", "too many snapshots at once; retry in a second");
    }
    const job = this.#capture(width, quality).finally(() => {
      this.#pending.delete(key);
      if (this.#pending.size === 0) this.#lingerThenRelease();
    });
    this.#pending.set(key, job);
    return job;
  }

  async #capture(width: number | undefined, quality: number): Promise<Snapshot> {
    clearTimeout(this.#linger);
    if (!this.#release) {
      this.stats.coldStarts++;
      this.#release = this.#options.hold();
    }
    const snap = this.#options.source.snapshot?.bind(this.#options.source);
    if (!snap) throw noRawFrames(this.#options.source.name);
    const deadline = performance.now() + (this.#options.startTimeoutMs ?? 5000);
    for (;;) {
      try {
        const s = await snap({ ...(width === undefined ? {} : { width }), quality });
        this.stats.taken++;
        return {
          jpeg: s.jpeg,
          width: s.width,
          height: s.height,
          capturedAtMs: s.captureTimeUs / 1000,
        };
      } catch (err) {
        if (!(err instanceof NativeSnapshotError)) throw err;
        switch (err.reason) {
          case "no-raw-frame":
          case "bad-format":
            throw new SnapshotError("unsupported", err.message, {}, { cause: err });
          case "bad-size":
            throw new SnapshotError("bad-request", err.message, {}, { cause: err });
          case "encode-failed":
            throw new SnapshotError("unavailable", err.message, {}, { cause: err });
          default:
            // not-running, stopped, timeout: the camera is (re)starting.
            if (this.#closed || performance.now() >= deadline) {
              throw new SnapshotError(
                "unavailable",
                `the camera gave no frame in time (${err.message})`,
                {},
                { cause: err },
              );
            }
            await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      }
    }
  }

  #lingerThenRelease(): void {
    clearTimeout(this.#linger);
    this.#linger = setTimeout(() => {
      this.#release?.();
      this.#release = null;
    }, this.#options.lingerMs ?? 10_000);
    this.#linger.unref();
  }
}

/** A width as a request gives it: absent, or an integer from 16 to the camera's width. */
export function checkWidth(width: unknown, sourceWidth: number): number | undefined {
  if (width === undefined) return undefined;
  if (typeof width !== "number" || !Number.isInteger(width) || width < 16 || width > sourceWidth) {
    throw new SnapshotError(
      "bad-request",
      `width must be an integer from 16 to ${sourceWidth} (the camera's width), got ${JSON.stringify(width)}`,
    );
  }
  return width;
}

function noRawFrames(source: string): SnapshotError {
  return new SnapshotError(
    "unsupported",
    `${source} gives H.264, not raw frames, and camgw has no H.264 decoder to make a snapshot`,
  );
}
