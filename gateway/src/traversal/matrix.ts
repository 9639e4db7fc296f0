/**
 * The connectivity matrix: the virtual board behind each NAT of the
 * network lab, watched by `camgw probe` from behind each NAT, with each set
 * of ICE servers, the viewers getting theirs from the gateway over
 * signaling. One lab per board NAT holds every viewer NAT (one viewer site
 * each); one gateway per ICE column serves the four viewers at once. Used by
 * matrix.e2e.test.ts (which asserts) and `make bench` (which prints).
 */
import { startNetLab, type NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import type { NatType } from "../../../firmware-sim/src/net/plan.js";
import type { ProbeReport } from "../probe/probe.js";
import {
  COLUMN_SERVERS,
  expectedPaths,
  pathOf,
  type ExpectedPaths,
  type IceColumn,
} from "./paths.js";
import { gatewayPath, settledSessions } from "./lab-gateway.js";

export const BOARD_NATS: readonly NatType[] = ["none", "eim", "symmetric"];
export const VIEWER_NATS: readonly NatType[] = ["none", "eim", "symmetric", "udp-blocked"];
export const ICE_COLUMNS: readonly IceColumn[] = ["none", "stun", "turn", "turns"];

export interface MatrixCell {
  board: NatType;
  viewer: NatType;
  ice: IceColumn;
  expected: ExpectedPaths;
  report: ProbeReport;
  /** The viewer's nominated pair as a path ("host-srflx", "relay(tcp)-relay"), or null. */
  path: string | null;
  /** The gateway's side of the same session, as its log says ("relay(udp) ... -> prflx ..."), or null. */
  gatewayPath: string | null;
  /** Live sessions on the gateway once this column's viewers were done. */
  sessionsAfter: number;
}

export interface MatrixOptions {
  boardNats?: readonly NatType[];
  viewerNats?: readonly NatType[];
  columns?: readonly IceColumn[];
  /** The longest a viewer watches, s: a cell that connects stops after `frames` frames. */
  seconds?: number;
  frames?: number;
  /** Each cell as it is done. */
  onCell?: (cell: MatrixCell) => void;
}

/** Runs the matrix; resolves with every cell. Labs are closed whatever happens. */
export async function runMatrix(options: MatrixOptions = {}): Promise<MatrixCell[]> {
  const viewerNats = options.viewerNats ?? VIEWER_NATS;
  const cells: MatrixCell[] = [];
  for (const board of options.boardNats ?? BOARD_NATS) {
    const lab = await startNetLab({ boardNat: board, viewerNats });
    try {
      for (const ice of options.columns ?? ICE_COLUMNS) {
        const column = await runColumn(lab, board, viewerNats, ice, options);
        for (const cell of column) {
          cells.push(cell);
          options.onCell?.(cell);
        }
      }
    } finally {
      await lab.close();
    }
  }
  return cells;
}

/** One gateway with this column's servers, watched from every viewer site at once. */
async function runColumn(
  lab: NetLab,
  board: NatType,
  viewerNats: readonly NatType[],
  ice: IceColumn,
  options: MatrixOptions,
): Promise<MatrixCell[]> {
  const deviceId = `matrix-${ice}`;
  const servers = lab.gatewayIce(COLUMN_SERVERS[ice]);
  const gateway = await lab.startGateway({
    env: servers.env,
    args: [...servers.args, "--device-id", deviceId],
  });
  try {
    const reports = await Promise.all(
      viewerNats.map((_, i) =>
        lab.probe(`viewer${i + 1}`, {
          deviceId,
          seconds: options.seconds ?? 15,
          // Frames arriving through the path is what "plays" means here;
          // decoding four streams at once would only load the machine.
          args: ["--frames", String(options.frames ?? 30), "--no-decode", "--no-recover"],
        }),
      ),
    );
    const sessionsAfter = await settledSessions(lab, gateway);
    return reports.map((report, i) => {
      const viewer = viewerNats[i] ?? "none";
      return {
        board,
        viewer,
        ice,
        expected: expectedPaths(board, viewer, ice),
        report,
        path: report.candidatePair ? pathOf(report.candidatePair) : null,
        gatewayPath: gatewayPath(gateway.output(), report.viewerId),
        sessionsAfter,
      };
    });
  } finally {
    await gateway.stop();
  }
}

/**
 * Whether a cell did what paths.ts says ICE can: played through one of the
 * expected paths, or failed where no path exists. matrix.e2e.test.ts asserts
 * the same (and more: the gateway's side, the freed session).
 */
export function asExpected(cell: MatrixCell): boolean {
  if (cell.expected.paths.length === 0) return !cell.report.video;
  return cell.report.video && cell.path !== null && cell.expected.paths.includes(cell.path);
}

/**
 * The matrix as a table: one row per board/viewer pair, a column per ICE
 * set (path, time to first frame); a cell that did not do what paths.ts
 * expects is marked with "!" and what was expected.
 */
export function formatMatrix(cells: readonly MatrixCell[]): string {
  const columns = [...new Set(cells.map((c) => c.ice))];
  const rows = [...new Set(cells.map((c) => `${c.board} -> ${c.viewer}`))];
  const outcome = (c: MatrixCell): string => {
    if (!c.report.video) {
      const after =
        c.report.endedAfterMs === null ? "" : ` ${Math.round(c.report.endedAfterMs)} ms`;
      return `fails: ${c.report.ended ?? "no video"}${after}`;
    }
    return `${c.path ?? "?"} ${Math.round(c.report.timeToFirstFrameMs ?? 0)} ms`;
  };
  const text = (c: MatrixCell | undefined): string => {
    if (!c) return "";
    if (asExpected(c)) return outcome(c);
    return `! ${outcome(c)} (expected ${c.expected.best ?? "a clean failure"})`;
  };
  const table = [["board -> viewer", ...columns.map((c) => `ICE ${c}`)]];
  for (const row of rows) {
    table.push([
      row,
      ...columns.map((ice) =>
        text(cells.find((c) => `${c.board} -> ${c.viewer}` === row && c.ice === ice)),
      ),
    ]);
  }
  const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? "").length))) ?? [];
  const lines = table.map((r) =>
    r
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd(),
  );
  const good = cells.filter(asExpected).length;
  lines.push(`${good} of ${cells.length} cells as paths.ts expects ("!" marks the others)`);
  return lines.join("\n");
}
