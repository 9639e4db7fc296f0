/**
 * Which encoding each viewer of a stream watches: the main one, whose
 * bitrate follows the viewers on it (bitrate-policy.ts), or a second, lower
 * one for a viewer far below the rest (issue 16: "do not punish the rest").
 * One encoder follows its lowest viewer, so without this a phone on a
 * train drags every other viewer down to its rate.
 *
 * A viewer moves to the low encoding when its estimate has stayed under
 * `demoteBelow` (default half) of the best estimate among the other viewers
 * on the main encoding for `demoteAfterMs` (3 s), and when it would
 * actually hold the main encoding back (its share of the estimate is under
 * the main encoding's ceiling). It moves back when its estimate has stayed
 * at `promoteAbove` (0.9) of the lowest viewer on the main encoding, or
 * above what the main encoding could ever use, for `promoteAfterMs` (5 s):
 * thresholds apart and holds long, because each move costs a key frame.
 * The bar back is high because the main viewers' estimates are held down
 * by the rate they are sent (at most 1.5 x what arrives, docs/congestion.md):
 * right after a move they are not much above the weak viewer's, and three
 * quarters of them let it back at once (the network lab did, under load). With no viewer left on the main encoding,
 * everyone goes back to it at once: one encoding serves a lone viewer as
 * well as two would.
 *
 * Pure: no timers and no encoder; the stream fan-out applies the moves (at
 * a key frame of the target encoding) and starts or stops the second
 * encoder.
 */

export type LayerName = "main" | "low";

export interface LayerPolicyOptions {
  /** The main encoding's ceiling, kbit/s (the configured bitrate). */
  maxKbps: number;
  /** Share of an estimate the encoder fills (bitrate-policy.ts; default 0.85). */
  share?: number;
  demoteBelow?: number;
  demoteAfterMs?: number;
  promoteAbove?: number;
  promoteAfterMs?: number;
}

interface ViewerState {
  layer: LayerName;
  /** Since when the move away from `layer` has been called for; null while it is not. */
  wantedSinceMs: number | null;
}

export class LayerPolicy<K> {
  private readonly viewers = new Map<K, ViewerState>();
  private readonly share: number;
  private readonly demoteBelow: number;
  private readonly demoteAfterMs: number;
  private readonly promoteAbove: number;
  private readonly promoteAfterMs: number;

  constructor(private readonly options: LayerPolicyOptions) {
    this.share = options.share ?? 0.85;
    this.demoteBelow = options.demoteBelow ?? 0.5;
    this.demoteAfterMs = options.demoteAfterMs ?? 3000;
    this.promoteAbove = options.promoteAbove ?? 0.9;
    this.promoteAfterMs = options.promoteAfterMs ?? 5000;
    if (!(this.demoteBelow > 0 && this.demoteBelow < this.promoteAbove && this.promoteAbove <= 1)) {
      throw new RangeError(
        `layer policy: need 0 < demoteBelow (${this.demoteBelow}) < promoteAbove (${this.promoteAbove}) <= 1`,
      );
    }
  }

  /** The encoding a viewer watches (main until the policy moved it). */
  layerOf(viewer: K): LayerName {
    return this.viewers.get(viewer)?.layer ?? "main";
  }

  /** Whether any viewer watches the low encoding. */
  get lowInUse(): boolean {
    for (const v of this.viewers.values()) if (v.layer === "low") return true;
    return false;
  }

  /** The viewer left. */
  remove(viewer: K): void {
    this.viewers.delete(viewer);
  }

  /**
   * Re-decides from every viewer's current estimate (bit/s); returns the
   * viewers whose encoding changed, with the one they now watch.
   */
  update(estimates: ReadonlyMap<K, number>, nowMs: number): Map<K, LayerName> {
    const moves = new Map<K, LayerName>();
    for (const viewer of this.viewers.keys()) {
      if (!estimates.has(viewer)) this.viewers.delete(viewer);
    }
    for (const viewer of estimates.keys()) {
      if (!this.viewers.has(viewer))
        this.viewers.set(viewer, { layer: "main", wantedSinceMs: null });
    }
    // What the main encoding could use at most: an estimate above this never limits it.
    const ceilingBps = (this.options.maxKbps * 1000) / this.share;
    const onMain = [...this.viewers].filter(([, v]) => v.layer === "main").map(([k]) => k);
    if (onMain.length === 0) {
      for (const [viewer, state] of this.viewers) {
        state.layer = "main";
        state.wantedSinceMs = null;
        moves.set(viewer, "main");
      }
      return moves;
    }
    let lowestMain = Number.POSITIVE_INFINITY;
    for (const k of onMain) lowestMain = Math.min(lowestMain, estimates.get(k) ?? Infinity);
    for (const [viewer, state] of this.viewers) {
      const bps = estimates.get(viewer) ?? 0;
      let wantsMove: boolean;
      if (state.layer === "main") {
        let bestOther = 0;
        for (const k of onMain)
          if (k !== viewer) bestOther = Math.max(bestOther, estimates.get(k) ?? 0);
        wantsMove = bps < ceilingBps && bps < this.demoteBelow * bestOther;
      } else {
        wantsMove = bps >= ceilingBps || bps >= this.promoteAbove * lowestMain;
      }
      if (!wantsMove) {
        state.wantedSinceMs = null;
        continue;
      }
      state.wantedSinceMs ??= nowMs;
      const holdMs = state.layer === "main" ? this.demoteAfterMs : this.promoteAfterMs;
      if (nowMs - state.wantedSinceMs < holdMs) continue;
      // Never the last viewer off the main encoding.
      if (state.layer === "main" && this.mainCount() <= 1) continue;
      state.layer = state.layer === "main" ? "low" : "main";
      state.wantedSinceMs = null;
      moves.set(viewer, state.layer);
    }
    return moves;
  }

  private mainCount(): number {
    let n = 0;
    for (const v of this.viewers.values()) if (v.layer === "main") n++;
    return n;
  }
}

/**
 * The low encoding's size and ceiling for a stream captured at `size` with
 * a main ceiling of `maxKbps`: half the width and height (a quarter of the
 * pixels, so a quarter of the bits for the same quality), even for 4:2:0,
 * and a quarter of the rate, never under `minKbps`.
 */
export function lowEncodingFor(
  size: { width: number; height: number },
  maxKbps: number,
  minKbps: number,
): { width: number; height: number; maxKbps: number } {
  const half = (n: number): number => Math.max(16, Math.floor(n / 4) * 2);
  return {
    width: half(size.width),
    height: half(size.height),
    maxKbps: Math.max(minKbps, Math.round(maxKbps / 4)),
  };
}
