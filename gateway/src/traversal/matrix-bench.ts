/**
 * `make bench`, connectivity matrix part (root only): the whole matrix of
 * matrix.ts (board NAT x viewer NAT x ICE servers) as a table, each cell
 * with the path ICE took and the time to first frame (or why it failed and
 * after how long). Figures only; matrix.e2e.test.ts asserts.
 */
import { formatMatrix, runMatrix } from "./matrix.js";

export async function matrixBench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log("connectivity matrix: skipped (needs root)");
    return;
  }
  const t0 = performance.now();
  const cells = await runMatrix();
  const s = Math.round((performance.now() - t0) / 1000);
  console.log(`connectivity matrix: ${cells.length} cells in ${s} s (one run)`);
  console.log(formatMatrix(cells));
}
