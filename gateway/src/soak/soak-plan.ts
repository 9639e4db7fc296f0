import { SeededRandom } from "./seeded-random.js";

/**
 * The soak's scenario, drawn up front from a seed (so SOAK_SEED replays a
 * run): faults of the virtual board one after another in random order and
 * strength, Mosquitto restarts every minute or two, and viewers that join
 * and leave. Times are ms from the start of the soak.
 */

/** firmware-sim's fault kinds (firmware-sim/vdev/faults.c, docs/firmware-sim.md "Faults"). */
export const FAULT_KINDS = [
  "unplug",
  "drop",
  "stall",
  "eio",
  "enc-lag",
  "enc-stop",
  "corrupt",
  "drift",
  "xrun",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A fault switched on through the live control file, and off again `onMs` later. */
export interface FaultStep {
  atMs: number;
  kind: FaultKind;
  /** What the control file holds while it is on. */
  spec: string;
  onMs: number;
}

/** Mosquitto stopped at `atMs` and started again `downMs` later, on the same port. */
export interface BrokerRestart {
  atMs: number;
  downMs: number;
}

/** One viewer's stay: slot N logs in as its own account. */
export interface ViewerVisit {
  slot: number;
  joinAtMs: number;
  leaveAtMs: number;
}

export interface SoakPlan {
  seed: number;
  durationMs: number;
  /** Samples before this are warm-up: JIT, first sessions, buffers (not judged for growth). */
  warmUpMs: number;
  faults: FaultStep[];
  brokerRestarts: BrokerRestart[];
  visits: ViewerVisit[];
}

export interface PlanOptions {
  seed: number;
  durationMs: number;
  /** Viewer slots: slot 0 watches throughout, the others come and go. */
  slots: number;
}

/** No fault in the first seconds (the first viewer settles) nor the last (the end is judged calm). */
const FIRST_FAULT_MS = 20_000;
const QUIET_END_MS = 20_000;
/** No viewer joins from just before a broker restart until the device is surely back online. */
const JOIN_BLOCK_BEFORE_MS = 1_000;
const JOIN_BLOCK_AFTER_MS = 8_000;

function faultStep(r: SeededRandom, kind: FaultKind, atMs: number): FaultStep {
  const ms = (lo: number, hi: number): number => Math.round(r.between(lo, hi) / 100) * 100;
  const rate = (lo: number, hi: number): string => r.between(lo, hi).toFixed(3);
  switch (kind) {
    case "unplug":
      // A USB cable wiggle of the camera, sometimes the encoder going away.
      return {
        atMs,
        kind,
        spec: r.next() < 0.7 ? "unplug" : "unplug:dev=encoder",
        onMs: ms(500, 4000),
      };
    case "stall": {
      const stall = ms(500, 3000);
      // Kept on past the stall: a set replaced mid-stall would cut it short.
      return { atMs, kind, spec: `stall:ms=${stall}`, onMs: stall + 500 };
    }
    case "enc-stop":
      // Short ones end before the watchdog's second look; long ones lead to x264.
      return { atMs, kind, spec: "enc-stop", onMs: ms(300, 4000) };
    case "xrun":
      return { atMs, kind, spec: "xrun", onMs: 1000 };
    case "drop":
      return { atMs, kind, spec: `drop:rate=${rate(0.02, 0.1)}`, onMs: ms(4000, 12_000) };
    case "eio":
      return { atMs, kind, spec: `eio:rate=${rate(0.01, 0.05)}`, onMs: ms(4000, 12_000) };
    case "corrupt":
      return { atMs, kind, spec: `corrupt:rate=${rate(0.01, 0.05)}`, onMs: ms(4000, 12_000) };
    case "drift": {
      const ppm = r.int(200, 2000) * (r.next() < 0.5 ? -1 : 1);
      return { atMs, kind, spec: `drift:ppm=${ppm}`, onMs: ms(5000, 15_000) };
    }
    case "enc-lag":
      return { atMs, kind, spec: `enc-lag:ms=${r.int(30, 150)}`, onMs: ms(4000, 12_000) };
  }
}

/**
 * Faults in rounds: each round is every kind once in a shuffled order, so a
 * run of nine faults or more has met them all. The gap after each is short
 * enough that a 4-minute soak meets every kind.
 */
function planFaults(r: SeededRandom, durationMs: number): FaultStep[] {
  const faults: FaultStep[] = [];
  let at = FIRST_FAULT_MS;
  const lastEnd = durationMs - QUIET_END_MS;
  for (;;) {
    for (const kind of r.shuffle(FAULT_KINDS)) {
      const step = faultStep(r, kind, at);
      if (step.atMs + step.onMs > lastEnd) return faults;
      faults.push(step);
      at = step.atMs + step.onMs + Math.round(r.between(2000, 6000));
    }
  }
}

function planBrokerRestarts(r: SeededRandom, durationMs: number): BrokerRestart[] {
  const restarts: BrokerRestart[] = [];
  let at = Math.round(r.between(50_000, 90_000));
  while (at < durationMs - QUIET_END_MS - 10_000) {
    restarts.push({ atMs: at, downMs: Math.round(r.between(1000, 5000)) });
    at += Math.round(r.between(90_000, 150_000));
  }
  return restarts;
}

/** A join moved past any broker restart it would meet (the viewer could not log in). */
function joinable(atMs: number, restarts: readonly BrokerRestart[]): number {
  let at = atMs;
  for (const b of restarts) {
    const from = b.atMs - JOIN_BLOCK_BEFORE_MS;
    const to = b.atMs + b.downMs + JOIN_BLOCK_AFTER_MS;
    if (at >= from && at < to) at = to;
  }
  return at;
}

function planVisits(
  r: SeededRandom,
  durationMs: number,
  slots: number,
  restarts: readonly BrokerRestart[],
): ViewerVisit[] {
  // Slot 0 is the tab left open: it watches from start to end.
  const visits: ViewerVisit[] = [{ slot: 0, joinAtMs: 0, leaveAtMs: durationMs }];
  for (let slot = 1; slot < slots; slot++) {
    let at = Math.round(r.between(3000, 30_000));
    for (;;) {
      const joinAtMs = joinable(at, restarts);
      if (joinAtMs > durationMs - 15_000) break;
      const stay = Math.round(r.between(15_000, 75_000));
      const leaveAtMs = Math.min(durationMs, joinAtMs + stay);
      visits.push({ slot, joinAtMs, leaveAtMs });
      at = leaveAtMs + Math.round(r.between(3000, 20_000));
    }
  }
  return visits.sort((a, b) => a.joinAtMs - b.joinAtMs || a.slot - b.slot);
}

export function planSoak(options: PlanOptions): SoakPlan {
  const { seed, durationMs, slots } = options;
  const r = new SeededRandom(seed);
  const faults = planFaults(r, durationMs);
  const brokerRestarts = planBrokerRestarts(r, durationMs);
  const visits = planVisits(r, durationMs, slots, brokerRestarts);
  return {
    seed,
    durationMs,
    warmUpMs: Math.min(60_000, Math.round(durationMs / 4)),
    faults,
    brokerRestarts,
    visits,
  };
}
