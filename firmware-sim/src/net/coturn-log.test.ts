/**
 * The fixture is coturn 4.6.1 (Debian 4.6.1-1) with `verbose` and
 * `simple-log`, max-allocate-lifetime 4 s, recorded on 127.0.0.1: werift
 * (with camgw's patch) allocated as "board", made a permission, let it be
 * refreshed twice and closed it; then allocated as "viewer1" and kept it
 * (refreshed, never closed). Before each allocation, its 401 challenge.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { released, turnSessions } from "./coturn-log.js";

const log = await readFile(
  new URL("./fixtures/coturn-4.6.1-sessions.log", import.meta.url),
  "utf8",
);

describe("coturn's log, read per allocation", () => {
  it("follows each allocation from new to delete, with its refreshes and permissions", () => {
    expect(turnSessions(log)).toEqual([
      {
        id: "000000000000000001",
        username: "1796073842:board",
        events: ["new", "permission", "refresh 4", "refresh 4", "refresh 0", "delete"],
      },
      {
        id: "000000000000000003",
        username: "1796073847:viewer1",
        events: ["new", "refresh 4", "refresh 4", "refresh 4", "refresh 4"],
      },
    ]);
  });

  it("keeps the allocations of the usernames asked for", () => {
    const board = turnSessions(log, (u) => u.endsWith(":board"));
    expect(board.map((s) => s.username)).toEqual(["1796073842:board"]);
  });

  it("tells an allocation its client released from one still there or expired", () => {
    const [board, viewer] = turnSessions(log);
    expect(board && released(board)).toBe(true);
    expect(viewer && released(viewer)).toBe(false);
    // Deleted without a Refresh with lifetime 0 first: it expired.
    expect(released({ id: "1", username: "x", events: ["new", "refresh 4", "delete"] })).toBe(
      false,
    );
  });

  it("finds nothing in a log without allocations", () => {
    expect(turnSessions("")).toEqual([]);
    expect(turnSessions("0: : session 000000000000000002: TCP socket closed remotely\n")).toEqual(
      [],
    );
  });
});
