import { expect, it } from "vitest";
import type { GatewaySample } from "./gateway-sampler.js";
import { judgeGrowth } from "./growth-verdict.js";
import { clock, growthLine, tableHeader, tableRow } from "./report-table.js";

const sample: GatewaySample = {
  t: 125_000,
  sessions: 3,
  rssMb: 142.26,
  heapMb: 38.04,
  fds: 41,
  threads: 18,
  handles: 27,
  timers: 15,
  lagP99Ms: 21.52,
  lagMaxMs: Number.NaN,
  load: 7.25,
  sourceRunning: 1,
  fallbackAt: null,
  softwareEncoder: 0,
  framesOut: 3000,
  fpsOut: 29.96,
  diagnostics: {},
};

it("prints each sample under its column, right-aligned", () => {
  const header = tableHeader();
  const row = tableRow(
    sample,
    { viewers: 3, freezes: 4, overBudget: 0, recoveries: 1 },
    "stall:ms=900",
  );
  expect(header).toMatch(/^ time {2}viewers {2}sess {2}fps out {2}RSS MB/);
  expect(row).toMatch(/^02:05 {8}3 {5}3 {5}30\.0 {3}142\.3 {5}38\.0/);
  expect(row).toMatch(/ {3}21\.5 {8}- {8}4 {5}0 {6}1 {3}7\.3 {2}stall:ms=900$/);
  // Every column but the last ends where its title does.
  for (const title of ["viewers", "sess", "RSS MB", "heap MB", "lag p99", "recov", "load"]) {
    const end = header.indexOf(title) + title.length;
    expect(row[end - 1]).not.toBe(" ");
    expect(row[end]).toBe(" ");
  }
});

it("counts time as minutes and seconds", () => {
  expect(clock(0)).toBe("00:00");
  expect(clock(59_600)).toBe("01:00");
  expect(clock(20 * 60_000 + 5000)).toBe("20:05");
});

it("says whether a figure grew, by how much and against what limit", () => {
  const points = Array.from({ length: 20 }, (_, i) => ({
    t: i * 10_000,
    value: 30 + i,
    state: [1],
  }));
  const line = growthLine(judgeGrowth(points, { name: "fds", unit: "", absolute: 8 }));
  expect(line).toBe(
    "  fds       GREW  trend +19.0 from 30.0 (limit +8); quarter medians 32.0 -> 47.0",
  );
});
