import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import wrtc from "@roamhq/wrtc";
import { runProbe } from "./probe/probe.js";
import {
  CAMGW_BIN,
  getJson,
  probeLogin,
  startGateway,
  type GatewayProcess,
} from "./testing/gateway-process.js";
import { ViewerClient } from "./signaling/viewer-client.js";

/**
 * The product as a user runs it: `camgw run --source sim` on the virtual
 * board (camera + M2M encoder), the embedded broker, and viewers that
 * signal over MQTT and receive real H.264 over WebRTC.
 */
describe("camgw run on the virtual board", () => {
  let gw: GatewayProcess;

  beforeAll(async () => {
    gw = await startGateway({
      args: ["--device-id", "porch", "--name", "Porch", "--max-viewers", "2"],
    });
  });

  afterAll(async () => {
    await gw.stop();
  });

  it("says at start-up which encoder it picked and where the broker's WebSocket is", () => {
    // The virtual board has a bcm2835-codec-like M2M encoder, which auto prefers.
    expect(gw.output()).toMatch(/^camgw: encoder: hardware \(V4L2 M2M \/dev\/video\d+\)$/m);
    expect(gw.output()).toMatch(/\(WebSocket at ws:\/\/127\.0\.0\.1:\d+\/mqtt\)/);
  });

  it("reports healthy and publishes a retained online status", async () => {
    // The MQTT link connects just after the start-up lines are printed: for
    // a moment /healthz rightly says signaling is "connecting".
    let health = await getJson(`${gw.httpUrl}healthz`);
    for (const end = Date.now() + 10_000; health.status !== 200 && Date.now() < end;) {
      await sleep(50);
      health = await getJson(`${gw.httpUrl}healthz`);
    }
    expect(health.status).toBe(200);
    const client = new ViewerClient({ url: gw.mqttUrl ?? "", ...gw.owner });
    try {
      await client.waitConnected();
      await waitFor(() => client.devices.get("porch")?.online === true);
      expect(client.devices.get("porch")).toMatchObject({
        name: "Porch",
        streams: [{ id: "main", codec: "H264", width: 1280, height: 720, fps: 30 }],
      });
    } finally {
      await client.close();
    }
  });

  it("streams stamped 1280x720 video that a probe decodes, with glass-to-glass latency", async () => {
    const report = await runProbe({ ...probeLogin(gw), deviceId: "porch", seconds: 3 });
    expect(report.ended).toBeNull();
    expect(report.video).toBe(true);
    expect(report.width).toBe(1280);
    expect(report.height).toBe(720);
    expect(report.frames).toBeGreaterThan(30);
    expect(report.keyFrames).toBeGreaterThanOrEqual(1);
    expect(report.glassToGlassMs?.samples).toBeGreaterThan(30);
    // Every decoded frame carried a valid stamp: the capture time survived
    // the virtual camera, the M2M encoder, RTP and the decoder.
    expect(report.glassToGlassMs?.samples).toBe(report.frames);
    // The capture time also travels with each frame (abs-capture-time): the
    // latency for cameras that draw no stamp, the clocks aligned by sender
    // reports (werift sends the first 0.5-1.5 s into the call).
    expect(report.captureToFrameMs?.samples).toBeGreaterThan(0);
    expect(report.captureToFrameMs?.p50).toBeGreaterThan(0);
    expect(report.captureToFrameMs?.p50).toBeLessThan(1000);
  });

  it("answers a libwebrtc peer, which has no H.264, with unsupported and stays healthy", async () => {
    const pc = new wrtc.RTCPeerConnection();
    pc.addTransceiver("video", { direction: "recvonly" });
    const offer = await pc.createOffer();
    const client = new ViewerClient({ url: gw.mqttUrl ?? "", ...gw.owner });
    try {
      await client.waitConnected();
      const call = client.call("porch", { sdp: offer.sdp ?? "" });
      await expect(call.answer).rejects.toMatchObject({ code: "unsupported" });
    } finally {
      pc.close();
      await client.close();
    }
    expect((await getJson(`${gw.httpUrl}healthz`)).status).toBe(200);
    const report = await runProbe({
      ...probeLogin(gw),
      deviceId: "porch",
      seconds: 1,
      decode: false,
    });
    expect(report.video).toBe(true);
  });

  it("answers busy over the viewer limit while the others keep streaming", async () => {
    // Three accounts: a viewer's own cap (2 sessions) is not what this is about.
    const [a, b, c] = await Promise.all(["kitchen", "hall", "attic"].map((n) => gw.addViewer(n)));
    const first = runProbe({ ...probeLogin(gw, a), deviceId: "porch", seconds: 4, decode: false });
    const second = runProbe({ ...probeLogin(gw, b), deviceId: "porch", seconds: 4, decode: false });
    await sleep(1000);
    const third = await runProbe({
      ...probeLogin(gw, c),
      deviceId: "porch",
      seconds: 1,
      decode: false,
    });
    expect(third.video).toBe(false);
    expect(third.ended).toMatch(/busy/);
    const [one, two] = await Promise.all([first, second]);
    expect(one.video && two.video).toBe(true);
    expect(one.freezes + two.freezes).toBe(0);
  });

  it("replies to malformed messages per the spec and keeps a live session undisturbed", async () => {
    const watching = runProbe({ ...probeLogin(gw), deviceId: "porch", seconds: 4, decode: false });
    const mallory = await gw.addViewer("mallory");
    const raw = await mqtt.connectAsync(gw.mqttUrl ?? "", {
      username: mallory.username,
      password: mallory.password,
      clientId: "mallory.raw",
    });
    const replies: Record<string, unknown>[] = [];
    await raw.subscribeAsync("camgw/porch/tx/mallory", { qos: 1 });
    raw.on("message", (_t, payload) =>
      replies.push(JSON.parse(payload.toString()) as Record<string, unknown>),
    );
    const send = (payload: string | Buffer): Promise<unknown> =>
      raw.publishAsync("camgw/porch/rx/mallory", payload, { qos: 1 });
    await send("{not json");
    await send(Buffer.alloc(65_537, 0x20));
    await send(JSON.stringify({ v: 2, type: "offer", session: "s1", sdp: "x" }));
    await send(JSON.stringify({ v: 1, type: "offer", session: "bad id!", sdp: "x" }));
    await send(JSON.stringify({ v: 1, type: "offer", session: "s2", sdp: "not sdp" }));
    await send(JSON.stringify({ v: 1, type: "candidate", session: "nope", candidate: null }));
    await send(JSON.stringify({ v: 1, type: "future-type", session: "s3" }));
    await send(JSON.stringify({ v: 1, type: "bye", session: "nope" }));
    await waitFor(() => replies.length >= 6);
    await sleep(300);
    expect(replies.map((r) => [r.type, r.code, r.session])).toEqual([
      ["error", "bad-request", undefined],
      ["error", "bad-request", undefined],
      ["error", "bad-request", "s1"],
      ["error", "bad-request", undefined],
      ["error", "bad-request", "s2"],
      ["error", "not-found", "nope"],
    ]);
    await raw.endAsync();
    const report = await watching;
    expect(report.ended).toBeNull();
    expect(report.video).toBe(true);
    expect(report.ended).toBeNull();
    expect((await getJson(`${gw.httpUrl}healthz`)).status).toBe(200);
  });

  it("counts sessions and packets in /metrics (open on loopback)", async () => {
    const metrics = await getJson(`${gw.httpUrl}metrics`);
    expect(metrics.status).toBe(200);
    const body = String(metrics.body);
    expect(body).toMatch(/^camgw_sessions_created_total [1-9]/m);
    expect(body).toMatch(/^camgw_packets_sent_total [1-9]/m);
    expect(body).toMatch(/^camgw_signaling_error_replies_total\{code="bad-request"\} [1-9]/m);
    // The counters docs/signaling.md promises, under their own names.
    expect(body).toMatch(/^camgw_signaling_overflowed_total 0$/m);
    expect(body).toMatch(/^camgw_signaling_host_errors_total 0$/m);
    expect(body).toMatch(/^camgw_signaling_connected 1$/m);
    // The virtual board's camera reports its pipeline through the source's stats().
    expect(body).toMatch(/^camgw_source_frames_captured_total [1-9]/m);
    // The video senders' repair and congestion counters (docs/congestion.md).
    expect(body).toMatch(/^camgw_video_rtx_sent_total \d+$/m);
    expect(body).toMatch(/^camgw_video_repairs_over_budget_total \d+$/m);
    // The process itself (process-stats.ts), which `make soak` watches.
    expect(body).toMatch(/^camgw_process_resident_bytes [1-9]\d*$/m);
    expect(body).toMatch(/^camgw_process_open_fds [1-9]\d*$/m);
    expect(body).toMatch(/^camgw_process_threads [1-9]\d*$/m);
    expect(body).toMatch(/^camgw_process_event_loop_lag_p99_seconds [\d.e-]+$/m);
    expect(body).toMatch(/^camgw_process_active_resources\{type="Timeout"\} [1-9]\d*$/m);
  });

  it("says bye (shutdown) to viewers and publishes offline on SIGTERM", async () => {
    const other = await startGateway({ args: ["--device-id", "garage"] });
    const client = new ViewerClient({ url: other.mqttUrl ?? "", ...other.owner });
    await client.waitConnected();
    await waitFor(() => client.devices.get("garage")?.online === true);
    let playing = false;
    const report = runProbe({
      ...probeLogin(other),
      deviceId: "garage",
      seconds: 30,
      decode: false,
      onEvent: (e) => {
        if (e.event === "playing") playing = true;
      },
    });
    // Stop once the probe has a whole frame: its login and ICE take a while on
    // a busy machine, and a packet sent (what this waited for) is not yet a
    // frame received (2 of 2 runs failed on a loaded machine).
    await waitFor(() => playing, 30_000);
    // The embedded broker goes down with the gateway, so watch the bye on the probe.
    expect(await other.stop()).toBe(0);
    const r = await report;
    expect(r.video).toBe(true);
    expect(r.ended).toMatch(/shutdown|closed/);
    await client.close();
  });
});

