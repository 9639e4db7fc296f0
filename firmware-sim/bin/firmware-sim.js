#!/usr/bin/env node
// firmware-sim CLI: the compiled harness (npx tsc -p tsconfig.build.json).
import { main } from "../../build/firmware-sim/src/cli.js";

process.exitCode = await main(process.argv.slice(2));
