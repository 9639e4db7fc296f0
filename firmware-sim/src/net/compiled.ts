/**
 * Programs the lab runs as separate Node processes (the reaper, the socket
 * agent) run from the compiled tree (`make build`: build/firmware-sim/src/net),
 * whether the lab itself runs compiled or from source under vitest.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findUp } from "../../../gateway/src/paths.js";
import { NetLabError } from "./errors.js";

export function compiledScript(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, name);
  if (here.includes(join("build", "firmware-sim")) && existsSync(sibling)) return sibling;
  const relative = join("build", "firmware-sim", "src", "net", name);
  const root = findUp(relative, here);
  if (!root) throw new NetLabError(`${relative} is missing: run \`make build\``, { script: name });
  return join(root, relative);
}
