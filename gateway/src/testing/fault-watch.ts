import type { ProbeReport } from "../probe/probe.js";
import { getJson, type GatewayProcess } from "./gateway-process.js";

/**
 * Helpers for watching a gateway through a fault (faults.e2e.test.ts and
 * the fault bench): its /metrics, and waiting until video flows.
 */

/** A metric's value from /metrics text (0 when absent). */
export function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

export async function metrics(gw: GatewayProcess): Promise<string> {
  return String((await getJson(`${gw.httpUrl}metrics`)).body);
}

/**
 * Waits until a viewer is connected and `frames` more frames have gone out
 * (60: 2 s at 30 fps): a fault before then would hit a stream the viewer has
 * barely seen.
 */
export async function videoFlowing(
  gw: GatewayProcess,
  frames = 60,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let from: number | null = null;
  while (Date.now() < deadline) {
    const m = await metrics(gw);
    if (metric(m, "camgw_connected_sessions") >= 1) {
      const sent = metric(m, "camgw_frames_packetized_total");
      from ??= sent;
      if (sent - from >= frames) return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("no video flowing to the viewer");
}

/**
 * How long after `atMs` (ms since the epoch, on the probe's clock) the
 * probe decoded a frame again: the end of the freeze that spans `atMs`.
 * Null when no freeze spans it, or the one that does lasted to the end.
 */
export function resumedAfter(report: ProbeReport, atMs: number): number | null {
  const freeze = report.freezeList.find(
    (f) => report.offerAt + f.atMs <= atMs && report.offerAt + f.atMs + f.durationMs >= atMs,
  );
  if (!freeze) return null;
  const end = report.offerAt + freeze.atMs + freeze.durationMs;
  if (freeze === report.freezeList.at(-1) && end >= report.offerAt + report.watchedMs - 1)
    return null;
  return end - atMs;
}

/** The first freeze still going on at or after `atMs` (ms since the epoch), with its times on that clock. */
export function freezeAfter(
  report: ProbeReport,
  atMs: number,
): { startAt: number; endAt: number; durationMs: number } | null {
  for (const f of report.freezeList) {
    const startAt = report.offerAt + f.atMs;
    const endAt = startAt + f.durationMs;
    if (endAt >= atMs) return { startAt, endAt, durationMs: f.durationMs };
  }
  return null;
}
