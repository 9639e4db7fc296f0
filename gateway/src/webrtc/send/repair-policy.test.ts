import { describe, expect, it } from "vitest";
import { RepairPolicy } from "./repair-policy.js";

describe("RepairPolicy", () => {
  const MBIT = 1_000_000;

  it("resends a packet at most once per RTT and three times in all", () => {
    const policy = new RepairPolicy();
    policy.sent(100, 0);
    const rtt = 80;
    expect(policy.decide(100, 1200, 10, rtt, MBIT)).toBe("resend");
    expect(policy.decide(100, 1200, 50, rtt, MBIT)).toBe("too-soon"); // the resend is still on its way
    expect(policy.decide(100, 1200, 90, rtt, MBIT)).toBe("resend");
    expect(policy.decide(100, 1200, 170, rtt, MBIT)).toBe("resend");
    expect(policy.decide(100, 1200, 250, rtt, MBIT)).toBe("too-often");
    expect(policy.decisions).toMatchObject({ resend: 3, "too-soon": 1, "too-often": 1 });
  });

  it("does not resend what the viewer was never sent, what a key frame replaced, or what is too old", () => {
    const policy = new RepairPolicy({ maxAgeMs: 1000 });
    expect(policy.decide(7, 1200, 0, 10, MBIT)).toBe("not-sent");
    policy.sent(8, 0);
    policy.sent(9, 0);
    policy.keyFrameStarted();
    policy.sent(10, 5);
    expect(policy.decide(9, 1200, 20, 10, MBIT)).toBe("superseded");
    expect(policy.decide(10, 1200, 20, 10, MBIT)).toBe("resend");
    policy.sent(11, 100);
    expect(policy.decide(11, 1200, 1101, 10, MBIT)).toBe("too-old");
    // A sequence number reused after a wrap is a different packet.
    policy.sent(11 + 2048, 1200);
    expect(policy.decide(11, 1200, 1201, 10, MBIT)).toBe("not-sent");
  });

  it("holds resends to a quarter of the estimate over a second", () => {
    const policy = new RepairPolicy();
    for (let seq = 0; seq < 100; seq++) policy.sent(seq, 0);
    for (let seq = 100; seq < 200; seq++) policy.sent(seq, 600);
    // 1 Mbit/s: 125 kB/s, a quarter is 31.25 kB: 26 packets of 1200 bytes.
    const first = [...Array(100).keys()].map((seq) => policy.decide(seq, 1200, 10, 10, MBIT));
    expect(first.filter((d) => d === "resend")).toHaveLength(26);
    expect(first.at(-1)).toBe("over-budget");
    const soon = [...Array(100).keys()].map((i) => policy.decide(100 + i, 1200, 700, 10, MBIT));
    expect(soon.filter((d) => d === "resend")).toHaveLength(0);
    // Once the first resends are a second old, the window has room again.
    const later = [...Array(100).keys()].map((i) => policy.decide(100 + i, 1200, 1011, 10, MBIT));
    expect(later.filter((d) => d === "resend")).toHaveLength(26);
    expect(policy.budgetBytes(0)).toBe(4 * 1200); // a floor however low the estimate
  });
});
