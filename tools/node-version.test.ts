import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { nodeVersionOk, nodeVersionProblem, REQUIRED_NODE } from "../gateway/bin/node-version.js";
import { CAMGW_BIN } from "../gateway/src/testing/gateway-process.js";

/** Runs a script under this Node, made to report `version` as its own. */
function asNode(version: string, args: string[]): { status: number | null; stderr: string } {
  const pretend = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${version}"})`;
  const r = spawnSync(process.execPath, ["--import", pretend, ...args], { encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

describe("the Node.js version check", () => {
  it("asks for what package.json's engines field asks for", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      engines: { node: string };
    };
    expect(pkg.engines.node).toBe(`>=${REQUIRED_NODE}`);
  });

  it("compares versions part by part", () => {
    expect(nodeVersionOk("20.19.0")).toBe(true);
    expect(nodeVersionOk("v20.20.2")).toBe(true);
    expect(nodeVersionOk("22.1.0")).toBe(true);
    expect(nodeVersionOk("20.18.9")).toBe(false);
    expect(nodeVersionOk("18.19.0")).toBe(false);
    expect(nodeVersionOk("9.99.0")).toBe(false);
  });

  it("says what is needed and how to get it, naming the Node it found", () => {
    const text = nodeVersionProblem("18.19.0", "/usr/bin/node") ?? "";
    expect(text).toContain(
      `camgw needs Node.js ${REQUIRED_NODE} or newer; this is Node.js 18.19.0 (/usr/bin/node).`,
    );
    expect(text).toContain("Debian 13 (trixie) and Raspberry Pi OS (trixie) ship Node.js 20");
    expect(text).toContain("NodeSource");
    expect(nodeVersionProblem(process.versions.node)).toBeNull();
  });

  it("stops camgw before it loads anything, with exit code 1, on Debian 12's Node 18", () => {
    const r = asNode("18.19.0", [CAMGW_BIN, "version"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^camgw needs Node\.js 20\.19 or newer; this is Node\.js 18\.19\.0/);
  });

  it("stops make the same way (tools/check-node.sh runs the check on its own)", () => {
    const script = new URL("../gateway/bin/node-version.js", import.meta.url).pathname;
    expect(asNode("18.19.0", [script]).status).toBe(1);
    expect(asNode(process.versions.node, [script]).status).toBe(0);
    const make = spawnSync("tools/check-node.sh", {
      encoding: "utf8",
      cwd: new URL("..", import.meta.url).pathname,
    });
    expect(make.status, make.stderr).toBe(0);
  });
});
