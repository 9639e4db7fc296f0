import { parsePairing } from "../auth/pairing-link.js";
import { parseOrExplain } from "../cli-args.js";
import { brokerUrl, id, integer, ipList, ValueError } from "../config-schema.js";
import { ConfigError } from "../errors.js";
import { formatReport, runProbe } from "../probe/probe.js";

export const PROBE_USAGE = `Usage: camgw probe DEVICE_ID [options]

Watches a camera like a browser would (MQTT signaling, WebRTC, H.264 decode)
and reports time to first frame, fps, bitrate, loss, key frames and, when
frames carry the frame stamp, glass-to-glass latency. Exits 1 when no video
arrived.

  --broker URL        mqtt://, mqtts://, ws:// or wss:// (default mqtt://127.0.0.1:1883)
  --username U        MQTT username (a viewer's name; also its viewerId)
  --password P        MQTT password
  --pair LINK         take username and password from a pairing link (camgw viewer add)
  --ca FILE           CA certificate (PEM)     --insecure     accept any certificate
  --prefix P          topic prefix (default camgw)
  --stream ID         stream to watch (default main)
  --seconds N         how long to watch (default 5)
  --ice-host-addresses A,B   local addresses for ICE host candidates (e.g. 127.0.0.1)
  --no-decode         count frames without decoding (cheaper; no latency figures)
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
        "ice-host-addresses": { type: "string" },
        "no-decode": { type: "boolean" },
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
  if (positionals.length !== 1)
    throw new ConfigError(`camgw probe takes one DEVICE_ID\n\n${PROBE_USAGE}`);
  const deviceId = check("DEVICE_ID", () => id(positionals[0]));
  const broker = check("--broker", () => brokerUrl(values.broker ?? "mqtt://127.0.0.1:1883"));
  if (broker === "embedded")
    throw new ConfigError("camgw probe --broker needs a URL such as mqtt://127.0.0.1:1883");
  const seconds = check("--seconds", () => integer(1, 86_400)(values.seconds ?? "5"));
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
  // Ctrl-C (or SIGTERM) ends the watch early and still prints the report.
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const report = await runProbe({
    signal: stop.signal,
    broker,
    deviceId,
    seconds,
    decode: values["no-decode"] !== true,
    hostAddresses,
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

function check<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ValueError) throw new ConfigError(`camgw probe ${what}: ${err.message}`);
    throw err;
  }
}
