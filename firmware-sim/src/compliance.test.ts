import { describe, expect, it } from "vitest";
import { runOnBoard } from "./test-support.js";

/**
 * v4l2-compliance (Debian's v4l-utils) against the virtual devices, streaming
 * tests included, DMABUF from the camera into the encoder included, and the
 * encoder's media controller.
 */
interface Totals {
  total: number;
  succeeded: number;
  failed: number;
  warnings: number;
  failures: string[];
}

function totals(out: string): Totals {
  const m = /Total for .*: (\d+), Succeeded: (\d+), Failed: (\d+), Warnings: (\d+)/.exec(out);
  if (!m) throw new Error(`no totals in v4l2-compliance output:\n${out.slice(-2000)}`);
  return {
    total: Number(m[1]),
    succeeded: Number(m[2]),
    failed: Number(m[3]),
    warnings: Number(m[4]),
    failures: [...out.matchAll(/fail: (\S+)/g)].map((f) => f[1] ?? ""),
  };
}

describe("v4l2-compliance on the virtual board", () => {
  it("passes every test on the camera, streaming included", async () => {
    const r = await runOnBoard("v4l2-compliance", ["-d", "/dev/video0", "-s"], {}, 120_000);
    const t = totals(r.stdout + r.stderr);
    expect(t.failures).toEqual([]);
    expect(t.failed).toBe(0);
    expect(t.succeeded).toBe(t.total);
  });

  it("passes every test on the encoder, DMABUF from the camera included", async () => {
    const r = await runOnBoard(
      "v4l2-compliance",
      ["-d", "/dev/video11", "-s", "-e", "/dev/video0"],
      {},
      120_000,
    );
    const t = totals(r.stdout + r.stderr);
    expect(t.failures).toEqual([]);
    expect(t.failed).toBe(0);
    expect(t.succeeded).toBe(t.total);
    expect(r.stdout).toContain("Function         : V4L2 I/O");
  });

  it("passes every test on the encoder's media controller and the nodes it leads to", async () => {
    const r = await runOnBoard("v4l2-compliance", ["-m", "/dev/media0"], {}, 120_000);
    const out = r.stdout + r.stderr;
    const grand = /Grand Total for .*: (\d+), Succeeded: (\d+), Failed: (\d+)/.exec(out);
    expect(grand, out.slice(-2000)).not.toBeNull();
    expect(Number(grand?.[3])).toBe(0);
    expect(Number(grand?.[2])).toBe(Number(grand?.[1]));
  });
});
