import { closeSync, openSync } from "node:fs";
import { afterEach, expect, it } from "vitest";
import { ProcessStats } from "./process-stats.js";

let stats: ProcessStats | undefined;
afterEach(() => stats?.close());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it("counts this process's memory, threads, the fds it opens and the timers it sets", () => {
  stats = new ProcessStats();
  const before = stats.snapshot();
  expect(before.residentBytes).toBeGreaterThan(before.heapUsedBytes / 2);
  expect(before.threads).toBeGreaterThanOrEqual(1);
  const fd = openSync("/proc/self/status", "r");
  const timers = [1, 2, 3].map(() => setTimeout(() => undefined, 60_000));
  const during = stats.snapshot();
  closeSync(fd);
  for (const t of timers) clearTimeout(t);
  const after = stats.snapshot();
  expect(during.openFds).toBe(before.openFds + 1);
  expect(after.openFds).toBe(before.openFds);
  const timeouts = (s: typeof before): number => s.activeResources.Timeout ?? 0;
  expect(timeouts(during)).toBe(timeouts(before) + 3);
  expect(timeouts(after)).toBe(timeouts(before));
});

it("sees the event loop held up and starts afresh after each snapshot", async () => {
  stats = new ProcessStats();
  await sleep(50);
  // Hold the loop for 300 ms: the histogram's next sample comes that late
  // at least, whatever else the machine does.
  const until = performance.now() + 300;
  while (performance.now() < until);
  await sleep(50);
  const held = stats.snapshot();
  expect(held.eventLoopLagMaxSeconds).toBeGreaterThanOrEqual(0.25);
  expect(held.eventLoopLagP99Seconds).toBeGreaterThanOrEqual(0.25);
  expect(held.eventLoopLagP50Seconds).toBeLessThanOrEqual(held.eventLoopLagMaxSeconds);
  await sleep(50);
  const next = stats.snapshot();
  // The held-up sample belongs to the previous snapshot only.
  expect(next.eventLoopLagMaxSeconds).toBeLessThan(held.eventLoopLagMaxSeconds);
});