describe("camgw run with its broker down", () => {
  it("says so once, keeps serving, and on Ctrl-C exits at once without another attempt", async () => {
    const port = await closedPort();
    const gw = await startGateway({
      args: ["--broker", `mqtt://127.0.0.1:${port}`, "--log-level", "debug"],
    });
    try {
      // Debug level shows every attempt; a person reads one warning.
      await waitFor(() => (gw.output().match(/attempt \d+ failed/g) ?? []).length >= 3);
      const health = await getJson(`${gw.httpUrl}healthz`);
      expect(health.status).toBe(503);
      expect(JSON.stringify(health.body)).toMatch(/ECONNREFUSED/);
      // The problem once; later lines (on a slow run) only as counted reminders.
      const warnings = gw.output().match(/camgw warn: .*/g) ?? [];
      expect(warnings[0]).toMatch(
        /signaling: MQTT broker mqtt:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED .*\(is the broker running, and is --broker right\?\); retrying in the background, next attempt in/,
      );
      for (const reminder of warnings.slice(1))
        expect(reminder).toMatch(/still no broker after \d+ failed attempts in/);
      const started = performance.now();
      const exited = once(gw.child, "exit");
      gw.child.kill("SIGINT");
      const [code] = (await exited) as [number | null];
      // Printed, not asserted (the machine is noisy): issue 13 asks for < 1 s.
      console.log(`camgw exited ${Math.round(performance.now() - started)} ms after SIGINT`);
      expect(code).toBe(0);
      const afterShutdown = gw.output().split("SIGINT: shutting down")[1] ?? "";
      expect(afterShutdown).not.toMatch(/attempt|retrying|still no broker/);
    } finally {
      await gw.stop();
    }
  });
});

