/**
 * Merges key frame requests from every viewer of a stream (new viewers,
 * PLI, FIR) into encoder requests, the way libwebrtc's sender treats PLI
 * (webrtc/video/encoder_rtcp_feedback.cc): forward it at once, unless an IDR
 * already answers it. A viewer that lost a picture can show nothing until
 * its next IDR, so a request is never deferred, only merged:
 *
 * - into an IDR asked of the encoder and not out yet (`pendingTimeoutMs`
 *   bounds the wait: an encoder that ignored the request is asked again);
 * - into an IDR sent less than one round trip ago: the viewer asked before
 *   it could have received it (its PLI crossed the IDR on the way). A PLI
 *   that arrives later was sent after the IDR reached the viewer, so that
 *   IDR did not help it (lost, corrupt, or a later frame broke): a new one
 *   goes out at once. The round trip is the asking viewer's (from its
 *   receiver reports, send/report-rtt.ts), with a margin; until it is
 *   measured, `inFlightMs`, which stays below the ~200 ms at which a
 *   browser repeats its PLI while it waits (Chromium's VideoReceiveStream2,
 *   max_wait_for_keyframe): a longer round trip then costs one extra IDR,
 *   never a wait.
 *
 * A joining viewer skips the second rule: the IDR that just went out was
 * not for it (its sender waits for the next one).
 *
 * An IDR the encoder made at more than twice the rate it has since been
 * cut to is not waited for (`rateChanged`): it was sized for a link that
 * turned out much slower, and at a cap's onset it meets a bottleneck
 * queue that is full and dropping. The network lab's cap-300-mid: a 37 KB
 * IDR made at 1.4 Mbit/s went into a 300 kbit/s link with a 15 KB queue,
 * and the viewer's PLIs were answered "on its way" for 2.1 s (its drain
 * time at the new estimate) while nothing of it could arrive.
 *
 * The old rule (at most one IDR per 500 ms, later requests deferred to the
 * interval's end) made a viewer wait up to half a second per corrupt or
 * lost frame: at 5% corrupt frames the probe saw 17.5 of 30 fps.
 */
export const DEFAULT_KEYFRAME_IN_FLIGHT_MS = 150;
export const DEFAULT_KEYFRAME_PENDING_TIMEOUT_MS = 500;

export interface KeyFrameRequesterOptions {
  /** Without a measured round trip: a request this soon after an IDR went out is served by it (default 150 ms). */
  inFlightMs?: number;
  /** An IDR asked for and not sent after this long is asked for again (default 500 ms). */
  pendingTimeoutMs?: number;
  now?: () => number;
}

export class KeyFrameRequester {
  /** Requests received (from viewers), passed to the source, and served by an IDR on its way. */
  received = 0;
  sent = 0;
  merged = 0;
  readonly inFlightMs: number;
  readonly pendingTimeoutMs: number;
  private readonly now: () => number;
  private askedAt = Number.NEGATIVE_INFINITY;
  private keyFrameSentAt = Number.NEGATIVE_INFINITY;
  /** The encoder's rate when the last IDR went out, kbit/s (undefined: not known). */
  private keyFrameKbps: number | undefined;
  /** The encoder's rate now, kbit/s, as last told (rateChanged), the one before, and when it changed. */
  private rateKbps: number | undefined;
  private previousRateKbps: number | undefined;
  private rateChangedAt = Number.NEGATIVE_INFINITY;
  private pending = false;
  private closed = false;

  constructor(
    private readonly send: () => void,
    options: KeyFrameRequesterOptions = {},
  ) {
    this.inFlightMs = options.inFlightMs ?? DEFAULT_KEYFRAME_IN_FLIGHT_MS;
    this.pendingTimeoutMs = options.pendingTimeoutMs ?? DEFAULT_KEYFRAME_PENDING_TIMEOUT_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * `join`: the asker just joined and has had no IDR yet. `roundTripMs`: the
   * asker's round trip, when measured. `drainMs`: how long the last IDR takes
   * to reach the asker at its rate (see drainTimeMs).
   */
  request(join = false, roundTripMs?: number, drainMs = 0): void {
    if (this.closed) return;
    this.received++;
    const now = this.now();
    const inFlight =
      (roundTripMs === undefined ? this.inFlightMs : inFlightWindow(roundTripMs)) +
      Math.min(MAX_DRAIN_MS, Math.max(0, drainMs));
    const onItsWay =
      (this.pending && now - this.askedAt < this.pendingTimeoutMs) ||
      (!join && now - this.keyFrameSentAt < inFlight);
    if (onItsWay) {
      this.merged++;
      return;
    }
    this.askedAt = now;
    this.pending = true;
    this.sent++;
    this.send();
  }

  /** An IDR went out to the viewers (asked for or periodic). */
  keyFrameSent(): void {
    this.pending = false;
    const now = this.now();
    this.keyFrameSentAt = now;
    // A frame already in the encoder when the rate changed was made at the old one.
    this.keyFrameKbps =
      now - this.rateChangedAt < ENCODER_LAG_MS
        ? Math.max(this.rateKbps ?? 0, this.previousRateKbps ?? 0)
        : this.rateKbps;
    if (this.rateKbps !== undefined) this.writeOffIfAbove(this.rateKbps);
  }

  /**
   * The encoder was asked for another rate, kbit/s. A cut to under half the
   * rate the last IDR was made at writes that IDR off: the next request is
   * passed on at once. So does an IDR that comes out within ENCODER_LAG_MS
   * of such a cut, made at the old rate.
   */
  rateChanged(kbps: number): void {
    this.previousRateKbps = this.rateKbps;
    this.rateKbps = kbps;
    this.rateChangedAt = this.now();
    this.writeOffIfAbove(kbps);
  }

  /** The last IDR was made at more than twice `kbps`: it is not waited for. */
  private writeOffIfAbove(kbps: number): void {
    if (this.keyFrameKbps !== undefined && kbps < this.keyFrameKbps / 2) {
      this.keyFrameSentAt = Number.NEGATIVE_INFINITY;
      this.keyFrameKbps = undefined;
    }
  }

  /** The source stopped or restarted: nothing asked of it is on its way any more. */
  reset(): void {
    this.pending = false;
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * How long after a rate change a frame that comes out may still have been
 * encoded at the old rate (a frame or two in the capture -> encoder
 * pipeline; the lab saw a 46 KB IDR 6 ms after a cut to 150 kbit/s).
 */
const ENCODER_LAG_MS = 200;

/** The most an IDR's drain time adds to its in-flight window: a second IDR after this is no worse. */
export const MAX_DRAIN_MS = 2000;

/** How long `bytes` take to leave at `rateBps` (0 for an unknown rate). */
export function drainTimeMs(bytes: number, rateBps: number | undefined): number {
  if (rateBps === undefined || !(rateBps > 0)) return 0;
  return (bytes * 8 * 1000) / rateBps;
}

/**
 * How long an IDR sent to a viewer with this round trip may still be on its
 * way, as its PLIs see it: the round trip, a quarter more for jitter, and
 * 5 ms for the viewer to notice; at most a second.
 */
export function inFlightWindow(roundTripMs: number): number {
  return Math.min(1000, roundTripMs * 1.25 + 5);
}
