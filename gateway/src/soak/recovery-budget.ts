import type { FaultKind } from "./soak-plan.js";

/**
 * How long a viewer may stay frozen, and the soak's verdict on each freeze
 * a viewer saw. A freeze is judged against the disruptions that can explain
 * it (a fault that was on, a broker that was down); one nothing explains
 * gets the plain budget. Times are ms since the epoch.
 */

export type DisruptionKind = FaultKind | "broker" | "host";

/** Something the soak did to the gateway, as it happened. */
export interface Disruption {
  kind: DisruptionKind;
  /** What it was, for the report ("stall:ms=1500", "broker down 3.2 s"). */
  label: string;
  startAt: number;
  endAt: number;
}

/**
 * A budget counts from the disruption's end (the camera is back), its start
 * (a watchdog has to notice) or the freeze's own start (a lasting fault may
 * cost a moment now and then, each recovered on its own).
 */
export interface Budget {
  from: "end" | "start" | "freeze";
  ms: number;
  why: string;
}

/**
 * From docs/architecture.md "Faults" and issue 14 ("video resumes within 1 s
 * of the device coming back, or of the watchdog firing"), each with 1 s of
 * slack for a shared 2-core machine.
 */
export const BUDGETS: Readonly<Record<DisruptionKind | "none" | "first", Budget>> = {
  none: {
    from: "freeze",
    ms: 2000,
    why: "nothing to recover from: a person notices a second (+1 s slack)",
  },
  first: {
    from: "freeze",
    ms: 3000,
    why: "a viewer's first frame: the answer within 1 s (docs/signaling.md), the camera and encoder opened if nobody watched, their first IDR (+1 s)",
  },
  unplug: {
    from: "end",
    ms: 3000,
    why: "reopen polling of at most 1 s, then video within 1 s of the device's return (+1 s)",
  },
  stall: {
    from: "end",
    ms: 2000,
    why: "video within 1 s of frames coming again (+1 s)",
  },
  "enc-stop": {
    from: "start",
    ms: 4000,
    why: "watchdog at 3 frame intervals, restart, a second stall and x264 taking over, 1 s each at most (+1 s)",
  },
  eio: {
    from: "freeze",
    ms: 3000,
    why: "a second of EIO reopens the pipeline at once: 1 s, then video within 1 s (+1 s)",
  },
  drop: { from: "freeze", ms: 2000, why: "lost frames cost a moment (+1 s)" },
  corrupt: {
    from: "freeze",
    ms: 2000,
    why: "PLI answered within about a round trip, then an IDR (+1 s)",
  },
  drift: { from: "freeze", ms: 2000, why: "a clock off by ppm costs no freeze (+1 s)" },
  "enc-lag": { from: "freeze", ms: 2000, why: "a late encoder adds latency, not freezes (+1 s)" },
  xrun: { from: "freeze", ms: 2000, why: "a sound card xrun must not touch video (+1 s)" },
  host: {
    from: "end",
    ms: 2000,
    why: "the machine ran nothing for a while (host-stalls.ts): video within 1 s after it (+1 s)",
  },
  broker: {
    from: "end",
    ms: 10_000,
    why: "media never goes through the broker; a viewer recovering meanwhile waits for its reconnect (the device's backoff doubles up to 8 s after a 5 s outage) and a new session (docs/signaling.md)",
  },
};

export interface Freeze {
  startAt: number;
  endAt: number;
  /** The wait from the offer to the first frame (its own budget). */
  first?: boolean;
}

export interface FreezeVerdict extends Freeze {
  /** What the freeze is charged to: "none" or a disruption's label. */
  cause: string;
  /** When video had to be back. */
  dueAt: number;
  /** ms past dueAt (negative: in time). */
  overMs: number;
}

/**
 * A freeze's start is the last frame shown before it: a disruption that
 * caused it began at most a moment later (frames in flight, one frame
 * interval); one that began long after the picture stopped did not cause it.
 */
const CAUSE_LAG_MS = 1000;

/** A disruption explains a freeze that began with it, while it lasted, or within its budget after. */
function explains(d: Disruption, f: Freeze): boolean {
  const budget = BUDGETS[d.kind];
  const until = budget.from === "end" ? d.endAt + budget.ms : d.endAt;
  return f.startAt >= d.startAt - CAUSE_LAG_MS && f.startAt <= until;
}

function dueFor(budget: Budget, f: Freeze, d?: Disruption): number {
  if (budget.from === "freeze" || !d) return f.startAt + budget.ms;
  return (budget.from === "end" ? d.endAt : d.startAt) + budget.ms;
}

/** Each freeze with its cause and how far past its budget it went (the most lenient cause wins). */
export function judgeFreezes(
  freezes: readonly Freeze[],
  disruptions: readonly Disruption[],
): FreezeVerdict[] {
  return freezes.map((f) => {
    let cause = f.first ? "first frame" : "none";
    let dueAt = dueFor(f.first ? BUDGETS.first : BUDGETS.none, f);
    for (const d of disruptions) {
      if (!explains(d, f)) continue;
      const due = dueFor(BUDGETS[d.kind], f, d);
      if (due > dueAt) {
        dueAt = due;
        cause = d.label;
      }
    }
    return { ...f, cause, dueAt, overMs: f.endAt - dueAt };
  });
}
