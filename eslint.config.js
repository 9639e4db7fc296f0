// Type-aware lint for all TypeScript; run at zero warnings by `make lint`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The boundaries of docs/architecture.md ("Where things live"), kept by the
// linter. Flat config replaces a rule per matching block, so each block
// lists every pattern that applies to its files.
const everywhere = [
  {
    group: ["werift", "werift/*"],
    message: "werift is imported only in gateway/src/webrtc (its one door).",
  },
  {
    regex: "native/build/|\\.node$",
    message: "The addon is loaded only by native/lib (binding.ts, locateAddon).",
  },
];
const appParts = [
  {
    regex:
      "(^|/)(config|config-schema|app|cli|cli-args|logger)\\.js$|/(http|signaling|webrtc|whep|whip|commands|probe)/",
    message: "Library code (rtp/, media/) does not reach into the app, HTTP or signaling.",
  },
  {
    group: ["mqtt", "aedes", "ws", "node:http", "node:https"],
    message: "Library code (rtp/, media/) speaks no MQTT or HTTP.",
  },
];
const noNode = (except = []) => ({
  group: ["node:*", ...except.map((m) => `!${m}`)],
  message: "Isomorphic code (it runs in the browser too, or is pure) imports no node:* module.",
});
const browserShared = [
  "gateway/src/signaling/messages.ts",
  "gateway/src/signaling/message-types.ts",
  "gateway/src/signaling/parse.ts",
  "gateway/src/signaling/topics.ts",
  "gateway/src/signaling/typed-emitter.ts",
  "gateway/src/signaling/viewer-call.ts",
  "gateway/src/signaling/viewer-client.ts",
  "gateway/src/media/frame-stamp.ts",
  "web-viewer/src/**/*.ts",
];
const restrict = (patterns) => ({ "no-restricted-imports": ["error", { patterns }] });

export default tseslint.config(
  {
    ignores: [
      "build/**",
      "dist/**",
      "node_modules/**",
      "native/build/**",
      "firmware-sim/build/**",
      "web-viewer/dist/**",
      "**/*.js",
      "**/*.cjs",
      "**/*.mjs",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/no-confusing-void-expression": "off",
      "@typescript-eslint/no-extraneous-class": "off",
    },
  },
  { files: ["**/*.ts"], ignores: ["gateway/src/webrtc/**"], rules: restrict(everywhere) },
  {
    files: ["gateway/src/rtp/**/*.ts"],
    // node:crypto: the packetizer's random first sequence number and SSRC (RFC 3550 5.1).
    rules: restrict([...everywhere, ...appParts, noNode(["node:crypto"])]),
  },
  { files: ["gateway/src/media/**/*.ts"], rules: restrict([...everywhere, ...appParts]) },
  {
    files: browserShared,
    ignores: ["**/*.test.ts"],
    rules: restrict([
      ...everywhere,
      noNode(),
      {
        group: ["aedes", "ws"],
        message: "The browser viewer's code has no broker or server sockets.",
      },
      {
        regex: "(^|/)(config|config-schema|app|logger)\\.js$|/(http|webrtc|whep|whip|commands)/",
        message: "Code the browser shares does not reach into the app.",
      },
    ]),
  },
);
