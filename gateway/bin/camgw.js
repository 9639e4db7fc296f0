#!/usr/bin/env node
// The camgw CLI. TypeScript is compiled to build/ by `make build`.
import { main } from "../../build/gateway/src/cli.js";

process.exitCode = await main(process.argv.slice(2));
