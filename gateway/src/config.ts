import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Document, parseDocument } from "yaml";
import {
  bool,
  brokerUrl,
  decimal,
  formatSize,
  formatIdList,
  formatKbpsRange,
  formatSizeList,
  formatSource,
  iceServers,
  id,
  idList,
  ipList,
  kbpsRange,
  integer,
  oneOf,
  optionalHttpUrl,
  optionalId,
  corsOriginList,
  originList,
  prefix,
  size,
  sizeList,
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
    format: formatSource,
    default: { kind: "auto" },
    defaultText: "auto",
    help: "auto | sim | v4l2:/dev/videoN | pipe:<command>",
  },
  "sim-profile": {
    parse: oneOf("pi4", "pi5", "uvc-h264"),
    default: "pi4",
    help: "Virtual board used by --source sim",
  },
  "sim-scene": {
    parse: oneOf("bars", "realistic"),
    default: "bars",
    help: "What the virtual camera films: bars (cheap to encode) or realistic (costs the full bitrate)",
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
    format: formatSize,
    default: { width: 1280, height: 720 },
    defaultText: "1280x720",
    help: "Capture size WxH",
  },
  fps: { parse: integer(1, 120), default: 30, help: "Frames per second" },
  bitrate: {
    parse: integer(100, 50_000),
    default: 2000,
    help: "Target bitrate, kbit/s: the most the encoder sends (see adapt-bitrate)",
  },
  "adapt-bitrate": {
    parse: bool,
    default: true,
    help: "The encoder follows the viewers' bandwidth (lowest estimate) between min-bitrate and bitrate",
  },
  degradation: {
    parse: oneOf("maintain-framerate", "maintain-resolution", "balanced"),
    default: "maintain-framerate",
    help: "When adapting and the bitrate alone cannot fit: maintain-framerate steps the capture size down (and back up); maintain-resolution steps the frame rate down (30, 20, 15, 10, 5 fps); balanced the frame rate to half, then the size",
  },
  "low-encoding": {
    parse: bool,
    default: true,
    help: "When adapting: a viewer far below the others watches a second, lower encoding of the camera (half the size, its own rate), so the others keep their quality",
  },
  "min-bitrate": {
    parse: integer(100, 50_000),
    default: 150,
    help: "The least the encoder is asked for while adapting, kbit/s",
  },
  // Every WebRTC viewer asks for its key frames (on join, PLI, FIR), as
  // libwebrtc's senders expect: they send none unasked. A periodic IDR at a
  // capped rate takes 160-300 ms to cross the link, a freeze each time in
  // Chromium's count (docs/congestion.md); the default is a safety net.
  "keyframe-interval": {
    parse: integer(1, 3600),
    default: 3600,
    help: "Frames between periodic IDRs; viewers get one on join and on PLI/FIR anyway. Set 60-120 for a consumer that cannot ask (docs/congestion.md)",
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
  "max-connections-per-address": {
    parse: integer(1, 1024),
    default: 16,
    help: "Connections one client address may hold open on the web ports, and on the embedded broker (127.0.0.1 and ::1 exempt)",
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
  "turn-secret": {
    parse: str,
    default: "",
    help: "TURN REST shared secret (coturn static-auth-secret): short-lived credentials for the turn: URLs of ice-servers, for the gateway and each viewer (config file or environment only)",
    secret: true,
    noFlag: true,
  },
  "turn-credential-ttl": {
    parse: integer(60, 30 * 86_400),
    default: 86_400,
    help: "Seconds the TURN credentials made from turn-secret stay valid",
  },
  "turn-ca": {
    parse: str,
    default: "",
    defaultText: "the system's CAs (and NODE_EXTRA_CA_CERTS)",
    help: "PEM file of the CA that signs the turns: servers' certificates",
  },
  "max-viewers": { parse: integer(1, 256), default: 8, help: "Live sessions allowed at once" },
  "keep-warm": {
    parse: bool,
    default: false,
    help: "Keep capture and encoder running with no viewer",
  },
  "snapshot-linger": {
    parse: decimal(0, 3600),
    default: 10,
    help: "Seconds the camera keeps running after a snapshot when nobody watches (the next snapshot needs no start)",
  },
  "source-timeout": {
    parse: decimal(0, 1440),
    default: 5,
    help: "Minutes the camera may stay unavailable (unplugged, failing) before its viewers get bye source-lost; 0: at once",
  },
  mtu: { parse: integer(300, 9000), default: 1200, help: "Largest RTP packet, bytes" },
  "consent-timeout": {
    parse: integer(1, 300),
    default: 15,
    help: "Seconds without consent/RTCP before a session ends",
  },
  "whep-token": {
    parse: str,
    default: "",
    help: "A shared bearer token WHEP players may send besides the viewers' own (empty: only theirs)",
    secret: true,
  },
  "whep-cors-origins": {
    parse: corsOriginList,
    default: [],
    defaultText: "none (same origin only)",
    help: "Origins whose web pages may use WHEP (comma-separated; * for any)",
  },
  "whip-url": {
    parse: optionalHttpUrl,
    default: "",
    help: "WHIP endpoint to push the main stream to (empty: off)",
  },
  "whip-token": {
    parse: str,
    default: "",
    help: "Bearer token for the WHIP endpoint",
    secret: true,
  },
  audio: {
    parse: oneOf("off", "listen", "talk"),
    default: "off",
    help: "off | listen (viewers hear the microphone) | talk (and talk back through the speaker)",
  },
  "audio-device": {
    parse: str,
    default: "",
    defaultText: "the first sound card that can capture",
    help: "ALSA microphone, e.g. plughw:CARD=Device,DEV=0 (`arecord -L` lists them)",
  },
  "speaker-device": {
    parse: str,
    default: "",
    defaultText: "the first sound card that can play",
    help: "ALSA speaker for talk-back, e.g. plughw:CARD=Device,DEV=0",
  },
  "control-bitrate": {
    parse: kbpsRange,
    format: formatKbpsRange,
    default: null,
    defaultText: "none (viewers cannot change it)",
    help: "Bitrates viewers may set over the control channel, MIN-MAX kbit/s",
  },
  "control-sizes": {
    parse: sizeList,
    format: formatSizeList,
    default: [],
    defaultText: "none (viewers cannot change it)",
    help: "Capture sizes viewers may switch to over the control channel (comma-separated WxH)",
  },
  "app-socket": {
    parse: str,
    default: "",
    defaultText: "none (off)",
    help: "Unix socket where your program exchanges `app` messages with viewers (docs/control.md)",
  },
  "app-viewers": {
    parse: idList,
    format: formatIdList,
    default: [],
    defaultText: "none",
    help: "Viewer ids allowed to send and receive `app` messages (comma-separated, or *)",
  },
  "home-assistant": {
    parse: bool,
    default: false,
    help: "Announce this camera to Home Assistant by MQTT discovery (docs/home-assistant.md); off: remove what an earlier start announced",
  },
  "home-assistant-prefix": {
    parse: prefix,
    default: "homeassistant",
    help: "Home Assistant's MQTT discovery prefix (its discovery_prefix)",
  },
  "home-assistant-account": {
    parse: optionalId,
    default: "",
    defaultText: "none",
    help: "The viewer account Home Assistant logs in to the embedded broker with: it may read the discovery, state and snapshot topics",
  },
  "home-assistant-state-interval": {
    parse: integer(1, 3600),
    default: 10,
    help: "Seconds between Home Assistant sensor updates (also sent at once when the viewers or the source change)",
  },
  "home-assistant-snapshot-interval": {
    parse: integer(1, 3600),
    default: 10,
    help: "Seconds between snapshots sent to Home Assistant's camera entity",
  },
  "home-assistant-snapshot-width": {
    parse: integer(64, 4096),
    default: 640,
    help: "Width of the snapshots sent to Home Assistant, pixels (they must fit an MQTT packet: 70 KB)",
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

function readFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`config file ${path}: ${(err as Error).message}`, { file: path });
  }
}

