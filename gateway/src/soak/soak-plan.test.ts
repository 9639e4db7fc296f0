import { describe, expect, it } from "vitest";
import { FAULT_KINDS, planSoak } from "./soak-plan.js";

const FOUR_MIN = 4 * 60_000;

describe("the soak's schedule", () => {
  it("is the same for the same seed and differs for another", () => {
    const a = planSoak({ seed: 42, durationMs: FOUR_MIN, slots: 3 });
    expect(planSoak({ seed: 42, durationMs: FOUR_MIN, slots: 3 })).toEqual(a);
    expect(planSoak({ seed: 43, durationMs: FOUR_MIN, slots: 3 }).faults).not.toEqual(a.faults);
  });

  it("meets every fault kind in 4 minutes, whatever the seed", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const plan = planSoak({ seed, durationMs: FOUR_MIN, slots: 3 });
      expect(new Set(plan.faults.map((f) => f.kind))).toEqual(new Set(FAULT_KINDS));
    }
  });

  it("runs one fault at a time, within the run, leaving a calm end", () => {
    const plan = planSoak({ seed: 5, durationMs: 20 * 60_000, slots: 3 });
    let freeFrom = 0;
    for (const f of plan.faults) {
      expect(f.atMs).toBeGreaterThanOrEqual(freeFrom);
      expect(f.onMs).toBeGreaterThan(0);
      freeFrom = f.atMs + f.onMs;
    }
    expect(freeFrom).toBeLessThanOrEqual(plan.durationMs - 20_000);
    // firmware-sim's grammar: a name and key=value parameters.
    for (const f of plan.faults) expect(f.spec).toMatch(/^[a-z-]+(:[a-z]+=[-\w.]+)*$/);
  });

  it("restarts the broker now and then, and joins no viewer while it is down", () => {
    const plan = planSoak({ seed: 9, durationMs: 20 * 60_000, slots: 4 });
    expect(plan.brokerRestarts.length).toBeGreaterThanOrEqual(7);
    for (const v of plan.visits) {
      for (const b of plan.brokerRestarts)
        expect(v.joinAtMs < b.atMs - 1000 || v.joinAtMs >= b.atMs + b.downMs + 8000).toBe(true);
    }
  });

  it("keeps slot 0 watching throughout and lets the others come and go without overlapping", () => {
    const plan = planSoak({ seed: 3, durationMs: 20 * 60_000, slots: 3 });
    expect(plan.visits.filter((v) => v.slot === 0)).toEqual([
      { slot: 0, joinAtMs: 0, leaveAtMs: plan.durationMs },
    ]);
    for (const slot of [1, 2]) {
      const mine = plan.visits.filter((v) => v.slot === slot);
      expect(mine.length).toBeGreaterThanOrEqual(5);
      for (let i = 0; i < mine.length; i++) {
        const v = mine[i];
        expect(v && v.leaveAtMs > v.joinAtMs).toBe(true);
        expect(v && v.leaveAtMs <= plan.durationMs).toBe(true);
        const next = mine[i + 1];
        if (v && next) expect(next.joinAtMs).toBeGreaterThan(v.leaveAtMs);
      }
    }
  });
});
