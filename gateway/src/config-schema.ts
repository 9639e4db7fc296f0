import { isIP } from "node:net";

/**
 * Every configuration key, once: its name (the same in the YAML file, as a
 * flag `--name`, and as `CAMGW_NAME` in the environment), its type, default
 * and check. config.ts layers file < env < flags over these defaults.
 */

export type Parser<T> = (raw: unknown) => T;

export interface KeySpec<T> {
  readonly parse: Parser<T>;
  readonly default: T;
  readonly help: string;
  /** Shown instead of the default in help (e.g. derived from the hostname). */
  readonly defaultText?: string;
  /** Never printed back (passwords). */
  readonly secret?: boolean;
  /** Not a flag (config file and environment only): a flag's value shows in `ps`. */
  readonly noFlag?: boolean;
  /**
   * The value as written in a config file, when that is not the value itself
   * (`camgw config` prints what `run --config` reads back: parse(format(v)) = v).
   * A method, so that specs of every T fit KeySpec<unknown>.
   */
  format?(value: T): unknown;
}

/** A parse failure; config.ts adds where the value came from. */
export class ValueError extends Error {}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

function text(raw: unknown): string {
  if (typeof raw === "string") return raw.trim();
  if (typeof raw === "number" || typeof raw === "boolean") return String(raw);
  throw new ValueError(`expected a string, got ${describe(raw)}`);
}

function describe(raw: unknown): string {
  if (raw === null) return "null";
  if (Array.isArray(raw)) return "a list";
  return typeof raw === "object" ? "an object" : `${typeof raw} ${JSON.stringify(raw)}`;
}

export const str: Parser<string> = text;

export function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    const s = text(raw);
    if (!/^-?\d+$/.test(s)) throw new ValueError(`expected a whole number, got "${s}"`);
    const n = Number(s);
    if (n < min || n > max) throw new ValueError(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

/** A number with an optional fraction (e.g. minutes: 5, 0.5). */
export function decimal(min: number, max: number): Parser<number> {
  return (raw) => {
    const s = text(raw);
    if (!/^\d+(\.\d+)?$/.test(s))
      throw new ValueError(`expected a number such as 5 or 0.5, got "${s}"`);
    const n = Number(s);
    if (n < min || n > max) throw new ValueError(`must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export const bool: Parser<boolean> = (raw) => {
  if (typeof raw === "boolean") return raw;
  const s = text(raw).toLowerCase();
  if (["1", "true", "yes", "on"].includes(s)) return true;
  if (["0", "false", "no", "off"].includes(s)) return false;
  throw new ValueError(`expected true or false, got "${s}"`);
};

export function oneOf<const T extends string>(...values: T[]): Parser<T> {
  return (raw) => {
    const s = text(raw);
    if ((values as string[]).includes(s)) return s as T;
    throw new ValueError(`must be one of ${values.join(", ")}; got "${s}"`);
  };
}

export const id: Parser<string> = (raw) => {
  const s = text(raw);
  if (!ID.test(s)) throw new ValueError(`must be 1-64 characters of A-Z a-z 0-9 _ -; got "${s}"`);
  return s;
};

/** An id, or empty for "none". */
export const optionalId: Parser<string> = (raw) => (text(raw) === "" ? "" : id(raw));

export const prefix: Parser<string> = (raw) => {
  const s = text(raw);
  if (!PREFIX.test(s)) {
    throw new ValueError(
      `must be topic levels of A-Z a-z 0-9 _ - joined by "/", no wildcards or outer "/"; got "${s}"`,
    );
  }
  return s;
};

export interface Size {
  width: number;
  height: number;
}

export const size: Parser<Size> = (raw) => {
  const s = text(raw);
  const m = /^(\d{2,5})x(\d{2,5})$/.exec(s);
  if (!m) throw new ValueError(`expected WIDTHxHEIGHT such as 1280x720, got "${s}"`);
  const width = Number(m[1]);
  const height = Number(m[2]);
  // H.264 macroblocks are 16x16 and 4:2:0 chroma halves both axes: odd sizes
  // cannot be encoded, and no camera we drive offers them.
  if (width % 2 || height % 2) throw new ValueError(`width and height must be even, got "${s}"`);
  if (width < 64 || height < 64 || width > 4096 || height > 4096) {
    throw new ValueError(`must be between 64x64 and 4096x4096, got "${s}"`);
  }
  return { width, height };
};

export const formatSize = (s: Size): string => `${s.width}x${s.height}`;

export type SourceSpec =
  | { kind: "auto" }
  | { kind: "sim" }
  | { kind: "v4l2"; device: string }
  | { kind: "pipe"; command: string };

export const source: Parser<SourceSpec> = (raw) => {
  const s = text(raw);
  if (s === "auto" || s === "sim") return { kind: s };
  if (s.startsWith("v4l2:")) {
    const device = s.slice(5);
    if (!/^\/dev\/[\w./-]+$/.test(device)) {
      throw new ValueError(`v4l2 needs a device path such as v4l2:/dev/video0, got "${s}"`);
    }
    return { kind: "v4l2", device };
  }
  if (s.startsWith("pipe:")) {
    const command = s.slice(5).trim();
    if (!command)
      throw new ValueError(`pipe needs a command, e.g. "pipe:rpicam-vid --inline -t 0 -o -"`);
    return { kind: "pipe", command };
  }
  throw new ValueError(`must be auto, sim, v4l2:/dev/videoN or pipe:<command>; got "${s}"`);
};

export function formatSource(s: SourceSpec): string {
  switch (s.kind) {
    case "v4l2":
      return `v4l2:${s.device}`;
    case "pipe":
      return `pipe:${s.command}`;
    default:
      return s.kind;
  }
}

/** A comma-separated list (or YAML list) of IPv4/IPv6 addresses. */
export const ipList: Parser<string[]> = (raw) =>
  listItems(raw).map((item) => {
    const address = text(item);
    if (isIP(address) === 0) throw new ValueError(`"${address}" is not an IPv4 or IPv6 address`);
    return address;
  });

/** A comma-separated list (or YAML list) of web origins: scheme://host[:port], nothing more. */
export const originList: Parser<string[]> = (raw) =>
  listItems(raw).map((item) => {
    const origin = text(item);
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ValueError(`"${origin}" is not an origin such as https://cams.example.net`);
    }
    if (!["http:", "https:"].includes(url.protocol) || url.origin !== origin) {
      throw new ValueError(
        `"${origin}" is not an origin: write scheme://host[:port] with no path, e.g. ${url.origin}`,
      );
    }
    return origin;
  });

export const brokerUrl: Parser<string> = (raw) => {
  const s = text(raw);
  if (s === "embedded") return s;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new ValueError(
      `must be "embedded" or a mqtt://, mqtts://, ws:// or wss:// URL; got "${s}"`,
    );
  }
  if (!["mqtt:", "mqtts:", "ws:", "wss:"].includes(url.protocol)) {
    throw new ValueError(`unsupported scheme "${url.protocol}" (use mqtt, mqtts, ws or wss)`);
  }
  return s;
};

