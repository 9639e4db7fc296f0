import type { ProbeReport } from "../probe/probe.js";
import {
  judgeFreezes,
  type Disruption,
  type Freeze,
  type FreezeVerdict,
} from "./recovery-budget.js";
import { clock } from "./report-table.js";

/**
 * A viewer's stay, judged when it leaves: every freeze in its report (and
 * the wait for its first frame, which is a freeze to the person) against
 * the disruptions around it; a call that ended by itself or never showed a
 * picture fails too.
 */
export interface ViewerVerdict {
  freezes: FreezeVerdict[];
  /** Why this stay fails the soak, one line each (empty: it passed). */
  problems: string[];
}

export function freezesOf(report: ProbeReport): Freeze[] {
  const freezes: Freeze[] = report.freezeList.map((f) => ({
    startAt: report.offerAt + f.atMs,
    endAt: report.offerAt + f.atMs + f.durationMs,
  }));
  if (report.timeToFirstFrameMs !== null)
    freezes.unshift({
      startAt: report.offerAt,
      endAt: report.offerAt + report.timeToFirstFrameMs,
      first: true,
    });
  return freezes;
}

/**
 * `name` says which viewer ("viewer 2"); `t0` (ms since the epoch) is the
 * soak's start, which the problem lines count from; `early` is true when
 * the viewer's call ended before it was told to leave.
 */
export function judgeViewer(
  name: string,
  report: ProbeReport,
  early: boolean,
  disruptions: readonly Disruption[],
  t0: number,
): ViewerVerdict {
  const problems: string[] = [];
  const at = (ms: number): string => clock(ms - t0);
  if (!report.video) {
    problems.push(
      `${name} joined at ${at(report.offerAt)} and never showed a picture${report.ended ? ` (${report.ended})` : ""}`,
    );
  }
  if (early || report.ended !== null) {
    const when =
      report.endedAfterMs === null ? "" : ` at ${at(report.offerAt + report.endedAfterMs)}`;
    problems.push(`${name}'s call ended by itself${when}: ${report.ended ?? "the probe exited"}`);
  }
  const freezes = judgeFreezes(freezesOf(report), disruptions);
  for (const f of freezes) {
    if (f.overMs <= 0) continue;
    problems.push(
      `${name} froze at ${at(f.startAt)} for ${((f.endAt - f.startAt) / 1000).toFixed(1)} s, ${(f.overMs / 1000).toFixed(1)} s past its budget (cause: ${f.cause})`,
    );
  }
  return { freezes, problems };
}
