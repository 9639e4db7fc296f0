/**
 * The short fuzz pass of `make test`: every target for a few seconds from a
 * fixed seed (the same inputs every run, so a failure reproduces), then its
 * regression corpus. `make fuzz` runs 1,000,000 inputs per target.
 * CAMGW_FUZZ_RUNS and CAMGW_FUZZ_SEED override the defaults (docs/fuzzing.md).
 */
import { describe, expect, it } from "vitest";
import { replayCorpus, runTarget } from "./run-target.js";
import { TARGETS } from "./targets.js";

const SEED = Number(process.env.CAMGW_FUZZ_SEED ?? 20_251_130);
const RUNS = Number(process.env.CAMGW_FUZZ_RUNS ?? 1000);

describe("fuzz targets, short pass", () => {
  for (const target of TARGETS) {
    it(`${target.name} keeps its properties on ${RUNS} inputs from seed ${SEED}`, async () => {
      const result = await runTarget(target, { runs: RUNS, seed: SEED });
      expect(result.failure).toBeUndefined();
      expect(result.runs).toBe(RUNS);
    });

    it(`${target.name} keeps them on its regression corpus`, async () => {
      const replay = await replayCorpus(target);
      expect(replay.failure).toBeUndefined();
    });
  }
});
