/**
 * The fault language of the virtual board (docs/firmware-sim.md), checked
 * here before a process starts so a typo is a clear error rather than a
 * silently fault-free run. The C library (vdev/faults.c) parses the same
 * grammar at start and whenever the control file changes.
 *
 *   unplug[:at=T][:for=T][:dev=camera|encoder|audio|all]
 *   drop:rate=P   eio:rate=P   corrupt:rate=P      P in [0, 1]
 *   stall:ms=N[:at=T][:dev=camera|mic|speaker|audio]   drift:ppm=X (|X| <= 10000)
 *   enc-lag:ms=N   enc-stop[:at=T]   xrun[:at=T][:dev=mic|speaker|audio]
 *
 * Faults are separated by `,` `;` or newlines; T is `250ms`, `2s`, `1.5s`
 * or a bare number of milliseconds.
 */
import { ConfigError } from "../../gateway/src/errors.js";

export type FaultName =
  "unplug" | "drop" | "eio" | "corrupt" | "stall" | "drift" | "enc-lag" | "enc-stop" | "xrun";

export interface Fault {
  name: FaultName;
  params: Readonly<Record<string, string>>;
}

const NAMES: readonly FaultName[] = [
  "unplug",
  "drop",
  "eio",
  "corrupt",
  "stall",
  "drift",
  "enc-lag",
  "enc-stop",
  "xrun",
];

const ALLOWED: Readonly<Record<FaultName, readonly string[]>> = {
  unplug: ["at", "for", "dev"],
  drop: ["rate"],
  eio: ["rate"],
  corrupt: ["rate"],
  stall: ["ms", "at", "dev"],
  drift: ["ppm"],
  "enc-lag": ["ms"],
  "enc-stop": ["at"],
  xrun: ["at", "dev"],
};

/** What dev= may name, per fault. */
const DEVICES: Readonly<Partial<Record<FaultName, readonly string[]>>> = {
  unplug: ["camera", "encoder", "audio", "all"],
  stall: ["camera", "mic", "speaker", "audio"],
  xrun: ["mic", "speaker", "audio"],
};

const REQUIRED: Readonly<Record<FaultName, readonly string[]>> = {
  unplug: [],
  drop: ["rate"],
  eio: ["rate"],
  corrupt: ["rate"],
  stall: ["ms"],
  drift: ["ppm"],
  "enc-lag": ["ms"],
  "enc-stop": [],
  xrun: [],
};

function isName(s: string): s is FaultName {
  return (NAMES as readonly string[]).includes(s);
}

/**
 * The library keeps durations as int64_t nanoseconds and refuses longer ones
 * (vdev/faults.c duration()); the harness refuses the same, not later.
 */
const MAX_DURATION_MS = 9.2e12;

/** A duration in milliseconds: `250ms`, `2s`, `1.5s` or a bare number (ms). */
export function parseDurationMs(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v);
  if (!m?.[1]) return undefined;
  const n = Number(m[1]);
  const ms = m[2] === "s" ? n * 1000 : n;
  return ms < MAX_DURATION_MS ? ms : undefined;
}

function checkValue(item: string, name: FaultName, key: string, value: string): void {
  const bad = (why: string): never => {
    throw new ConfigError(`fault "${item}": ${why}`, { fault: item, key });
  };
  switch (key) {
    case "at":
    case "for":
      if (parseDurationMs(value) === undefined) bad(`${key} must be a duration like 500ms or 2s`);
      return;
    case "ms":
      if (parseDurationMs(value) === undefined) bad("ms must be a number of milliseconds");
      return;
    case "rate": {
      const n = Number(value);
      if (value === "" || !Number.isFinite(n) || n < 0 || n > 1) {
        bad("rate must be a number from 0 to 1");
      }
      return;
    }
    case "ppm": {
      const n = Number(value);
      if (value === "" || !Number.isFinite(n) || Math.abs(n) > 10000) {
        bad("ppm must be a number from -10000 to 10000");
      }
      return;
    }
    case "dev": {
      const allowed = DEVICES[name] ?? [];
      if (!allowed.includes(value)) {
        const names = allowed.slice(0, -1).join(", ") + ` or ${allowed.at(-1) ?? ""}`;
        bad(`dev must be ${names}`);
      }
      return;
    }
  }
}

/** Parses and validates a fault list; throws ConfigError naming the bad item. */
export function parseFaults(spec: string): Fault[] {
  const faults: Fault[] = [];
  for (const raw of spec.split(/[,;\n]/)) {
    const item = raw.trim();
    if (item === "" || item.startsWith("#")) continue;
    const [name = "", ...pairs] = item.split(":");
    if (!isName(name)) {
      throw new ConfigError(`fault "${item}": unknown fault (${NAMES.join(", ")})`, {
        fault: item,
      });
    }
    const params: Record<string, string> = {};
    for (const pair of pairs) {
      const eq = pair.indexOf("=");
      if (eq <= 0) {
        throw new ConfigError(`fault "${item}": parameters are key=value`, { fault: item });
      }
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (!ALLOWED[name].includes(key)) {
        throw new ConfigError(
          `fault "${item}": ${name} takes ${ALLOWED[name].map((k) => `${k}=`).join(", ") || "no parameters"}`,
          { fault: item, key },
        );
      }
      checkValue(item, name, key, value);
      params[key] = value;
    }
    for (const key of REQUIRED[name]) {
      if (!(key in params)) {
        throw new ConfigError(`fault "${item}": needs ${key}=`, { fault: item, key });
      }
    }
    faults.push({ name, params });
  }
  return faults;
}
