import { parsePairing } from "../auth/pairing-link.js";
import { parseOrExplain } from "../cli-args.js";
import { brokerUrl, iceServers, id, integer, ipList, ValueError } from "../config-schema.js";
import { CamgwError, ConfigError } from "../errors.js";
import { DEFAULT_PREFIX } from "../signaling/messages.js";
import type { DeviceState } from "../signaling/viewer-client.js";
import type { IceServer } from "../webrtc/ice-config.js";
import { formatReport, runProbe } from "../probe/probe.js";
import {
  BrokerRefusedLogin,
  BrokerUnreachable,
  describeKnownDevices,
  knownDevices,
  type BrokerLogin,
} from "./online-devices.js";

export const PROBE_USAGE = `Usage: camgw probe [DEVICE_ID] [options]

Watches a camera like a browser would (MQTT signaling, WebRTC, H.264 decode)
and reports time to first frame, fps, bitrate, loss, key frames, the ICE
candidate pair and, when frames carry the frame stamp, glass-to-glass
latency. It uses the STUN/TURN servers the camera gives it, and when video
that played stops (a network change, a dropped link) it recovers as a browser
app would, and reports how long each outage lasted. Exits 1 when no video
arrived. Without DEVICE_ID (or with one that is not online) it lists the
cameras the broker knows. A camera's id is its --device-id: by default the
host name of the machine it runs on.

  --broker URL        mqtt://, mqtts://, ws:// or wss:// (default mqtt://127.0.0.1:1883)
  --username U        MQTT username (a viewer's name; also its viewerId)
  --password P        MQTT password
  --pair LINK         take username and password from a pairing link (camgw viewer add)
  --ca FILE           CA certificate (PEM)     --insecure     accept any certificate
  --prefix P          topic prefix (default camgw)
  --stream ID         stream to watch (default main)
  --seconds N         how long to watch (default 5)
  --frames N          stop once N frames have arrived
  --ice-host-addresses A,B   local addresses for ICE host candidates (e.g. 127.0.0.1)
  --ice-servers URLS  comma-separated stun:/turn:/turns: URLs to use instead of the camera's
                      (none: no servers, host candidates only)
  --ice-username U    username for the turn: servers   --ice-credential C   their credential
  --mdns-candidates   hide host addresses behind <uuid>.local names, as browsers do
                      (the camera must find the probe through its checks)
  --no-recover        end at the first outage instead of recovering
  --no-decode         count frames without decoding (cheaper; no latency figures)
  --no-rtx            do not offer RTX: the device resends lost packets as they were
  --timeline          add frames, kbit/s and glass-to-glass second by second to the report
  --events            print what happens (offer, playing, stalled, ice-restart, recovered...)
                      as JSON lines on stderr, with the time in ms since the epoch
  --json              print the report as JSON
`;

/** `camgw probe DEVICE_ID ...` */
export async function probeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOrExplain(
    {
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        broker: { type: "string" },
        username: { type: "string" },
        password: { type: "string" },
        pair: { type: "string" },
        ca: { type: "string" },
        insecure: { type: "boolean" },
        prefix: { type: "string" },
        stream: { type: "string" },
        seconds: { type: "string" },
        frames: { type: "string" },
        "ice-host-addresses": { type: "string" },
        "ice-servers": { type: "string" },
        "ice-username": { type: "string" },
        "ice-credential": { type: "string" },
        "mdns-candidates": { type: "boolean" },
        "no-decode": { type: "boolean" },
        "no-recover": { type: "boolean" },
        "no-rtx": { type: "boolean" },
        timeline: { type: "boolean" },
        events: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    },
    "probe",
  );
  if (values.help) {
    process.stdout.write(PROBE_USAGE);
    return 0;
  }
  if (positionals.length > 1)
    throw new ConfigError(`camgw probe takes one DEVICE_ID\n\n${PROBE_USAGE}`);
  const requested = positionals[0];
  const deviceId = requested === undefined ? undefined : check("DEVICE_ID", () => id(requested));
  const broker = check("--broker", () => brokerUrl(values.broker ?? "mqtt://127.0.0.1:1883"));
  if (broker === "embedded")
    throw new ConfigError("camgw probe --broker needs a URL such as mqtt://127.0.0.1:1883");
  const seconds = check("--seconds", () => integer(1, 86_400)(values.seconds ?? "5"));
  const frames =
    values.frames === undefined
      ? undefined
      : check("--frames", () => integer(1, 1_000_000)(values.frames));
  const hostAddresses = check("--ice-host-addresses", () =>
    ipList(values["ice-host-addresses"] ?? ""),
  );
  let username = values.username;
  let password = values.password;
  if (values.pair !== undefined) {
    const paired = parsePairing(values.pair);
    if (!paired) {
      throw new ConfigError(
        "camgw probe --pair: not a pairing link (https://host:port/#pair=NAME.PASSWORD.TOKEN)",
      );
    }
    username = paired.username;
    password = paired.password;
  }
  const login: BrokerLogin = {
    broker,
    prefix: values.prefix,
    username,
    password,
    caFile: values.ca,
    insecure: values.insecure,
  };
  // Ask the broker first: a camera that is not online would only time out
  // after 10 s, and saying which ones are online is what helps.
  const chosen = await onlineCamera(login, deviceId);
  if (chosen === null) return deviceId === undefined ? 2 : 1;
  const servers = givenServers(
    values["ice-servers"],
    values["ice-username"],
    values["ice-credential"],
  );
  // Ctrl-C (or SIGTERM) ends the watch early and still prints the report.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const report = await runProbe({
    signal: stop.signal,
    broker,
    deviceId: chosen,
    seconds,
    decode: values["no-decode"] !== true,
    ...(frames === undefined ? {} : { untilFrames: frames }),
    recover: values["no-recover"] !== true,
    ...(values["no-rtx"] ? { rtx: false } : {}),
    ...(values.timeline ? { timeline: true } : {}),
    hostAddresses,
    ...(servers ? { iceServers: servers } : {}),
    ...(values["mdns-candidates"] ? { mdnsCandidates: true } : {}),
    ...(values.events
      ? { onEvent: (event) => process.stderr.write(`${JSON.stringify(event)}\n`) }
      : {}),
    ...(values.prefix ? { prefix: values.prefix } : {}),
    ...(values.stream ? { stream: values.stream } : {}),
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(values.ca ? { caFile: values.ca } : {}),
    ...(values.insecure ? { insecure: true } : {}),
  });
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report));
  return report.video ? 0 : 1;
}

