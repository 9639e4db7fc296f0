#!/usr/bin/env node
// The camgw CLI. TypeScript is compiled to build/ by `make build`.
// The Node.js version is checked before the CLI loads (a dynamic import, so
// an old Node reads nothing it cannot parse first).
import { nodeVersionProblem } from "./node-version.js";

const problem = nodeVersionProblem(process.versions.node, process.execPath);
if (problem) {
  process.stderr.write(problem);
  process.exit(1);
}
const { main } = await import("../../build/gateway/src/cli.js");
process.exitCode = await main(process.argv.slice(2));
