/**
 * The link emulator (camgw-linkem) does what the control language says,
 * measured from inside the lab: round trips through an echo on the lab's
 * internet, numbered bursts counted on arrival, and the emulator's own
 * counters. Bounds are one-sided where the machine's load could only make
 * a figure worse (never a timing that a slow run would fail).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LabAgent } from "./agent-client.js";
import type { LinkStats } from "./link-emulator.js";
import { startNetLab, type NetLab } from "./net-lab.js";
import { ensureLinkemBuilt, startEcho, type Echo } from "./test-support.js";

const answered = (rtts: (number | null)[]): number[] => rtts.filter((r): r is number => r !== null);

/** Lengths of the runs of missing sequence numbers in 0..count-1. */
function lossBursts(seqs: number[], count: number): number[] {
  const got = new Set(seqs);
  const bursts: number[] = [];
  let run = 0;
  for (let i = 0; i < count; i++) {
    if (got.has(i)) {
      if (run) bursts.push(run);
      run = 0;
    } else run++;
  }
  if (run) bursts.push(run);
  return bursts;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

describe("the lab's link emulator", () => {
  let lab: NetLab;
  let echo: Echo;
  let board: LabAgent;

  beforeAll(async () => {
    ensureLinkemBuilt();
    // No NAT: the board's packets reach the echo as they left.
    lab = await startNetLab({
      boardNat: "none",
      viewerNats: ["none"],
      broker: false,
      turn: false,
      seed: 7,
    });
    echo = await startEcho(lab);
    await echo.agent.bind("sink", { address: echo.main.split(":")[0], port: 5000 });
    board = await lab.agent("board");
    await board.bind("ping");
    await board.bind("blast");
  });
  afterEach(async () => {
    await lab.set("");
  });
  afterAll(async () => {
    await lab.close();
  });

  /** Blasts `count` packets from the board to the sink; what arrived and what the board's link counted. */
  async function blastThrough(count: number, pps: number, size = 200) {
    await echo.agent.sink("sink");
    const before = await lab.stats("board");
    await board.blast("blast", `${echo.main.split(":")[0] ?? ""}:5000`, count, pps, size);
    // Let the last packets through the emulator's queue and delay.
    await new Promise((r) => setTimeout(r, 600));
    const report = await echo.agent.sinkReport("sink");
    const after = await lab.stats("board");
    const delta = (k: keyof LinkStats["up"]): number => after.up[k] - before.up[k];
    return { report, delta };
  }

  it("adds the delay asked for in each direction", async () => {
    await lab.set("board:delay=50ms");
    const rtts = answered(await board.ping("ping", echo.main, { count: 15 }));
    expect(rtts).toHaveLength(15);
    // 50 ms each way: no round trip can be shorter than 100 ms.
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(100);
    // ...and the fastest one is not far above it (the emulator holds nothing longer).
    expect(Math.min(...rtts)).toBeLessThan(150);
  });

  it("spreads the delay with jitter, within delay ± jitter per direction", async () => {
    await lab.set("board:delay=40ms:jitter=20ms");
    const rtts = answered(await board.ping("ping", echo.main, { count: 30, intervalMs: 30 }));
    expect(rtts).toHaveLength(30);
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(40);
    expect(Math.max(...rtts) - Math.min(...rtts)).toBeGreaterThan(10);
  });

  it("loses about the share of packets asked for, each loss counted by the emulator", async () => {
    await lab.set("board/up:loss=10%");
    const { report, delta } = await blastThrough(2000, 1000);
    const lost = 2000 - report.seqs.length;
    // Binomial(2000, 0.1): mean 200, sd 13.4; five sd either side.
    expect(lost).toBeGreaterThan(133);
    expect(lost).toBeLessThan(267);
    expect(delta("in")).toBe(2000);
    expect(delta("lost")).toBe(lost);
    // Independent losses come mostly alone (mean run 1 / (1 - 0.1) = 1.1 packets).
    expect(mean(lossBursts(report.seqs, 2000))).toBeLessThan(1.5);
  });

  it("loses in bursts with burst=, at the same mean rate (Gilbert-Elliott)", async () => {
    await lab.set("board/up:loss=10%:burst=5");
    const { report, delta } = await blastThrough(3000, 1500);
    const lost = 3000 - report.seqs.length;
    expect(delta("lost")).toBe(lost);
    expect(lost / 3000).toBeGreaterThan(0.05);
    expect(lost / 3000).toBeLessThan(0.15);
    const bursts = lossBursts(report.seqs, 3000);
    expect(mean(bursts)).toBeGreaterThan(3);
    expect(mean(bursts)).toBeLessThan(8);
  });

  it("caps the rate, dropping what overflows the queue", async () => {
    await lab.set("board/up:rate=1mbit:queue=100ms");
    // 4 Mbit/s offered for 1.5 s (1200-byte datagrams, 1228 bytes on the wire).
    const { report, delta } = await blastThrough(600, 400, 1200);
    const spanS = ((report.lastMs ?? 0) - (report.firstMs ?? 0)) / 1000;
    const payloadBps = ((report.seqs.length - 1) * 1200 * 8) / spanS;
    // The cap counts whole IP packets, so the payload rate stays under it.
    expect(payloadBps).toBeLessThanOrEqual(1_000_000 * 1.02);
    expect(payloadBps).toBeGreaterThan(600_000);
    expect(delta("queueDrops")).toBeGreaterThan(200);
    expect(delta("out")).toBe(report.seqs.length);
  });

  it("reorders about the share asked for: each chosen packet arrives after the next one", async () => {
    await lab.set("board/up:reorder=5%");
    const { report, delta } = await blastThrough(2000, 1000);
    expect(report.seqs).toHaveLength(2000);
    let late = 0;
    let highest = -1;
    for (const seq of report.seqs) {
      if (seq < highest) late++;
      highest = Math.max(highest, seq);
    }
    expect(late).toBe(delta("reordered"));
    expect(late).toBeGreaterThan(50);
    expect(late).toBeLessThan(150);
  });

  it("cuts a link and restores it, in one direction or both", async () => {
    await lab.linkDown("board", "down");
    expect(
      answered(await board.ping("ping", echo.main, { count: 5, timeoutMs: 500 })),
    ).toHaveLength(0);
    const stats = await lab.stats("board");
    expect(stats.down.downDrops).toBeGreaterThanOrEqual(5);
    expect(stats.up.downDrops).toBe(0);
    await lab.linkUp("board", "down");
    expect(answered(await board.ping("ping", echo.main, { count: 5 }))).toHaveLength(5);
    await lab.linkDown("board");
    expect(
      answered(await board.ping("ping", echo.main, { count: 3, timeoutMs: 500 })),
    ).toHaveLength(0);
    await lab.linkUp("board");
    expect(answered(await board.ping("ping", echo.main, { count: 3 }))).toHaveLength(3);
  });

  it("delays only the link it is told to: the broker's, not the board's", async () => {
    const broker = await lab.agent("broker");
    await broker.bind("echo", {
      address: lab.plan.services[1]?.addresses[0] ?? "",
      port: 4000,
      echo: true,
    });
    await lab.set("broker:delay=100ms");
    const toBroker = answered(
      await board.ping("ping", `${lab.plan.services[1]?.addresses[0] ?? ""}:4000`, { count: 5 }),
    );
    const toTurn = answered(await board.ping("ping", echo.main, { count: 5 }));
    expect(toBroker).toHaveLength(5);
    expect(Math.min(...toBroker)).toBeGreaterThanOrEqual(200);
    expect(Math.min(...toTurn)).toBeLessThan(100);
    expect(lab.conditions()).toBe("broker:delay=100ms\n");
  });
});
