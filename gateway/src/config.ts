import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parse as parseYaml } from "yaml";
import {
  bool,
  brokerUrl,
  iceServers,
  id,
  ipList,
  integer,
  oneOf,
  originList,
  prefix,
  size,
  source,
  str,
  ValueError,
  type KeySpec,
} from "./config-schema.js";
import { ConfigError } from "./errors.js";

/** The default device id: the host name, reduced to the characters ids allow. */
function defaultDeviceId(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9_-]/g, "-")
    .slice(0, 64);
  return name || "camgw";
}

/**
 * The gateway's configuration keys. Each is `key` in YAML, `--key` as a flag
 * and `CAMGW_KEY` (upper case, "-" -> "_") in the environment; see
 * docs/config.md.
 */
export const SCHEMA = {
  "device-id": {
    parse: id,
    default: defaultDeviceId(),
    defaultText: "the host name",
    help: "This camera's id in signaling topics",
  },
  name: {
    parse: str,
    default: "",
    defaultText: "the device id",
    help: "Display name shown to viewers",
  },
  prefix: { parse: prefix, default: "camgw", help: "MQTT topic prefix" },
  source: {
    parse: source,
    default: { kind: "auto" },
    defaultText: "auto",
    help: "auto | sim | v4l2:/dev/videoN | pipe:<command>",
  },
  "sim-profile": {
    parse: oneOf("pi4", "pi5", "uvc-h264"),
    default: "pi4",
    help: "Virtual board used by --source sim",
  },
  "sim-faults": {
    parse: str,
    default: "",
    help: "Faults for the virtual board (docs/firmware-sim.md)",
  },
  encoder: {
    parse: oneOf("auto", "hardware", "software", "passthrough"),
    default: "auto",
    help: "H.264 encoder choice",
  },
  size: {
    parse: size,
    default: { width: 1280, height: 720 },
    defaultText: "1280x720",
    help: "Capture size WxH",
  },
  fps: { parse: integer(1, 120), default: 30, help: "Frames per second" },
  bitrate: { parse: integer(100, 50_000), default: 2000, help: "Target bitrate, kbit/s" },
  "keyframe-interval": {
    parse: integer(1, 3600),
    default: 120,
    help: "Frames between periodic IDRs (viewers also get one on join and on PLI)",
  },
  broker: {
    parse: brokerUrl,
    default: "embedded",
    help: "embedded | mqtt(s)://host:port | ws(s)://host:port/path",
  },
  "broker-username": { parse: str, default: "", help: "MQTT username" },
  "broker-password": { parse: str, default: "", help: "MQTT password", secret: true },
  "broker-ca": {
    parse: str,
    default: "",
    help: "PEM file of the CA that signed the broker's certificate",
  },
  "broker-insecure": {
    parse: bool,
    default: false,
    help: "Accept any broker certificate (testing only)",
  },
  "mqtt-port": {
    parse: integer(0, 65535),
    default: 1883,
    help: "Embedded broker's plain MQTT/TCP port, on 127.0.0.1 unless allow-plain-lan (0 picks a free one)",
  },
  "mqtts-port": {
    parse: integer(0, 65535),
    default: 8883,
    help: "Embedded broker's MQTT over TLS port, on the listen address (0 picks a free one)",
  },
  "mqtt-ws-port": {
    parse: integer(0, 65535),
    default: 0,
    help: "Embedded broker's own plain MQTT/WebSocket port, like mqtt-port (0: off; /mqtt on the web ports is always served)",
  },
  listen: {
    parse: str,
    default: "0.0.0.0",
    help: "Address HTTPS and MQTT over TLS bind to (plain HTTP and MQTT: 127.0.0.1 unless allow-plain-lan)",
  },
  "http-port": {
    parse: integer(0, 65535),
    default: 8080,
    help: "Plain HTTP port (viewer, /healthz, /metrics, /mqtt), on 127.0.0.1 unless allow-plain-lan",
  },
  "https-port": {
    parse: integer(0, 65535),
    default: 8443,
    help: "HTTPS port (the same as http-port), on the listen address (0 picks a free one)",
  },
  "allow-plain-lan": {
    parse: bool,
    default: false,
    help: "Also serve plain HTTP and MQTT on the listen address, not only on 127.0.0.1 (trusted networks only)",
  },
  "tls-cert": {
    parse: str,
    default: "",
    defaultText: "self-signed, made in state-dir",
    help: "PEM certificate for HTTPS and MQTT over TLS (with tls-key)",
  },
  "tls-key": { parse: str, default: "", help: "PEM private key of tls-cert" },
  "state-dir": {
    parse: str,
    default: "",
    defaultText: "$XDG_STATE_HOME/camgw or ~/.local/state/camgw",
    help: "Where viewer accounts, the device's broker secret and the TLS key are kept",
  },
  "allowed-origins": {
    parse: originList,
    default: [],
    defaultText: "only the page's own",
    help: "Other web origins whose pages may use /mqtt (comma-separated)",
  },
  "metrics-access": {
    parse: oneOf("loopback", "token"),
    default: "loopback",
    help: "loopback: /metrics open to this machine, a viewer's token elsewhere; token: a token always",
  },
  "ice-servers": {
    parse: iceServers,
    default: [],
    defaultText: "none (LAN)",
    help: "Comma-separated stun:/turn: URLs",
  },
  "ice-host-addresses": {
    parse: ipList,
    default: [],
    defaultText: "every non-loopback interface",
    help: "Only these local addresses become ICE host candidates (e.g. 127.0.0.1 for tests)",
  },
  "ice-username": { parse: str, default: "", help: "Username for turn: servers given as URLs" },
  "ice-credential": {
    parse: str,
    default: "",
    help: "Credential for turn: servers given as URLs",
    secret: true,
  },
  "max-viewers": { parse: integer(1, 256), default: 8, help: "Live sessions allowed at once" },
  "keep-warm": {
    parse: bool,
    default: false,
    help: "Keep capture and encoder running with no viewer",
  },
  mtu: { parse: integer(300, 9000), default: 1200, help: "Largest RTP packet, bytes" },
  "consent-timeout": {
    parse: integer(1, 300),
    default: 15,
    help: "Seconds without consent/RTCP before a session ends",
  },
  "log-level": {
    parse: oneOf("error", "warn", "info", "debug"),
    default: "info",
    help: "Log verbosity",
  },
} as const satisfies Record<string, KeySpec<unknown>>;

