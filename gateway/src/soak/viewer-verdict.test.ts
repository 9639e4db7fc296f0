import { describe, expect, it } from "vitest";
import type { ProbeReport } from "../probe/probe.js";
import type { Disruption } from "./recovery-budget.js";
import { freezesOf, judgeViewer } from "./viewer-verdict.js";

const T0 = 1_700_000_000_000;

/** A probe report of a viewer that joined 30 s into the soak (the fields the verdict reads). */
function report(over: Partial<ProbeReport>): ProbeReport {
  return {
    offerAt: T0 + 30_000,
    video: true,
    timeToFirstFrameMs: 400,
    freezeList: [],
    ended: null,
    endedAfterMs: null,
    ...over,
  } as ProbeReport;
}

const stall: Disruption = {
  kind: "stall",
  label: "stall:ms=2000",
  startAt: T0 + 40_000,
  endAt: T0 + 42_500,
};

describe("a soak viewer's verdict", () => {
  it("takes the wait for the first frame as a freeze", () => {
    expect(freezesOf(report({ freezeList: [{ atMs: 5000, durationMs: 300 }] }))).toEqual([
      { startAt: T0 + 30_000, endAt: T0 + 30_400, first: true },
      { startAt: T0 + 35_000, endAt: T0 + 35_300 },
    ]);
  });

  it("passes a viewer whose freezes all ended within their budgets", () => {
    const r = report({ freezeList: [{ atMs: 9900, durationMs: 3500 }] });
    const v = judgeViewer("viewer 1", r, false, [stall], T0);
    expect(v.problems).toEqual([]);
    expect(v.freezes.map((f) => f.cause)).toEqual(["first frame", "stall:ms=2000"]);
  });

  it("fails a viewer frozen past its budget, saying when, how long and why", () => {
    const r = report({ freezeList: [{ atMs: 9900, durationMs: 6000 }] });
    expect(judgeViewer("viewer 1", r, false, [stall], T0).problems).toEqual([
      "viewer 1 froze at 00:40 for 6.0 s, 1.4 s past its budget (cause: stall:ms=2000)",
    ]);
  });

  it("fails a call that ended by itself, and one that never played", () => {
    const ended = report({ ended: "source-lost", endedAfterMs: 60_000 });
    expect(judgeViewer("viewer 2", ended, true, [], T0).problems).toEqual([
      "viewer 2's call ended by itself at 01:30: source-lost",
    ]);
    const dark = report({ video: false, timeToFirstFrameMs: null });
    expect(judgeViewer("viewer 0", dark, false, [], T0).problems).toEqual([
      "viewer 0 joined at 00:30 and never showed a picture",
    ]);
  });
});
