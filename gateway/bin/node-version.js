// Which Node.js camgw needs, checked before anything else loads: an older
// Node fails later with syntax or API errors that do not say what is wrong.
// Kept to syntax every Node since 12 parses, so it can speak on an old one.
// package.json's "engines" says the same (tools/node-version.test.ts).
import { pathToFileURL } from "url";

export const REQUIRED_NODE = "20.19";

function parts(version) {
  return version
    .replace(/^v/, "")
    .split(".")
    .map((n) => parseInt(n, 10) || 0);
}

/** True when `version` ("18.19.0", "v20.19.2") is at least `required` ("20.19"). */
export function nodeVersionOk(version, required = REQUIRED_NODE) {
  const have = parts(version);
  const need = parts(required);
  for (let i = 0; i < need.length; i++) {
    const h = have[i] || 0;
    if (h !== need[i]) return h > need[i];
  }
  return true;
}

/** What to tell a person whose Node.js is too old; null when it is fine. */
export function nodeVersionProblem(version, execPath) {
  if (nodeVersionOk(version)) return null;
  return [
    `camgw needs Node.js ${REQUIRED_NODE} or newer; this is Node.js ${version.replace(/^v/, "")}${execPath ? ` (${execPath})` : ""}.`,
    "  Debian 13 (trixie) and Raspberry Pi OS (trixie) ship Node.js 20: sudo apt-get install nodejs npm",
    "  Debian 12 (bookworm) ships 18, too old: install Node.js 20 or 22 from NodeSource's Debian",
    "  packages (https://github.com/nodesource/distributions) or with nvm, then try again.",
    "",
  ].join("\n");
}

// `node gateway/bin/node-version.js`: the check on its own (the Makefile runs it first).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const problem = nodeVersionProblem(process.versions.node, process.execPath);
  if (problem) {
    process.stderr.write(problem);
    process.exit(1);
  }
}
