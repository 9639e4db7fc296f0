import { defineConfig } from "vitest/config";

// Tests sit beside the code they test. Integration tests boot the virtual board
// and real brokers, so they get generous timeouts; speed is measured by
// `make bench`, never asserted here.
export default defineConfig({
  test: {
    include: [
      "gateway/src/**/*.test.ts",
      "native/**/*.test.ts",
      "firmware-sim/src/**/*.test.ts",
      "web-viewer/src/**/*.test.ts",
      "web-viewer/test/**/*.test.ts",
      "tools/**/*.test.ts",
      "deploy/**/*.test.ts",
    ],
    exclude: ["**/node_modules/**", "**/build/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: false,
  },
});
