/**
 * The connectivity matrix in the network lab (docs/signaling.md, "ICE
 * servers"; docs/firmware-sim.md, "Network lab"): the virtual board behind
 * no NAT, a home router (eim) and a symmetric NAT, watched by `camgw probe`
 * from behind each of those and a UDP-blocking firewall, with no ICE
 * servers, STUN, STUN + a plain turn: URL, and turns: only. The gateway is
 * configured once per column (URLs and the TURN REST secret) and the
 * viewers get their servers and TURN credentials from it over signaling.
 *
 * Every pair ICE can solve plays through one of the paths the lab allows
 * (paths.ts), a relay only where one is configured, with the client leg one
 * expects (TLS for turns:, TCP where UDP is blocked). Every pair it cannot
 * solve ends with the device's `bye ice-failed` and leaves no session
 * behind. Times are printed, never asserted.
 *
 * `make test` runs one row of labs: the board behind a symmetric NAT (the
 * case that needs TURN), every viewer NAT, no servers, a plain turn: URL and
 * turns: (12 cells, one lab). The whole matrix (3 labs, 48 cells, several
 * minutes) runs with CAMGW_MATRIX=full: `make matrix`; `make bench` prints
 * its table with times.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureLinkemBuilt } from "../../../firmware-sim/src/net/test-support.js";
import { assertBuilt } from "../testing/gateway-process.js";
import {
  BOARD_NATS,
  formatMatrix,
  ICE_COLUMNS,
  runMatrix,
  VIEWER_NATS,
  type MatrixCell,
} from "./matrix.js";

const full = process.env.CAMGW_MATRIX === "full";
const boardNats = full ? BOARD_NATS : (["symmetric"] as const);
const columns = full ? ICE_COLUMNS : (["none", "turn", "turns"] as const);

const cells: MatrixCell[] = [];
let wallMs = 0;

beforeAll(async () => {
  assertBuilt();
  ensureLinkemBuilt();
  const t0 = performance.now();
  cells.push(...(await runMatrix({ boardNats, columns })));
  wallMs = performance.now() - t0;
}, 20 * 60_000);

afterAll(() => {
  if (cells.length === 0) return;
  console.log(
    `connectivity matrix: ${cells.length} cells in ${Math.round(wallMs / 1000)} s\n${formatMatrix(cells)}`,
  );
});

const combos = boardNats.flatMap((board) =>
  VIEWER_NATS.flatMap((viewer) => columns.map((ice) => ({ board, viewer, ice }))),
);

const cellOf = (c: { board: string; viewer: string; ice: string }): MatrixCell => {
  const cell = cells.find((x) => x.board === c.board && x.viewer === c.viewer && x.ice === c.ice);
  if (!cell) throw new Error(`no result for ${c.board} -> ${c.viewer}, ${c.ice}`);
  return cell;
};

describe("the board behind each NAT, watched from behind each NAT, with each set of ICE servers", () => {
  it.each(combos)("board $board, viewer $viewer, ICE $ice", (combo) => {
    const cell = cellOf(combo);
    const { report, expected } = cell;
    const what = JSON.stringify({ report, gateway: cell.gatewayPath });
    if (expected.paths.length === 0) {
      // Unsolvable: the device's verdict, and nothing left on it.
      expect(report.video, what).toBe(false);
      expect(report.ended, what).toBe("ice-failed");
      expect(cell.sessionsAfter, what).toBe(0);
      return;
    }
    expect(report.video, what).toBe(true);
    expect(report.frames, what).toBeGreaterThanOrEqual(30);
    expect(report.ended, what).toBeNull();
    // A first call has nothing cached: its servers came from the device.
    expect(report.iceServers, what).toBe("from-device");
    expect(expected.paths, what).toContain(cell.path);
    // No relay where none is configured (the direct paths are all there is).
    if (cell.ice === "none" || cell.ice === "stun")
      expect(expected.direct, what).toContain(cell.path);
    // The board's own relay, when it is on the path, runs over UDP (turn:,
    // the board's network lets UDP out) or TLS (turns:).
    if (cell.gatewayPath?.startsWith("relay(")) {
      expect(cell.gatewayPath, what).toMatch(
        cell.ice === "turns" ? /^relay\(tls\)/ : /^relay\(udp\)/,
      );
    }
    expect(cell.sessionsAfter, what).toBe(0);
  });
});