/** A config file's YAML as its mapping of keys to values; `path` names it in errors. */
function parseFile(path: string, text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    // yaml 2.9.1 parse() would print its warnings (an unresolved tag, an
    // ambiguous alias...) to stderr as Node process warnings and go on with
    // a guess (found by fuzzing, docs/fuzzing.md): a warning is an error here.
    // logLevel "error" keeps toJS() quiet too: a mapping used as a key
    // becomes a string key, which the schema refuses as an unknown key.
    const parsed = parseDocument(text, { logLevel: "error" });
    const [problem] = [...parsed.errors, ...parsed.warnings];
    if (problem) throw problem;
    doc = parsed.toJS();
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
  /** The file's text when the caller has read it already (`file` still names it in errors). */
  fileText?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Flag values by key, already split from argv by the CLI. */
  flags?: Partial<Record<Key, string | boolean | undefined>>;
}

/** Builds the config from defaults < file < env < flags; throws ConfigError. */
export function loadConfig(inputs: ConfigInputs = {}): Config {
  const config = Object.fromEntries(KEYS.map((k) => [k, SCHEMA[k].default])) as unknown as Config;
  if (inputs.file) {
    const doc = parseFile(inputs.file, inputs.fileText ?? readFile(inputs.file));
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
  checkTurn(config);
  if (config["adapt-bitrate"] && config["min-bitrate"] > config.bitrate) {
    throw new ConfigError(
      `min-bitrate (${config["min-bitrate"]} kbit/s) is above bitrate (${config.bitrate} kbit/s): lower min-bitrate or raise bitrate`,
      { key: "min-bitrate" },
    );
  }
  checkHomeAssistant(config);
  return config;
}

/**
 * Home Assistant's discovery topics and camgw's signaling topics must stay
 * apart: the broker's ACL tells them apart by their first levels.
 */
function checkHomeAssistant(config: Config): void {
  const ha = config["home-assistant-prefix"];
  const own = config.prefix;
  if (ha === own || ha.startsWith(`${own}/`) || own.startsWith(`${ha}/`)) {
    throw new ConfigError(
      `home-assistant-prefix "${ha}" overlaps prefix "${own}": Home Assistant's discovery topics and camgw's signaling topics must not share their first levels`,
      { key: "home-assistant-prefix" },
    );
  }
}

/** The TURN keys that only make sense together, or not at all. */
function checkTurn(config: Config): void {
  if (!config["turn-secret"]) return;
  if (config["ice-username"] || config["ice-credential"]) {
    throw new ConfigError(
      "turn-secret and ice-username/ice-credential are both set: give the secret (credentials made per session, and for viewers) or fixed credentials, not both",
      { key: "turn-secret" },
    );
  }
  const turnUrls = config["ice-servers"].filter(
    (s) => /^turns?:/i.test(s.urls) && s.username === undefined && s.credential === undefined,
  );
  if (turnUrls.length === 0) {
    throw new ConfigError(
      "turn-secret is set but ice-servers has no turn: or turns: URL to use it with (e.g. --ice-servers turn:turn.example.net:3478)",
      { key: "turn-secret" },
    );
  }
}

/** What `camgw config` prints: values as a config file takes them, and what it left out. */
export interface ConfigDescription {
  values: Record<string, unknown>;
  /** Secrets that are set but not printed, as "key" or "ice-servers[N].credential". */
  withheld: string[];
}

/**
 * The config as a config file would say it, secrets left out: loading
 * `values` back as a file gives the same config, less the secrets.
 */
export function describeConfig(config: Config): ConfigDescription {
  const values: Record<string, unknown> = {};
  const withheld: string[] = [];
  for (const key of KEYS) {
    const spec: KeySpec<unknown> = SCHEMA[key];
    const value: unknown = config[key];
    if (spec.secret) {
      if (value) withheld.push(key);
      continue;
    }
    values[key] = spec.format ? spec.format(value) : value;
  }
  // A TURN credential given inside ice-servers is as secret as ice-credential.
  values["ice-servers"] = config["ice-servers"].map((server, i) => {
    const { credential, ...rest } = server;
    if (credential !== undefined) withheld.push(`ice-servers[${i}].credential`);
    return rest;
  });
  return { values, withheld };
}

/** `camgw config`: the effective config as YAML that `camgw run --config FILE` loads. */
export function configYaml(config: Config): string {
  const { values, withheld } = describeConfig(config);
  const doc = new Document(values);
  const notes = [
    " camgw's effective configuration. Save it and run it with:",
    "   camgw config [flags] > camgw.yaml && camgw run --config camgw.yaml",
  ];
  if (withheld.length > 0) {
    const named = withheld.map((w) =>
      (KEYS as string[]).includes(w) ? `${w} (or ${envName(w as Key)})` : w,
    );
    notes.push(` Secrets are set but not printed; add them here: ${named.join(", ")}.`);
  }
  doc.commentBefore = notes.join("\n");
  return doc.toString();
}
