/**
 * Regression corpus: one JSON file per input, beside the target that reads
 * it (<area>/fuzz/corpus/<target>/NAME.json):
 *
 *   { "origin": "where it came from (seed, date, the bug it showed)",
 *     "input": <the input, as the target's codec writes it> }
 *
 * Hand-written seeds and every input that once failed live there; the short
 * pass in `make test` and every `make fuzz` run replay them all.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { FuzzTarget } from "./fuzz-target.js";

export interface CorpusEntry<T> {
  file: string;
  origin: string;
  input: T;
}

/** The repository root: the nearest folder above this file with the Makefile and gateway/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "Makefile")) && existsSync(join(dir, "gateway"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("fuzz: cannot find the repository root above this file");
    dir = up;
  }
}

export function corpusPath<T>(target: FuzzTarget<T>): string {
  return resolve(repoRoot(), target.corpusDir);
}

export function readCorpus<T>(target: FuzzTarget<T>): CorpusEntry<T>[] {
  const dir = corpusPath(target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
        origin?: unknown;
        input?: unknown;
      };
      if (typeof raw.origin !== "string" || raw.origin === "") {
        throw new Error(`${join(dir, file)}: a corpus file says where it came from ("origin")`);
      }
      return { file, origin: raw.origin, input: target.codec.decode(raw.input) };
    });
}

/** Writes an input (as its target's codec encodes it) as a corpus-format file. */
export function writeInput(path: string, encoded: unknown, origin: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ origin, input: encoded }, null, 2) + "\n");
}
