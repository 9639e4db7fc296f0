/**
 * A relayed call in the network lab outlives its TURN allocation, and the
 * board releases its allocations when the call ends (issue 15; werift
 * patch 4, docs/werift-patches.md). The lab's coturn grants allocations
 * LIFETIME_S seconds (max-allocate-lifetime; coturn has no lower bound):
 * RFC 8656 section 7 lets an allocation expire unless its client sends a
 * Refresh first, and the patched werift refreshes at half the lifetime.
 *
 * The board and the viewer sit behind symmetric NATs; the gateway has STUN
 * and TURN over UDP, the viewer STUN only (`camgw probe --ice-servers`), so
 * the one path ICE can find is the viewer's host to the board's relay
 * (paths.ts: a symmetric NAT's mappings are per destination, and nothing
 * but a relay lets a peer in): every frame crosses the board's allocation.
 * The viewer watches for PLAY_S seconds, past the lifetime, without
 * recovering (a call the allocation dropped would stall or end). Then,
 * once it hung up, coturn's log must show each of the board's allocations
 * released by the board (RFC 8656 section 7: a Refresh with LIFETIME 0),
 * not expired. Durations are printed, never asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  readTurnSessions,
  released,
  type TurnSession,
} from "../../../firmware-sim/src/net/coturn-log.js";
import { startNetLab, type NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import { ensureLinkemBuilt } from "../../../firmware-sim/src/net/test-support.js";
import { assertBuilt } from "../testing/gateway-process.js";
import { gatewayPath, settledSessions } from "./lab-gateway.js";
import { pathOf } from "./paths.js";

/** coturn's max-allocate-lifetime here, s: the board's refreshes are due every 15 s. */
const LIFETIME_S = 30;
/** How long the viewer watches after the answer: the lifetime and 20 s more. */
const PLAY_S = LIFETIME_S + 20;
/** No frame for this long is a stall to the web viewer and the probe (recovering-viewer.ts). */
const STALL_MS = 4000;
const DEVICE_ID = "turn-lifetime";

let lab: NetLab | undefined;

beforeAll(async () => {
  assertBuilt();
  ensureLinkemBuilt();
  lab = await startNetLab({
    boardNat: "symmetric",
    viewerNats: ["symmetric"],
    turn: { maxAllocateLifetimeS: LIFETIME_S },
  });
}, 120_000);

afterAll(async () => {
  await lab?.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The board's allocations (its REST username is "<expiry>:<device id>"), once all are released or `timeoutMs` passed. */
async function boardAllocationsOnceReleased(
  logFile: string,
  timeoutMs: number,
): Promise<TurnSession[]> {
  const board = (username: string): boolean => username.endsWith(`:${DEVICE_ID}`);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const sessions = await readTurnSessions(logFile, board);
    if (sessions.every(released) || performance.now() > deadline) return sessions;
    await sleep(100);
  }
}

describe("a relayed call in the network lab", () => {
  it(
    "outlives its TURN allocation's lifetime, and the board releases its allocations when the viewer leaves",
    { timeout: 240_000 },
    async () => {
      const theLab = lab;
      if (!theLab?.turn) throw new Error("the lab did not start");
      const logFile = theLab.turn.logFile;
      expect(theLab.turn.maxAllocateLifetimeS).toBe(LIFETIME_S);
      const ice = theLab.gatewayIce(["stun", "turn-udp"]);
      const gateway = await theLab.startGateway({
        env: ice.env,
        args: [...ice.args, "--device-id", DEVICE_ID],
      });
      try {
        const report = await theLab.probe("viewer1", {
          deviceId: DEVICE_ID,
          seconds: PLAY_S,
          ice: ["stun"],
          args: ["--no-decode", "--no-recover"],
        });
        const leftAt = performance.now();
        const log = gateway.output();
        const path = gatewayPath(log, report.viewerId);
        const what = JSON.stringify({ report, path, log: log.split("\n").slice(-30) });

        // It played through the board's relay, in one session, to the end.
        expect(report.video, what).toBe(true);
        expect(report.ended, what).toBeNull();
        expect(report.candidatePair && pathOf(report.candidatePair), what).toBe("host-relay");
        expect(path, what).toMatch(/^relay\(udp\) /);
        expect((log.match(/\) connected: /g) ?? []).length, what).toBe(1);
        // The allocation was made before the answer: frames still came 10 s
        // after it would have expired, and none stopped long enough to stall.
        expect(report.answerMs, what).not.toBeNull();
        expect(report.lastFrameMs ?? 0, what).toBeGreaterThan(
          (report.answerMs ?? 0) + (LIFETIME_S + 10) * 1000,
        );
        expect(
          report.freezeList.filter((f) => f.durationMs >= STALL_MS),
          what,
        ).toEqual([]);

        // The viewer's bye ends the session; its allocations go with it.
        expect(await settledSessions(theLab, gateway), what).toBe(0);
        const sessions = await boardAllocationsOnceReleased(logFile, 10_000);
        const releasedAfterMs = Math.round(performance.now() - leftAt);
        const events = JSON.stringify(sessions);
        expect(sessions.length, events).toBeGreaterThanOrEqual(1);
        // Refreshed before each expiry (coturn grants LIFETIME_S each time).
        const refreshes = sessions.map(
          (s) => s.events.filter((e) => e === `refresh ${LIFETIME_S}`).length,
        );
        expect(Math.max(...refreshes), events).toBeGreaterThanOrEqual(2);
        // Released by the board (Refresh LIFETIME 0, then deleted), none expired.
        for (const session of sessions) expect(released(session), events).toBe(true);
        console.log(
          `relayed call past a ${LIFETIME_S} s allocation lifetime: first frame ${Math.round(
            report.timeToFirstFrameMs ?? 0,
          )} ms, ${report.frames} frames in ${Math.round(report.watchedMs / 1000)} s, ` +
            `${report.freezes} freezes (longest ${Math.round(report.longestFreezeMs)} ms); ` +
            `board allocations ${sessions.length}, refreshes ${refreshes.join("/")}, ` +
            `all released ${releasedAfterMs} ms after the viewer left`,
        );
      } finally {
        await gateway.stop();
      }
    },
  );
});
