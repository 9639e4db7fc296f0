/**
 * Fuzz targets of the user's own inputs: "config-file" (the YAML file of
 * `camgw run --config`) and "cli-flags" (argv of `camgw run`).
 * Properties: loadConfig and parseRunArgs throw only ConfigError (the one
 * error that names the key, flag or file at fault); a config that loads
 * prints (`camgw config`, configYaml) as YAML that loads back to the same
 * config, less the secrets it withholds.
 */
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { serialize } from "node:v8";
import { parseRunArgs } from "../cli-args.js";
import { configYaml, loadConfig, type Config } from "../config.js";
import { ConfigError } from "../errors.js";
import { defineTarget, documentedThrow, expectThat, jsonCodec, textCodec } from "./fuzz-target.js";
import { mutatedText } from "./mutate.js";

const FILE = "fuzz.yaml";

/** The config less what configYaml withholds (secrets), to compare with what it prints. */
function withoutSecrets(c: Config): Config {
  return {
    ...c,
    "broker-password": "",
    "ice-credential": "",
    "ice-servers": c["ice-servers"].map((server) => {
      const { credential: _withheld, ...rest } = server;
      return rest;
    }),
  };
}

/**
 * Configs whose round trip held, by their v8 serialization (which keeps -0
 * and 0, NaN, undefined and a missing key apart: two configs with the same
 * serialization are deep-strict-equal). The round trip is a pure function of
 * the config (configYaml, and loadConfig of its text with no env), and costs
 * 1-2 ms (the yaml package prints and parses about 1 KB/ms); most inputs
 * that load give a config seen before (20,000 config-file inputs: 4,326
 * loaded, 409 distinct; cli-flags: 2,321 and 16), so a repeat is proven
 * already and is not run again. Bounded: emptied when full.
 */
const roundTripHeld = new Set<string>();
const ROUND_TRIP_MEMORY = 4096;

function holdsRoundTrip(config: Config): void {
  const key = serialize(config).toString("latin1");
  if (roundTripHeld.has(key)) return;
  const printed = configYaml(config);
  const back = documentedThrow("loadConfig of configYaml's output", [], () =>
    loadConfig({ file: FILE, fileText: printed, env: {} }),
  );
  if (!back.ok) throw back.error;
  expectThat(
    isDeepStrictEqual(back.value, withoutSecrets(config)),
    `configYaml printed\n${printed}\nwhich loads as ${JSON.stringify(back.value)}`,
  );
  if (roundTripHeld.size >= ROUND_TRIP_MEMORY) roundTripHeld.clear();
  roundTripHeld.add(key);
}

const FULL_FILE = [
  "device-id: porch-cam",
  "name: Porch  # display name",
  "prefix: camgw/home",
  "source: pipe:rpicam-vid --inline -t 0 -o -",
  "size: 1920x1080",
  "fps: 30",
  "bitrate: 4000",
  "keep-warm: yes",
  "broker: mqtts://127.0.0.1:8883",
  "broker-password: hunter2",
  "ice-servers:",
  "  - urls: turn:127.0.0.1:3478",
  "    username: u",
  "    credential: p",
  "  - stun:127.0.0.1:3478",
  "ice-host-addresses: [127.0.0.1, '::1']",
  "max-viewers: 4",
  "",
].join("\n");

const YAML_TOKENS = [
  "\n",
  ": ",
  "- ",
  "  ",
  "&a [1, 2] ",
  "*a",
  "!!str ",
  "!!binary ",
  "? ",
  "{a: 1}",
  "'",
  '"',
  "\\u0000",
  "~",
  "null",
  "0x1F",
  "1e400",
  "-0",
  ".inf",
  "<<: *a",
  "__proto__: 1\n",
  "---\n",
  "...\n",
  "%YAML 1.1\n",
  "#",
  "\t",
  "ice-servers: ",
  "urls: ",
  "size: ",
  "fps: ",
];

export const configFileTarget = defineTarget({
  name: "config-file",
  about: "config file YAML through loadConfig, and configYaml's output back through it",
  arbitrary: mutatedText([FULL_FILE, "fps: 15\n", configYaml(loadConfig({ env: {} }))], {
    tokens: YAML_TOKENS,
    maxLength: 8192,
  }),
  codec: textCodec,
  budgetMs: 500,
  corpusDir: "gateway/src/fuzz/corpus/config-file",
  check(text: string) {
    const loaded = documentedThrow("loadConfig", [ConfigError], () =>
      loadConfig({ file: FILE, fileText: text, env: {} }),
    );
    if (loaded.ok) holdsRoundTrip(loaded.value);
  },
});

const FLAG_TOKENS = [
  "--fps",
  "--size",
  "--bitrate",
  "--source",
  "--keep-warm",
  "--no-keep-warm",
  "--broker-insecure",
  "--ice-servers",
  "--ice-host-addresses",
  "--device-id",
  "--prefix",
  "--mtu",
  "--config",
  "-c",
  "-h",
  "--help",
  "--bitrat",
  "--fsp",
  "--",
  "-",
  "-5",
  "-.5",
  "--fps=",
  "--keep-warm=yes",
];

const VALUES = [
  "30",
  "1280x720",
  "sim",
  "v4l2:/dev/video0",
  "pipe:cat",
  "stun:127.0.0.1:3478,turn:127.0.0.1:3479",
  "127.0.0.1, ::1",
  "camgw/a",
  "mqtt://127.0.0.1:1883",
  "",
];

const arg = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FLAG_TOKENS) },
  {
    weight: 3,
    arbitrary: mutatedText(VALUES, { tokens: ["=", "-", ",", " ", "x"], maxLength: 128 }),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 16 }) },
);

export const cliFlagsTarget = defineTarget({
  name: "cli-flags",
  about: "`camgw run` argv through parseRunArgs and loadConfig",
  arbitrary: fc.array(arg, { maxLength: 12 }),
  codec: jsonCodec<string[]>(),
  budgetMs: 250,
  corpusDir: "gateway/src/fuzz/corpus/cli-flags",
  check(argv: string[]) {
    const parsed = documentedThrow("parseRunArgs", [ConfigError], () => parseRunArgs(argv));
    if (!parsed.ok) return;
    const { flags } = parsed.value;
    // --config names a file: its text is the config-file target's business.
    const loaded = documentedThrow("loadConfig", [ConfigError], () =>
      loadConfig({ flags, env: {} }),
    );
    if (loaded.ok) holdsRoundTrip(loaded.value);
  },
});
