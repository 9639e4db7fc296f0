#!/usr/bin/env bash
# Runs every vitest test and ends with one plain line 'N passed, N failed'
# (with ', N skipped' when any were skipped) so CI can count them.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p artifacts
npx vitest run --reporter=default --reporter=json --outputFile.json=artifacts/vitest.json "$@"
rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync("artifacts/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  // A file that fails in set-up (beforeAll) fails no single test: count it.
  const failed = r.numFailedTests || r.numFailedTestSuites;
  console.log(`tests: ${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
exit $rc
