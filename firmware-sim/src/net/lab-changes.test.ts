/**
 * Changes while a lab runs, the way a user makes them: the control file,
 * a host moving to a new address (a DHCP renew), an interface losing its
 * carrier.
 */
import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { netMain } from "./net-cli.js";
import type { LabAgent } from "./agent-client.js";
import { startNetLab, type NetLab } from "./net-lab.js";
import { ensureLinkemBuilt, eventually, startEcho, type Echo } from "./test-support.js";

const answered = (rtts: (number | null)[]): number[] => rtts.filter((r): r is number => r !== null);

describe("changing a running lab", () => {
  let lab: NetLab;
  let echo: Echo;
  let board: LabAgent;
  let viewer: LabAgent;
  const controlErrors: string[] = [];

  beforeAll(async () => {
    ensureLinkemBuilt();
    lab = await startNetLab({
      boardNat: "eim",
      viewerNats: ["none"],
      broker: false,
      turn: false,
      conditions: "viewer1:delay=5ms",
      onControlError: (err) => controlErrors.push(err.message),
    });
    echo = await startEcho(lab);
    board = await lab.agent("board");
    viewer = await lab.agent("viewer1");
    await board.bind("ping");
    await viewer.bind("ping");
  });
  afterAll(async () => {
    await lab.close();
  });

  async function status(): Promise<{ text: string; ok: boolean; error?: string }> {
    return JSON.parse(await readFile(lab.controlStatusFile, "utf8")) as {
      text: string;
      ok: boolean;
      error?: string;
    };
  }

  it("starts with its initial conditions in the control file", async () => {
    expect(await readFile(lab.controlFile, "utf8")).toBe("viewer1:delay=5ms");
    expect(lab.conditions()).toBe("viewer1:delay=5ms\n");
  });

  it("applies what is written into the control file", async () => {
    await writeFile(lab.controlFile, "board:delay=60ms\n");
    expect(
      await eventually(
        async () => (await status().catch(() => null))?.text === "board:delay=60ms\n",
      ),
    ).toBe(true);
    expect((await status()).ok).toBe(true);
    const rtts = answered(await board.ping("ping", echo.main, { count: 5 }));
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(120);
    // The file replaced the initial conditions: viewer1 has no delay any more.
    expect(lab.conditions()).toBe("board:delay=60ms\n");
  });

  it("reports a bad control file and keeps the conditions in force", async () => {
    await writeFile(lab.controlFile, "board:delay=60ms\nboard:latency=5ms\n");
    expect(await eventually(async () => (await status()).text.includes("latency"))).toBe(true);
    expect(await status()).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unknown key "latency"/) as unknown,
    });
    expect(controlErrors.at(-1)).toMatch(/unknown key "latency"/);
    const rtts = answered(await board.ping("ping", echo.main, { count: 3 }));
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(120);
    await lab.set("");
  });

  it("refuses a change it cannot make, before making any of it", async () => {
    await expect(lab.change("board:address=10.9.9.9")).rejects.toThrow(
      /must be in 192\.168\.1\.0\/24/,
    );
    await expect(lab.change("board:address=192.168.1.1")).rejects.toThrow(/is board's gateway/);
    expect(lab.address("board")).toBe("192.168.1.10");
  });

  it("moves the board to a new address like a DHCP renew: the old one is gone, traffic flows", async () => {
    const before = await board.mappedAddress("ping", echo.main);
    const next = await lab.renewAddress("board");
    expect(next).toBe("192.168.1.11");
    expect(lab.address("board")).toBe(next);
    const addr = await lab.exec("board", "ip", ["-4", "-o", "addr", "show", "dev", "lan0"]);
    expect(addr.stdout).toContain(`inet ${next}/24`);
    expect(addr.stdout).not.toContain("192.168.1.10/");
    // The NAT maps the new inside address afresh: same public address, and replies come back.
    const after = await board.mappedAddress("ping", echo.main);
    expect(after?.split(":")[0]).toBe(before?.split(":")[0]);
    expect(lab.conditions()).toContain("board:address=192.168.1.11");
  });

  it("moves a host without NAT to a new public address, which the internet sees", async () => {
    const next = await lab.renewAddress("viewer1");
    expect(next).toBe("198.18.11.3");
    expect((await viewer.mappedAddress("ping", echo.main))?.split(":")[0]).toBe(next);
  });

  it("takes a host's interface down (no route, nothing goes) and brings it back with its route", async () => {
    await lab.change("board:ifdown");
    const link = await lab.exec("board", "ip", ["-o", "link", "show", "dev", "lan0"]);
    expect(link.stdout).toMatch(/state DOWN/);
    expect((await lab.exec("board", "ip", ["route", "show", "default"])).stdout).toBe("");
    expect(
      answered(await board.ping("ping", echo.main, { count: 2, timeoutMs: 300 })),
    ).toHaveLength(0);
    await lab.change("board:ifdown=off");
    expect((await lab.exec("board", "ip", ["route", "show", "default"])).stdout).toMatch(
      /via 192\.168\.1\.1/,
    );
    expect(answered(await board.ping("ping", echo.main, { count: 2 }))).toHaveLength(2);
  });

  it("returns hosts to their first addresses when the conditions no longer move them", async () => {
    await lab.set("");
    expect(lab.address("board")).toBe("192.168.1.10");
    expect(lab.address("viewer1")).toBe("198.18.11.2");
    expect((await viewer.mappedAddress("ping", echo.main))?.split(":")[0]).toBe("198.18.11.2");
  });

  it("takes changes from `firmware-sim net change` and `set`, and refuses bad ones leaving the file as it was", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await netMain(["change", "--lab", lab.id, "board:delay=30ms"])).toBe(0);
      expect(lab.conditions()).toBe("board:delay=30ms\n");
      const before = await readFile(lab.controlFile, "utf8");
      expect(await netMain(["change", "--lab", lab.id, "board:delay=30ms:nonsense"])).toBe(1);
      expect(stderr).toHaveBeenCalledWith(expect.stringMatching(/unknown key "nonsense"/));
      expect(await readFile(lab.controlFile, "utf8")).toBe(before);
      expect(await netMain(["set", "--lab", lab.id, "viewer1:delay=1ms", "board/up:loss=1%"])).toBe(
        0,
      );
      expect(lab.conditions()).toBe("viewer1:delay=1ms\nboard/up:loss=1%\n");
    } finally {
      stderr.mockRestore();
    }
  });
});
