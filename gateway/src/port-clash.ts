import type { Config } from "./config.js";
import { CamgwError } from "./errors.js";

/** The flags that set a port camgw listens on. */
const PORT_FLAGS = ["http-port", "https-port", "mqtt-port", "mqtts-port", "mqtt-ws-port"] as const;

/**
 * A listener that could not bind because its port is taken (EADDRINUSE),
 * typically a second camgw while one runs (issue 13): one message naming
 * the flag that moves it, instead of Node's error. Anything else is returned
 * as it is. The listeners wrap Node's error as `cause`, which carries the port.
 */
export function explainPortClash(err: unknown, config: Config): unknown {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  if (code !== "EADDRINUSE") return err;
  const port = (cause as { port?: unknown }).port;
  const flags = PORT_FLAGS.filter((flag) => config[flag] === port).map((flag) => `--${flag}`);
  const which = flags.length ? flags.join(" or ") : "the port flags (see `camgw run --help`)";
  return new CamgwError(
    "port-in-use",
    `port ${String(port)} is already in use (another camgw running? \`ss -ltnp 'sport = :${String(port)}'\` shows which program); stop it, or choose another port with ${which}`,
    { port: typeof port === "number" ? port : undefined },
    { cause: err },
  );
}
