import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonCodec, type FuzzTarget } from "./fuzz-target.js";
import { runTarget } from "./run-target.js";
import { threadCpuMs } from "./thread-cpu.js";

/** Spins until this thread has used `ms` of CPU, however busy the machine is. */
function burnCpu(ms: number): void {
  const start = threadCpuMs() ?? 0;
  while ((threadCpuMs() ?? Number.POSITIVE_INFINITY) - start < ms);
}

function target(check: FuzzTarget<number>["check"], budgetMs: number, async = false) {
  const t: FuzzTarget<number> = {
    name: "budget-test",
    about: "run-target's budget",
    arbitrary: fc.integer(),
    check,
    async,
    codec: jsonCodec<number>(),
    budgetMs,
    corpusDir: "none",
  };
  return t;
}

describe("threadCpuMs", () => {
  it("counts the calling thread's work and not the time it waits", async () => {
    const c0 = threadCpuMs();
    expect(c0).not.toBeNull();
    const w0 = performance.now();
    burnCpu(60);
    const busy = (threadCpuMs() ?? 0) - (c0 ?? 0);
    expect(busy).toBeGreaterThanOrEqual(60);
    // One thread cannot use more CPU than the time that passed (10 ms ticks).
    expect(busy).toBeLessThanOrEqual(performance.now() - w0 + 20);
    const c1 = threadCpuMs() ?? 0;
    await new Promise((r) => setTimeout(r, 300));
    expect((threadCpuMs() ?? 0) - c1).toBeLessThan(150);
  });
});

describe("runTarget's time budget", () => {
  it("reports an input that burns more CPU than its budget every time as a hang", async () => {
    const r = await runTarget(
      target(() => burnCpu(50), 20),
      { runs: 3, seed: 1 },
    );
    expect(r.failure?.message).toMatch(/hang: one input took \d+ ms of CPU .* three times/);
  });

  it("does not count waiting (a starved or sleeping thread) against the budget", async () => {
    const r = await runTarget(
      target(() => new Promise((resolve) => setTimeout(resolve, 60)), 20, true),
      { runs: 3, seed: 1 },
    );
    expect(r.failure).toBeUndefined();
  });

  it("reports an input that waits past twenty budgets as a hang (a promise that never settles burns no CPU)", async () => {
    const r = await runTarget(
      target(() => new Promise((resolve) => setTimeout(resolve, 250)), 10, true),
      { runs: 1, seed: 1 },
    );
    expect(r.failure?.message).toMatch(/hang/);
  });
});

describe("runTarget's errors", () => {
  it("captures no stacks while inputs run and restores the limit after, even when a property fails", async () => {
    const limit = Error.stackTraceLimit;
    const seen: number[] = [];
    const r = await runTarget(
      target((n) => {
        seen.push(Error.stackTraceLimit);
        if (n > 10) throw new RangeError("too big");
      }, 1000),
      { runs: 100, seed: 1 },
    );
    expect(r.failure?.message).toBe("RangeError: too big");
    expect(new Set(seen)).toEqual(new Set([0]));
    expect(Error.stackTraceLimit).toBe(limit);
  });
});
