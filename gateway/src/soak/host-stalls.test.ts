import { expect, it } from "vitest";
import { HostStalls } from "./host-stalls.js";
import type { Disruption } from "./recovery-budget.js";

it("reports a stretch in which the process was not run, with when it began and ended", async () => {
  const stalls: Disruption[] = [];
  const watch = new HostStalls((s) => stalls.push(s));
  try {
    await new Promise((r) => setTimeout(r, 120));
    // What a starved machine looks like from inside: the timer comes late.
    const until = Date.now() + 600;
    while (Date.now() < until);
    await new Promise((r) => setTimeout(r, 120));
  } finally {
    watch.close();
  }
  const long = stalls.filter((s) => s.endAt - s.startAt >= 600);
  expect(long).toHaveLength(1);
  expect(long[0]?.kind).toBe("host");
  expect(long[0]?.label).toMatch(/^host stalled \d+ ms$/);
});
