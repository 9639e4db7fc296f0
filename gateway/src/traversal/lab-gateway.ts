/**
 * What the traversal tests read from a gateway running in the network lab:
 * its /metrics (fetched from inside the board's namespace, where it
 * listens) and what its log says about each viewer's path.
 */
import type { NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import type { GatewayProcess } from "../testing/gateway-process.js";

/** GET a path of the gateway's HTTP server from inside its namespace. */
export async function gatewayGet(
  lab: NetLab,
  gateway: GatewayProcess,
  path: string,
  site = "board",
): Promise<string> {
  const url = new URL(path, gateway.httpUrl).toString();
  const script = `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e)); process.exit(1); })`;
  const r = await lab.exec(site, process.execPath, ["-e", script]);
  if (r.code !== 0) throw new Error(`GET ${url} in ${site}: ${r.stderr}`);
  return r.stdout;
}

/** One unlabelled sample of /metrics (NaN when it is not there). */
export async function gatewayMetric(
  lab: NetLab,
  gateway: GatewayProcess,
  name: string,
): Promise<number> {
  const text = await gatewayGet(lab, gateway, "/metrics");
  const line = new RegExp(`^${name} ([0-9.eE+-]+)$`, "m").exec(text);
  return line ? Number(line[1]) : Number.NaN;
}

/**
 * The gateway's side of a viewer's session as its log says it
 * ("viewer V (session S) connected: relay(udp) a:p/udp -> prflx b:q/udp"),
 * the last one for that viewer, or null.
 */
export function gatewayPath(output: string, viewerId: string): string | null {
  const escaped = viewerId.replace(/[-]/g, "\\-");
  const lines = [
    ...output.matchAll(new RegExp(`viewer ${escaped} \\(session [^)]*\\) connected: (.*)$`, "gm")),
  ];
  return lines.at(-1)?.[1] ?? null;
}

/**
 * The gateway's live sessions once they are down to `want` (a viewer's bye
 * travels through the broker), or what they are after `timeoutMs`.
 */
export async function settledSessions(
  lab: NetLab,
  gateway: GatewayProcess,
  want = 0,
  timeoutMs = 10_000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const n = await gatewayMetric(lab, gateway, "camgw_sessions");
    if (n === want || performance.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Resolves once the gateway is connected to the lab's broker (and so has
 * published its online status); startGateway() resolves earlier, when its
 * HTTP server listens, which over a slow broker link is seconds before.
 */
export async function brokerConnected(
  lab: NetLab,
  gateway: GatewayProcess,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await gatewayMetric(lab, gateway, "camgw_signaling_connected")) !== 1) {
    if (performance.now() > deadline)
      throw new Error(`the gateway did not reach the broker:\n${gateway.output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Resolves once the gateway's log says viewers connected `count` times in all. */
export async function viewersConnected(
  gateway: GatewayProcess,
  count: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((gateway.output().match(/\) connected: /g) ?? []).length < count) {
    if (performance.now() > deadline)
      throw new Error(`${count} viewer(s) did not connect:\n${gateway.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
