import { describe, expect, it } from "vitest";
import { judgeFreezes, type Disruption } from "./recovery-budget.js";

const T = 1_000_000;
const unplug: Disruption = { kind: "unplug", label: "unplug", startAt: T, endAt: T + 2000 };

describe("judging a viewer's freezes", () => {
  it("gives a freeze nothing explains the plain budget of 2 s", () => {
    const [short, long] = judgeFreezes(
      [
        { startAt: T, endAt: T + 1500 },
        { startAt: T + 10_000, endAt: T + 12_500 },
      ],
      [],
    );
    expect(short).toMatchObject({ cause: "none", overMs: -500 });
    expect(long).toMatchObject({ cause: "none", overMs: 500 });
  });

  it("gives the wait for a viewer's first frame 3 s", () => {
    const [f] = judgeFreezes([{ startAt: T, endAt: T + 2500, first: true }], []);
    expect(f).toMatchObject({ cause: "first frame", overMs: -500 });
  });

  it("lets an unplug's freeze last until 3 s after the camera is back", () => {
    const [ok] = judgeFreezes([{ startAt: T + 50, endAt: T + 4500 }], [unplug]);
    expect(ok).toMatchObject({ cause: "unplug", dueAt: T + 5000, overMs: -500 });
    const [late] = judgeFreezes([{ startAt: T + 50, endAt: T + 6000 }], [unplug]);
    expect(late?.overMs).toBe(1000);
  });

  it("counts an encoder stop's budget from its start, a lasting fault's from each freeze", () => {
    const stop: Disruption = { kind: "enc-stop", label: "enc-stop", startAt: T, endAt: T + 10_000 };
    expect(judgeFreezes([{ startAt: T + 100, endAt: T + 4500 }], [stop])[0]?.overMs).toBe(500);
    const eio: Disruption = { kind: "eio", label: "eio:rate=0.05", startAt: T, endAt: T + 10_000 };
    const [a, b] = judgeFreezes(
      [
        { startAt: T + 1000, endAt: T + 3500 },
        { startAt: T + 8000, endAt: T + 11_500 },
      ],
      [eio],
    );
    expect(a).toMatchObject({ cause: "eio:rate=0.05", overMs: -500 });
    expect(b?.overMs).toBe(500);
  });

  it("does not charge a freeze to a fault long over", () => {
    const [f] = judgeFreezes([{ startAt: T + 20_000, endAt: T + 24_000 }], [unplug]);
    expect(f).toMatchObject({ cause: "none", overMs: 2000 });
  });

  it("does not charge a freeze to a fault that began well after the picture stopped", () => {
    const [f] = judgeFreezes([{ startAt: T - 15_000, endAt: T + 3000 }], [unplug]);
    expect(f).toMatchObject({ cause: "none", overMs: 16_000 });
  });

  it("charges a freeze to the most lenient of the faults around it", () => {
    const broker: Disruption = {
      kind: "broker",
      label: "broker down",
      startAt: T + 1000,
      endAt: T + 4000,
    };
    const [f] = judgeFreezes([{ startAt: T + 1500, endAt: T + 9000 }], [unplug, broker]);
    expect(f).toMatchObject({ cause: "broker down", dueAt: T + 14_000 });
  });

  it("never fails a freeze while its fault is still on", () => {
    const on: Disruption = { ...unplug, endAt: Number.POSITIVE_INFINITY };
    expect(judgeFreezes([{ startAt: T, endAt: T + 60_000 }], [on])[0]?.overMs).toBeLessThan(0);
  });
});