export interface IceServer {
  urls: string;
  username?: string;
  credential?: string;
}

/** Items of a comma-separated string, or of a YAML list. */
function listItems(raw: unknown): unknown[] {
  if (Array.isArray(raw)) return raw;
  return text(raw)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A comma-separated list of stun:/turn:/turns: URLs, or (YAML) a list of objects. */
export const iceServers: Parser<IceServer[]> = (raw) =>
  listItems(raw).map((item) => {
    const entry: IceServer =
      typeof item === "object" && item !== null
        ? {
            urls: text((item as Record<string, unknown>).urls),
            ...optionalText(item as Record<string, unknown>, "username"),
            ...optionalText(item as Record<string, unknown>, "credential"),
          }
        : { urls: text(item) };
    if (!/^(stun|turn|turns):[^\s]+$/.test(entry.urls)) {
      throw new ValueError(`ICE server must be a stun:, turn: or turns: URL, got "${entry.urls}"`);
    }
    return entry;
  });

function optionalText(obj: Record<string, unknown>, key: string): Record<string, string> {
  return obj[key] === undefined ? {} : { [key]: text(obj[key]) };
}

/**
 * Origins allowed to call WHEP from a browser (comma-separated or a YAML
 * list): each `scheme://host[:port]` as browsers send it in Origin, or "*"
 * for any.
 */
export const corsOriginList: Parser<string[]> = (raw) =>
  listItems(raw).flatMap((item) => (text(item) === "*" ? ["*"] : originList(text(item))));

/** An http(s) URL, or empty for "off". */
export const optionalHttpUrl: Parser<string> = (raw) => {
  const s = text(raw);
  if (s === "") return s;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new ValueError(`must be an http:// or https:// URL; got "${s}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ValueError(`unsupported scheme "${url.protocol}" (use http or https)`);
  }
  return s;
};
/** A range of kbit/s, "MIN-MAX" (e.g. "300-4000"); empty: none. */
export interface KbpsRange {
  min: number;
  max: number;
}

export const kbpsRange: Parser<KbpsRange | null> = (raw) => {
  const s = text(raw);
  if (s === "") return null;
  const m = /^(\d{2,6})-(\d{2,6})$/.exec(s);
  if (!m) throw new ValueError(`expected MIN-MAX in kbit/s such as 300-4000, got "${s}"`);
  const min = Number(m[1]);
  const max = Number(m[2]);
  if (min < 100 || max > 50_000 || min > max) {
    throw new ValueError(`must be within 100-50000 with MIN <= MAX, got "${s}"`);
  }
  return { min, max };
};

export const formatKbpsRange = (r: KbpsRange | null): string => (r ? `${r.min}-${r.max}` : "");

/** A comma-separated list (or YAML list) of WxH sizes. */
export const sizeList: Parser<Size[]> = (raw) => listItems(raw).map((item) => size(item));

export const formatSizeList = (sizes: Size[]): string => sizes.map(formatSize).join(",");

/** A comma-separated list (or YAML list) of ids, or "*" for every one. */
export const idList: Parser<string[]> = (raw) =>
  listItems(raw).map((item) => {
    const s = text(item);
    return s === "*" ? s : id(s);
  });

export const formatIdList = (ids: string[]): string => ids.join(",");