describe("camgw run with bad input", () => {
  it.each([
    [["--fps", "fast"], /flag --fps: expected a whole number/],
    [["--source", "usb"], /flag --source: must be auto, sim, v4l2/],
    [["--frobnicate"], /^camgw run: unknown option --frobnicate \(see `camgw run --help`\)$/m],
    [["--sise", "1920x1080"], /unknown option --sise; did you mean --size\?/],
    [["--bitrate", "-5"], /flag --bitrate: must be between 100 and 50000, got -5/],
    [["--config", "/nonexistent.yaml"], /config file \/nonexistent.yaml: ENOENT/],
  ])("refuses %j with exit code 2 and a clear message", (args, message) => {
    const r = spawnSync(process.execPath, [CAMGW_BIN, "run", ...args], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it("reports a v4l2 device that does not exist, naming it and what to try instead", () => {
    const stateDir = mkdtempSync(join(tmpdir(), "camgw-state-"));
    const r = spawnSync(
      process.execPath,
      [
        CAMGW_BIN,
        "run",
        "--source",
        "v4l2:/dev/video99",
        ...["--http-port", "0", "--mqtt-port", "0", "--https-port", "0", "--mqtts-port", "0"],
        ...["--listen", "127.0.0.1", "--state-dir", stateDir],
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    rmSync(stateDir, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^camgw: no camera at \/dev\/video99 \(ENOENT .*\): `camgw devices` lists the cameras here; `--source sim`/m,
    );
  });

  it.each(["--http-port", "--mqtt-port"])(
    "names %s when that port is taken, in one line and with exit code 1",
    async (flag) => {
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
      const { port } = holder.address() as AddressInfo;
      const stateDir = mkdtempSync(join(tmpdir(), "camgw-state-"));
      const ports: Record<string, string> = {
        "--http-port": "0",
        "--mqtt-port": "0",
        "--https-port": "0",
        "--mqtts-port": "0",
        [flag]: String(port),
      };
      try {
        const r = await runCamgw([
          "run",
          "--source",
          "sim",
          ...Object.entries(ports).flat(),
          ...["--listen", "127.0.0.1", "--state-dir", stateDir],
        ]);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(
          new RegExp(
            `^camgw: port ${port} is already in use \\(another camgw running\\?.*choose another port with ${flag}$`,
            "m",
          ),
        );
        expect(r.stderr).not.toMatch(/\n\s+at /);
      } finally {
        holder.close();
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  );
});

/** camgw run to its end without blocking this process (a net.Server in it must keep answering). */
async function runCamgw(args: string[]): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CAMGW_BIN, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [status] = (await once(child, "exit")) as [number | null];
  return { status, stderr };
}

/** A TCP port on loopback where nothing listens: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(50);
  }
}
