import { describe, expect, it } from "vitest";
import { LayerPolicy, lowEncodingFor } from "./layer-policy.js";

const policy = (): LayerPolicy<string> => new LayerPolicy<string>({ maxKbps: 2500 });
const estimates = (e: Record<string, number>): Map<string, number> => new Map(Object.entries(e));

/** Runs the policy once a 100 ms (feedback's pace) from `fromMs` for `forMs`; returns all moves. */
function runFor(
  p: LayerPolicy<string>,
  e: Record<string, number>,
  fromMs: number,
  forMs: number,
): [number, string, string][] {
  const moves: [number, string, string][] = [];
  for (let t = fromMs; t <= fromMs + forMs; t += 100) {
    for (const [viewer, layer] of p.update(estimates(e), t)) moves.push([t, viewer, layer]);
  }
  return moves;
}

describe("the layer policy (which encoding each viewer watches)", () => {
  it("moves a viewer far below the others to the low encoding after 3 s, and only it", () => {
    const p = policy();
    const moves = runFor(p, { weak: 500_000, fast: 10_000_000, mid: 4_000_000 }, 0, 5000);
    expect(moves).toEqual([[3000, "weak", "low"]]);
    expect(p.layerOf("weak")).toBe("low");
    expect(p.layerOf("fast")).toBe("main");
    expect(p.lowInUse).toBe(true);
  });

  it("leaves a lone viewer, and viewers close to each other, on the main encoding", () => {
    const p = policy();
    expect(runFor(p, { only: 200_000 }, 0, 10_000)).toEqual([]);
    expect(runFor(p, { a: 600_000, b: 1_000_000 }, 10_000, 10_000)).toEqual([]);
    expect(p.lowInUse).toBe(false);
  });

  it("does not move a viewer that does not hold the main encoding back", () => {
    // 4 Mbit/s x 0.85 is over the 2.5 Mbit/s ceiling: the main encoding could not use more.
    expect(runFor(policy(), { good: 4_000_000, better: 20_000_000 }, 0, 10_000)).toEqual([]);
  });

  it("forgets a dip shorter than the hold", () => {
    const p = policy();
    const moves = [
      ...runFor(p, { weak: 500_000, fast: 10_000_000 }, 0, 2500),
      ...runFor(p, { weak: 8_000_000, fast: 10_000_000 }, 2600, 200),
      ...runFor(p, { weak: 500_000, fast: 10_000_000 }, 2900, 2500),
    ];
    expect(moves).toEqual([]);
  });

  it("moves it back after 5 s at nine tenths of the main encoding's lowest viewer, not before", () => {
    const p = policy();
    runFor(p, { weak: 500_000, fast: 2_000_000 }, 0, 3000);
    expect(p.layerOf("weak")).toBe("low");
    // Above half but under nine tenths: stays (hysteresis).
    expect(runFor(p, { weak: 1_700_000, fast: 2_000_000 }, 3100, 20_000)).toEqual([]);
    const back = runFor(p, { weak: 1_850_000, fast: 2_000_000 }, 23_200, 6000);
    expect(back).toEqual([[28_200, "weak", "main"]]);
    expect(p.lowInUse).toBe(false);
  });

  it("moves a low viewer back once its estimate exceeds what the main encoding can use", () => {
    const p = policy();
    runFor(p, { weak: 300_000, fast: 50_000_000 }, 0, 3000);
    expect(p.layerOf("weak")).toBe("low");
    const back = runFor(p, { weak: 3_500_000, fast: 50_000_000 }, 3100, 5000);
    expect(back).toEqual([[8100, "weak", "main"]]);
  });

  it("brings everyone back to the main encoding at once when its last viewer leaves", () => {
    const p = policy();
    runFor(p, { weak: 300_000, fast: 5_000_000 }, 0, 3000);
    expect(p.update(estimates({ weak: 300_000 }), 3100)).toEqual(new Map([["weak", "main"]]));
    expect(p.lowInUse).toBe(false);
  });

  it("moves several weak viewers and keeps the fastest on the main encoding", () => {
    const p = policy();
    const moves = runFor(p, { a: 300_000, b: 350_000, fast: 5_000_000 }, 0, 3000);
    expect(moves.map(([, v, l]) => `${v}:${l}`).sort()).toEqual(["a:low", "b:low"]);
    expect(p.layerOf("fast")).toBe("main");
  });

  it("refuses thresholds that would make it oscillate", () => {
    expect(() => new LayerPolicy({ maxKbps: 2500, demoteBelow: 0.8, promoteAbove: 0.7 })).toThrow(
      RangeError,
    );
  });

  it("gives the low encoding half the size and a quarter of the rate, within the floor", () => {
    expect(lowEncodingFor({ width: 640, height: 480 }, 2500, 150)).toEqual({
      width: 320,
      height: 240,
      maxKbps: 625,
    });
    expect(lowEncodingFor({ width: 1280, height: 720 }, 400, 150)).toEqual({
      width: 640,
      height: 360,
      maxKbps: 150,
    });
    expect(lowEncodingFor({ width: 642, height: 362 }, 2500, 150)).toMatchObject({
      width: 320,
      height: 180,
    });
  });
});