/**
 * The camera to probe: `deviceId` when its retained status says online.
 * Otherwise prints the cameras the broker knows and how to pick one, and
 * returns null.
 */
async function onlineCamera(
  login: BrokerLogin,
  deviceId: string | undefined,
): Promise<string | null> {
  let devices: DeviceState[];
  try {
    devices = await knownDevices(login);
  } catch (err) {
    if (err instanceof BrokerRefusedLogin) {
      // camgw's embedded broker lets in viewers only (docs/security.md).
      throw new CamgwError(
        "probe",
        login.username === undefined
          ? `camgw probe: ${err.message}: log in as a viewer. \`camgw viewer add NAME\` (on the camera's machine) prints a pairing link; give it: camgw probe --pair LINK (or --username and --password for a broker of your own)`
          : `camgw probe: ${err.message} as "${login.username}": check --pair (or --username and --password); \`camgw viewer add ${login.username} --replace\` prints a new link for that viewer.`,
      );
    }
    if (!(err instanceof BrokerUnreachable)) throw err;
    throw new CamgwError(
      "probe",
      `camgw probe: ${err.message}. Is \`camgw run\` running here? For another broker, give --broker URL.`,
    );
  }
  if (deviceId !== undefined && devices.some((d) => d.deviceId === deviceId && d.online)) {
    return deviceId;
  }
  const where = `${login.broker} (prefix ${login.prefix ?? DEFAULT_PREFIX})`;
  const known = devices.find((d) => d.deviceId === deviceId);
  const lines = [
    deviceId === undefined
      ? "camgw probe: which camera? Give its id: camgw probe DEVICE_ID"
      : `camgw probe: camera "${deviceId}" is ${known ? "offline" : "not known"} at ${where}.`,
  ];
  const online = devices.filter((d) => d.online);
  if (devices.length === 0) {
    lines.push(
      `No camera has a status at ${where}.`,
      "Start one with `camgw run` (its id is its --device-id, by default the host name),",
      "or give the broker (--broker) and --prefix the cameras use.",
    );
  } else {
    lines.push(`Cameras at ${where}:`, describeKnownDevices(devices).trimEnd());
    const example = online[0];
    if (example) {
      const again = login.username === undefined ? "" : " --pair LINK (the same login)";
      lines.push(`Watch one with: camgw probe ${example.deviceId}${again}`);
    }
  }
  process.stderr.write(lines.join("\n") + "\n");
  return null;
}

/** --ice-servers: URLs with the given credentials, [] for `none`, undefined: the camera's. */
function givenServers(
  urls: string | undefined,
  username: string | undefined,
  credential: string | undefined,
): IceServer[] | undefined {
  if (urls === undefined || urls === "") return undefined;
  if (urls === "none") return [];
  return check("--ice-servers", () => iceServers(urls)).map((s) => ({
    ...s,
    ...(username ? { username } : {}),
    ...(credential ? { credential } : {}),
  }));
}

function check<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ValueError) throw new ConfigError(`camgw probe ${what}: ${err.message}`);
    throw err;
  }
}
