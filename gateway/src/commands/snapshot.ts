/**
 * `camgw snapshot`: fetches `GET /api/snapshot.jpg` from a gateway with a
 * viewer's token and writes the JPEG (docs/snapshots.md). The token comes
 * from --token, $CAMGW_TOKEN (kept out of the process list) or a pairing
 * link, which also names the gateway.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { parsePairing } from "../auth/pairing-link.js";
import { parseOrExplain } from "../cli-args.js";
import { integer, ValueError } from "../config-schema.js";
import { CamgwError, ConfigError, SnapshotError } from "../errors.js";
import { SNAPSHOT_PATH } from "../snapshot/snapshot-route.js";

export const SNAPSHOT_USAGE = `Usage: camgw snapshot [options]

Fetches a JPEG of the camera's current picture from a gateway (GET
${SNAPSHOT_PATH}) and writes it to a file. The gateway starts the camera
for it when nobody watches.

  --url URL        the gateway's page (default http://127.0.0.1:8080/; a
                   pairing link's own address when --pair is given)
  --token T        a viewer's token (camgw viewer add --json: "token"); or
                   set CAMGW_TOKEN, which other users cannot see in ps
  --pair LINK      take the token (and the address) from a pairing link
  --width N        scale to N pixels wide (16 .. the camera's width)
  --out FILE       where to write it (default snapshot.jpg; - for stdout)
  --ca FILE        CA certificate for https (PEM)   --insecure   accept any certificate
  --timeout S      give up after S seconds (default 15)
`;

interface Fetched {
  status: number;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** `camgw snapshot ...` */
export async function snapshotCommand(argv: string[]): Promise<number> {
  const { values } = parseOrExplain(
    {
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        url: { type: "string" },
        token: { type: "string" },
        pair: { type: "string" },
        width: { type: "string" },
        out: { type: "string" },
        ca: { type: "string" },
        insecure: { type: "boolean" },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    },
    "snapshot",
  );
  if (values.help) {
    process.stdout.write(SNAPSHOT_USAGE);
    return 0;
  }
  let token = values.token ?? process.env.CAMGW_TOKEN;
  let base = values.url;
  if (values.pair !== undefined) {
    const paired = parsePairing(values.pair);
    if (!paired) {
      throw new ConfigError(
        "camgw snapshot --pair: not a pairing link (https://host:port/#pair=NAME.PASSWORD.TOKEN)",
      );
    }
    token ??= paired.token;
    if (base === undefined && /^https?:\/\//.test(values.pair)) base = values.pair;
  }
  if (token === undefined || token === "") {
    throw new ConfigError(
      "camgw snapshot needs a viewer's token: --token, CAMGW_TOKEN or --pair (camgw viewer add)",
    );
  }
  let url: URL;
  try {
    url = new URL(SNAPSHOT_PATH, base ?? "http://127.0.0.1:8080/");
  } catch {
    throw new ConfigError(`--url: not a URL: ${JSON.stringify(base)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`--url must be http:// or https://, got ${url.protocol}`);
  }
  if (values.width !== undefined) {
    url.searchParams.set("width", String(check("--width", () => integer(16, 16384)(values.width))));
  }
  const timeoutMs = check("--timeout", () => integer(1, 3600)(values.timeout ?? "15")) * 1000;
  const ca = values.ca === undefined ? undefined : readCa(values.ca);
  const res = await fetchSnapshot(url, token, {
    ca,
    insecure: values.insecure === true,
    timeoutMs,
  });
  if (res.status !== 200) {
    throw new SnapshotError(
      codeFor(res.status),
      `${url.origin} answered ${res.status}: ${problemTitle(res.body)}`,
      { status: res.status },
    );
  }
  const out = values.out ?? "snapshot.jpg";
  if (out === "-") process.stdout.write(res.body);
  else await writeFile(out, res.body);
  const age = res.headers["x-camgw-frame-age-ms"];
  process.stderr.write(
    `camgw snapshot: ${out === "-" ? "wrote" : `wrote ${out}:`} ${res.body.length} bytes of JPEG${
      typeof age === "string" ? `, the frame ${age} ms old` : ""
    }\n`,
  );
  return 0;
}

function fetchSnapshot(
  url: URL,
  token: string,
  tls: { ca: string | undefined; insecure: boolean; timeoutMs: number },
): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const options = {
      method: "GET",
      headers: { Authorization: `Bearer ${token}`, Accept: "image/jpeg" },
      timeout: tls.timeoutMs,
      ...(url.protocol === "https:"
        ? { ...(tls.ca === undefined ? {} : { ca: tls.ca }), rejectUnauthorized: !tls.insecure }
        : {}),
    };
    const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${tls.timeoutMs} ms`)));
    req.on("error", (err) =>
      reject(
        new CamgwError("unreachable", `cannot fetch ${url.origin}${SNAPSHOT_PATH}: ${err.message}`),
      ),
    );
    req.end();
  });
}

/** What an HTTP status from the snapshot route means (snapshot-route.ts). */
function codeFor(status: number): SnapshotError["code"] {
  if (status === 400) return "bad-request";
  if (status === 501) return "unsupported";
  if (status === 429) return "busy";
  return "unavailable";
}

/** The `title` of an RFC 9457 problem body, or the body as text. */
function problemTitle(body: Buffer): string {
  const text = body.toString("utf8");
  try {
    const parsed = JSON.parse(text) as { title?: unknown };
    if (typeof parsed.title === "string") return parsed.title;
  } catch {
    // Not JSON: say what came.
  }
  return text.slice(0, 200);
}

function readCa(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`--ca ${path}: ${(err as Error).message}`);
  }
}

function check<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ValueError) throw new ConfigError(`${flag}: ${err.message}`);
    throw err;
  }
}
