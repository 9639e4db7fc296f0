// Runs the viewer bench (connect-bench.ts): esbuild compiles it to build/
// (Node 20 cannot run TypeScript), npm packages stay external, then it runs.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, "..", "..", "build", "web-viewer-bench", "connect-bench.mjs");
await build({
  entryPoints: [join(here, "connect-bench.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
