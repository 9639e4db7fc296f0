import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Finds `relative` (e.g. "web-viewer/dist/index.html") in the nearest
 * directory above this module that has it. Sources run from gateway/src,
 * compiled code from build/gateway/src, and the installed package from
 * /opt/camgw/build/gateway/src: walking up finds the same files in all three.
 * Returns the directory that holds it, or null.
 */
export function findUp(
  relative: string,
  from: string = dirname(fileURLToPath(import.meta.url)),
): string | null {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, relative))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
