// Runs a viewer bench (connect-bench.ts by default, or the one named first:
// `node web-viewer/bench/bench.js playout-delay-bench`): esbuild compiles it
// to build/ (Node 20 cannot run TypeScript), npm packages stay external,
// then it runs with the remaining arguments.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
let name = "connect-bench";
const first = process.argv[2];
if (first && !first.startsWith("-") && existsSync(join(here, `${first}.ts`))) {
  name = first;
  process.argv.splice(2, 1);
}
const outfile = join(here, "..", "..", "build", "web-viewer-bench", `${name}.mjs`);
await build({
  entryPoints: [join(here, `${name}.ts`)],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