export type Key = keyof typeof SCHEMA;
export type Config = { -readonly [K in Key]: ReturnType<(typeof SCHEMA)[K]["parse"]> };

export const KEYS = Object.keys(SCHEMA) as Key[];

export function envName(key: Key): string {
  return `CAMGW_${key.toUpperCase().replace(/-/g, "_")}`;
}

function set(config: Config, key: Key, raw: unknown, origin: string): void {
  try {
    (config as Record<Key, unknown>)[key] = SCHEMA[key].parse(raw);
  } catch (err) {
    if (!(err instanceof ValueError)) throw err;
    throw new ConfigError(`${origin}: ${err.message}`, { key, origin });
  }
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message}`, { file: path });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${path}: not valid YAML: ${(err as Error).message}`, {
      file: path,
    });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ConfigError(`config file ${path}: expected a mapping of keys to values`, {
      file: path,
    });
  }
  return doc as Record<string, unknown>;
}

export interface ConfigInputs {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Flag values by key, already split from argv by the CLI. */
  flags?: Partial<Record<Key, string | boolean | undefined>>;
}

/** Builds the config from defaults < file < env < flags; throws ConfigError. */
export function loadConfig(inputs: ConfigInputs = {}): Config {
  const config = Object.fromEntries(KEYS.map((k) => [k, SCHEMA[k].default])) as unknown as Config;
  if (inputs.file) {
    const doc = readFile(inputs.file);
    for (const [key, value] of Object.entries(doc)) {
      if (!(KEYS as string[]).includes(key)) {
        throw new ConfigError(
          `config file ${inputs.file}: unknown key "${key}" (keys: ${KEYS.join(", ")})`,
          {
            file: inputs.file,
            key,
          },
        );
      }
      set(config, key as Key, value, `config file ${inputs.file}, key "${key}"`);
    }
  }
  const env = inputs.env ?? {};
  for (const key of KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== "") set(config, key, value, `environment ${envName(key)}`);
  }
  for (const key of KEYS) {
    const value = inputs.flags?.[key];
    if (value !== undefined) set(config, key, value, `flag --${key}`);
  }
  if (!config.name) config.name = config["device-id"];
  return config;
}

/** The config as YAML-able values with secrets masked (for `camgw config`). */
export function describeConfig(config: Config): Record<string, unknown> {
  return Object.fromEntries(
    KEYS.map((k) => {
      const spec: KeySpec<unknown> = SCHEMA[k];
      return [k, spec.secret && config[k] ? "********" : config[k]];
    }),
  );
}
