import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findUp } from "./paths.js";

/** The gateway's version, from gateway/package.json (also what status messages carry). */
function readVersion(): string {
  const root = findUp(join("gateway", "package.json"));
  if (!root) return "0.0.0";
  const pkg = JSON.parse(readFileSync(join(root, "gateway", "package.json"), "utf8")) as {
    version?: string;
  };
  return pkg.version ?? "0.0.0";
}

export const VERSION: string = readVersion();
