/**
 * The probe's picture second by second (`camgw probe --timeline`): how many
 * frames were shown, how many bytes of video arrived and each shown frame's
 * glass-to-glass, per whole second after the offer. Lab scenarios line this
 * up with what the gateway sent in the same second (gateway/src/congestion-lab).
 */
import { round } from "./stats.js";

export interface ProbeSecond {
  /** The second's start, ms after the offer (0, 1000, 2000, ...). */
  atMs: number;
  /** Frames shown (decoded, or received without decoding). */
  frames: number;
  /** Video payload received in this second (frames as they completed, before decoding), kbit/s. */
  kbps: number;
  /** Glass-to-glass of each stamped frame shown in this second, ms. */
  glassToGlassMs: number[];
}

export class ProbeTimeline {
  readonly #seconds = new Map<number, ProbeSecond>();

  constructor(private readonly originMs: () => number | null) {}

  #second(atMs: number): ProbeSecond | undefined {
    const origin = this.originMs();
    if (origin === null) return undefined;
    const index = Math.max(0, Math.floor((atMs - origin) / 1000));
    let s = this.#seconds.get(index);
    if (!s) {
      s = { atMs: index * 1000, frames: 0, kbps: 0, glassToGlassMs: [] };
      this.#seconds.set(index, s);
    }
    return s;
  }

  /** A frame completed at `atMs` (epoch ms) with `bytes` of payload. */
  received(atMs: number, bytes: number): void {
    const s = this.#second(atMs);
    if (s) s.kbps += (bytes * 8) / 1000;
  }

  /** A frame was shown at `atMs` (epoch ms), with its glass-to-glass when stamped. */
  shown(atMs: number, glassToGlassMs: number | null): void {
    const s = this.#second(atMs);
    if (!s) return;
    s.frames++;
    if (glassToGlassMs !== null) s.glassToGlassMs.push(round(glassToGlassMs));
  }

  /** Every whole second from the offer to `endMs` (epoch ms), empty ones included. */
  seconds(endMs: number): ProbeSecond[] {
    const origin = this.originMs();
    if (origin === null) return [];
    const last = Math.floor((endMs - origin) / 1000) - 1;
    const out: ProbeSecond[] = [];
    for (let i = 0; i <= last; i++) {
      const s = this.#seconds.get(i) ?? { atMs: i * 1000, frames: 0, kbps: 0, glassToGlassMs: [] };
      out.push({ ...s, kbps: round(s.kbps) });
    }
    return out;
  }
}
