import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accountAuthenticator } from "../auth/account-authenticator.js";
import { AccountStore, type NewViewer } from "../auth/account-store.js";
import { deviceCredential } from "../auth/device-credential.js";
import { ensureStateDir } from "../auth/state-dir.js";
import { runProbe } from "../probe/probe.js";
import { percentile, round } from "../probe/stats.js";
import { EmbeddedBroker } from "../signaling/broker.js";
import { LOOPBACK_PROBE, startGateway, type GatewayProcess } from "../testing/gateway-process.js";

/**
 * `make bench`, auth part (issue 10): what logging in costs a viewer's time
 * to first frame. Two gateways on the virtual board (640x480@30), each
 * behind a broker of the same code (EmbeddedBroker, in this process): one
 * with the embedded broker's login and topic rules (broker-auth.ts, the
 * accounts in the gateway's state directory), one open (no login, no
 * rules). Connects alternate between the two, in the same run, each from a
 * viewer account that never logged in before, so every login pays its
 * password hash (a reconnecting viewer's is cached, secret-hash.ts).
 *
 * Prints p50/p95 of MQTT connect -> first decoded frame (what the login
 * adds to), offer -> first decoded frame, and connect -> offer sent (the
 * part the login is in), with and without auth.
 * Figures only; nothing here passes or fails.
 */

interface Arm {
  name: string;
  gw: GatewayProcess;
  broker: EmbeddedBroker;
  url: string;
  store: AccountStore;
  stateDir: string;
  viewers: NewViewer[];
  /** Connect -> offer published (login, the device's status, the offer), -> first frame, offer -> first frame, ms. */
  connectToOffer: number[];
  connectToFrame: number[];
  offerToFrame: number[];
  failed: number;
}

const DEVICE_ARGS = ["--size", "640x480", "--fps", "30", "--bitrate", "1000"];

async function startArm(name: string, auth: boolean, viewers: number): Promise<Arm> {
  const deviceId = `bench-${name}`;
  const stateDir = await mkdtemp(join(tmpdir(), `camgw-auth-bench-${name}-`));
  await ensureStateDir(stateDir);
  // The device's secret first: the broker must know it before the gateway logs in with it.
  const device = await deviceCredential(stateDir, deviceId);
  const store = await AccountStore.open(stateDir);
  store.watch();
  const broker = await EmbeddedBroker.start({
    host: "127.0.0.1",
    port: 0,
    ...(auth ? { auth: accountAuthenticator({ prefix: "camgw", deviceId }, device, store) } : {}),
  });
  const url = `mqtt://127.0.0.1:${broker.port ?? 0}`;
  const gw = await startGateway({
    stateDir,
    args: ["--device-id", deviceId, "--broker", url, ...DEVICE_ARGS],
  });
  // Accounts for every connect, made before any is timed; the gateway (which
  // admits only known accounts, open broker or not) reads them from the file.
  const made: NewViewer[] = [];
  for (let i = 0; i < viewers; i++) made.push(await store.add(`${name}${i}`));
  await new Promise((r) => setTimeout(r, 500));
  return {
    name,
    gw,
    broker,
    url,
    store,
    stateDir,
    viewers: made,
    connectToOffer: [],
    connectToFrame: [],
    offerToFrame: [],
    failed: 0,
  };
}

async function connectOnce(arm: Arm, viewer: NewViewer): Promise<void> {
  const started = Date.now();
  const report = await runProbe({
    ...LOOPBACK_PROBE,
    broker: arm.url,
    username: viewer.username,
    password: viewer.password,
    deviceId: `bench-${arm.name}`,
    seconds: 5,
    untilFirstFrame: true,
  });
  if (report.timeToFirstFrameMs === null) {
    arm.failed++;
    return;
  }
  arm.connectToOffer.push(report.offerAt - started);
  arm.offerToFrame.push(report.timeToFirstFrameMs);
  arm.connectToFrame.push(report.offerAt - started + report.timeToFirstFrameMs);
}

async function stopArm(arm: Arm): Promise<void> {
  await arm.gw.stop();
  arm.store.close();
  await arm.broker.close();
  await rm(arm.stateDir, { recursive: true, force: true });
}

function line(label: string, samples: number[]): string {
  return `${label.padEnd(34)} p50 ${String(round(percentile(samples, 50))).padStart(6)} ms  p95 ${String(round(percentile(samples, 95))).padStart(6)} ms`;
}

export async function authBench(options: { connects?: number } = {}): Promise<void> {
  const n = options.connects ?? 15;
  const arms: Arm[] = [];
  try {
    arms.push(await startArm("auth", true, n));
    arms.push(await startArm("open", false, n));
    const [withAuth, without] = arms as [Arm, Arm];
    for (let i = 0; i < n; i++) {
      // Alternate which goes first, so neither always follows the other's teardown.
      const order = i % 2 === 0 ? [withAuth, without] : [without, withAuth];
      for (const arm of order) {
        await connectOnce(arm, arm.viewers[i] as NewViewer);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    console.log(
      `auth: ${n} connects each, alternating, virtual board 640x480@30, loopback; each a viewer's first login`,
    );
    for (const arm of [withAuth, without]) {
      const label =
        arm === withAuth ? "with auth (login + topic rules)" : "without auth (open broker)";
      console.log(`  ${label}${arm.failed ? `: ${arm.failed} got no video` : ""}`);
      console.log(`  ${line("  connect -> first decoded frame", arm.connectToFrame)}`);
      console.log(`  ${line("  offer -> first decoded frame", arm.offerToFrame)}`);
      console.log(`  ${line("  connect -> offer sent (login)", arm.connectToOffer)}`);
    }
    const cost = percentile(withAuth.connectToFrame, 50) - percentile(without.connectToFrame, 50);
    console.log(
      `  cost of auth on time to first frame (p50 difference, connect -> frame): ${round(cost)} ms`,
    );
  } finally {
    for (const arm of arms) await stopArm(arm);
  }
}
