/**
 * A call whose encoder follows a viewer behind a policer, on the virtual
 * board: its camera and encoder (a V4l2Source through the addon under a
 * SupervisedSource and its watchdog, as source-factory.ts makes for `camgw
 * run --source sim`), a SessionManager with a `degradation` mode, and a
 * HeadlessViewer "capped" in the same process whose link passes ~40
 * packets/s (as encoder-follows.test.ts) until the cap lifts. The process
 * must run preloaded (firmware-sim's library: degradation.e2e.test.ts
 * starts it with simEnv), so it is a program: it prints one JSON line,
 * DegradationCallResult.
 *
 * What it records is on the camera's clock, not this machine's: the
 * capture times of the frames the encoder made (a frame-rate step drops
 * camera frames before the encoder, so the gaps between the ones encoded
 * grow), and the size each came at.
 */
import type { AccessUnit } from "../../media/access-unit.js";
import type { H264Source } from "../../media/source.js";
import { SupervisedSource } from "../../media/supervised-source.js";
import { V4l2Source } from "../../media/v4l2-source.js";
import { SessionManager } from "../session-manager.js";
import type { DegradationMode } from "../send/degradation-policy.js";
import type { WireHeader } from "../werift/rtp-send.js";
import { LOOPBACK, connectViewer, waitFor } from "./harness.js";
import { packetPolicer } from "./packet-policer.js";

export interface DegradationCallArgs {
  mode: DegradationMode;
  /** The configured bitrate, kbit/s (the most the encoder is asked for). */
  maxKbps: number;
  width: number;
  height: number;
}

/** What the encoder made over a run of frames: mean gap between capture times, the sizes. */
export interface EncodedWindow {
  /** Frames a second the policy asked for (SessionManager stats) at the window's end. */
  encoderFps: number;
  meanGapMs: number;
  frames: number;
  sizes: string[];
}

export interface DegradationCallResult {
  before: EncodedWindow;
  /** While capped, once the policy had stepped; null when it never did. */
  capped: EncodedWindow | null;
  /** After the cap lifted, once the policy was back at full quality; null when it never was. */
  lifted: EncodedWindow | null;
  /** The gateway's log lines about steps (info and warn). */
  log: string[];
  /** The supervisor's restarts: a watchdog that took a lower frame rate for a stall would count here. */
  restarts: { encoder: number; stall: number; outages: number };
  /** Every 500 ms: seconds since the viewer connected, the encoder's target and frame rate, whether capped. */
  timeline: { s: number; kbps: number; fps: number; capped: boolean }[];
}

/** The next `n` frames the source gives, as a window. */
async function window(
  source: H264Source,
  manager: SessionManager,
  n: number,
): Promise<EncodedWindow> {
  const times: number[] = [];
  const sizes = new Set<string>();
  await new Promise<void>((done) => {
    const onFrame = (au: AccessUnit): void => {
      times.push(au.captureTimeUs);
      sizes.add(`${au.width}x${au.height}`);
      if (times.length < n) return;
      source.off("frame", onFrame);
      done();
    };
    source.on("frame", onFrame);
  });
  const first = times[0] ?? 0;
  const last = times[times.length - 1] ?? 0;
  return {
    encoderFps: manager.stats.encoderFps,
    meanGapMs: (last - first) / 1000 / Math.max(1, times.length - 1),
    frames: times.length,
    sizes: [...sizes],
  };
}

export async function degradationCall(args: DegradationCallArgs): Promise<DegradationCallResult> {
  const options = {
    device: "/dev/video0",
    width: args.width,
    height: args.height,
    fps: 30,
    bitrateKbps: args.maxKbps,
  };
  const initial = V4l2Source.open(options);
  const source = new SupervisedSource({
    name: initial.name,
    info: initial.info,
    initial,
    open: () => V4l2Source.open(options),
    resizable: true,
    devicePath: options.device,
  });
  const log: string[] = [];
  let cap = true;
  const capped = packetPolicer(40, 10);
  const manager = new SessionManager({
    streams: { main: source },
    ice: LOOPBACK,
    answerTimeoutMs: 10_000,
    encoderBitrate: { minKbps: 150, maxKbps: args.maxKbps },
    degradation: args.mode,
    lowEncoding: false,
    dropOnWire: (viewerId: string, _header: WireHeader) => cap && viewerId === "capped" && capped(),
    info: (m) => log.push(m),
    warn: (m) => log.push(m),
  });
  const full = (): boolean => {
    const { width, height } = source.info;
    return manager.stats.encoderFps === 30 && width === args.width && height === args.height;
  };
  const c = await connectViewer(manager, "capped", "s1");
  const timeline: DegradationCallResult["timeline"] = [];
  const t0 = performance.now();
  const sampler = setInterval(() => {
    const st = manager.stats;
    timeline.push({
      s: Math.round((performance.now() - t0) / 100) / 10,
      kbps: st.encoderTargetKbps,
      fps: st.encoderFps,
      capped: cap,
    });
  }, 500);
  try {
    const before = await window(source, manager, 30);
    let cappedWindow: EncodedWindow | null = null;
    let lifted: EncodedWindow | null = null;
    try {
      await waitFor(() => !full(), 60_000, 50);
      cappedWindow = await window(source, manager, 30);
    } catch {
      // Never stepped: reported as null.
    }
    cap = false;
    if (cappedWindow) {
      try {
        await waitFor(full, 90_000, 50);
        lifted = await window(source, manager, 30);
      } catch {
        // Never back: reported as null.
      }
    }
    const st = source.stats();
    const restarts = {
      encoder: st.encoderRestarts ?? 0,
      stall: st.stallRestarts ?? 0,
      outages: st.outages ?? 0,
    };
    return { before, capped: cappedWindow, lifted, log, timeline, restarts };
  } finally {
    clearInterval(sampler);
    await c.viewer.close();
    await manager.close();
    await source.close();
  }
}

const argv = process.argv[2];
if (argv !== undefined && process.argv[1]?.endsWith("degradation-call.js") === true) {
  degradationCall(JSON.parse(argv) as DegradationCallArgs).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
