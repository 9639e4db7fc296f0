import { readFileSync } from "node:fs";
import { readStamp } from "../media/frame-stamp.js";
import { DEFAULT_STREAM } from "../signaling/message-types.js";
import { connectNoDelay } from "../signaling/mqtt-connection.js";
import { ViewerClient } from "../signaling/viewer-client.js";
import type { IceServer } from "../webrtc/ice-config.js";
import {
  describePair,
  type ReceivedFrame,
  type SelectedPair,
} from "../webrtc/receive/headless-viewer.js";
import { FrameDecoder } from "./h264-decoder.js";
import { RecoveringViewer, type ProbeEvent, type Recovery } from "./recovering-viewer.js";
import { countFreezes, percentile, round } from "./stats.js";

export type { ProbeEvent, Recovery } from "./recovering-viewer.js";

export interface ProbeOptions {
  broker: string;
  deviceId: string;
  prefix?: string;
  stream?: string;
  username?: string;
  password?: string;
  caFile?: string;
  insecure?: boolean;
  /** How long to watch after the call starts. */
  seconds: number;
  /** Decode pictures (time to first decoded frame, glass-to-glass); off: count frames only. */
  decode?: boolean;
  /** Stop as soon as the first frame is decoded (benches). */
  untilFirstFrame?: boolean;
  /** Stop once this many frames have arrived (decoded, with decoding on). */
  untilFrames?: number;
  /** How long to wait for the device's answer. */
  answerTimeoutMs?: number;
  /** Local addresses to offer as ICE host candidates (default: every non-loopback interface). */
  hostAddresses?: readonly string[];
  /**
   * STUN/TURN servers to use instead of the ones the device gives (default:
   * the device's, docs/signaling.md "ICE servers").
   */
  iceServers?: readonly IceServer[];
  /** Recover a call that played, as a browser app does (default true). */
  recover?: boolean;
  /** Each event as it happens (`camgw probe --events`). */
  onEvent?: (event: ProbeEvent & { at: number }) => void;
}

export interface ProbeReport {
  deviceId: string;
  /** This viewer's id in signaling (the device's log names it). */
  viewerId: string;
  /** True when at least one frame arrived (decoded, with decoding on). */
  video: boolean;
  /** Offer published -> answer received. */
  answerMs: number | null;
  /** Offer published -> first frame decoded (or received, without decoding). */
  timeToFirstFrameMs: number | null;
  frames: number;
  fps: number;
  bitrateKbps: number;
  packetsReceived: number;
  packetsLost: number;
  keyFrames: number;
  freezes: number;
  width: number | null;
  height: number | null;
  decodeErrors: number;
  /** Capture (frame stamp) -> decoded here, ms; null when frames carry no stamp. */
  glassToGlassMs: { p50: number; p95: number; max: number; samples: number } | null;
  /** Why the call ended early, if it did (the device's bye reason, an error code). */
  ended: string | null;
  /** Offer published -> the call ended early, ms (null when it did not). */
  endedAfterMs: number | null;
  /** The ICE candidate pair the media came through at the end (null: none was nominated). */
  candidatePair: SelectedPair | null;
  /** Where the ICE servers of the first offer came from. */
  iceServers: "given" | "cached" | "from-device" | "none";
  /** Outages the viewer came back from (ICE restart or new session), in order. */
  recoveries: Recovery[];
}

const nowUs = (): number => Math.round((performance.timeOrigin + performance.now()) * 1000);

/**
 * A headless viewer: signals like a browser over MQTT, receives the stream
 * with werift, decodes it, measures what a person would see, and recovers
 * from outages as a browser app would (recovering-viewer.ts).
 */
export async function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  const client = new ViewerClient({
    url: options.broker,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
    answerTimeoutMs: options.answerTimeoutMs ?? 10_000,
    // Nagle off, as on the device: it would hold small signaling messages ~40 ms.
    connect: connectNoDelay,
    mqttOptions: {
      ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
      ...(options.insecure ? { rejectUnauthorized: false } : {}),
      // A broker that comes back is found again within a second.
      reconnectPeriod: 1000,
    },
  });
  const viewer = new RecoveringViewer({
    client,
    deviceId: options.deviceId,
    stream: options.stream ?? DEFAULT_STREAM,
    ...(options.hostAddresses?.length ? { hostAddresses: options.hostAddresses } : {}),
    ...(options.iceServers?.length ? { iceServers: options.iceServers } : {}),
    recover: options.recover ?? true,
  });
  const decoder = options.decode === false ? null : new FrameDecoder();
  const frameTimesMs: number[] = [];
  const latenciesMs: number[] = [];
  // Written from callbacks, so kept in an object rather than narrowed locals.
  const seen: {
    offerUs: number | null;
    firstFrameUs: number | null;
    answerUs: number | null;
    endedUs: number | null;
    width: number | null;
    height: number | null;
    ended: string | null;
    iceServers: ProbeReport["iceServers"];
  } = {
    offerUs: null,
    firstFrameUs: null,
    answerUs: null,
    endedUs: null,
    width: null,
    height: null,
    ended: null,
    iceServers: "none",
  };
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const onFrame = (frame: ReceivedFrame): void => {
    let decodedAtUs = frame.receivedAtUs;
    if (decoder) {
      const picture = decoder.decode(frame.data);
      if (!picture) return;
      decodedAtUs = nowUs();
      seen.width = picture.width;
      seen.height = picture.height;
      const stampUs = readStamp({
        data: picture.luma,
        width: picture.width,
        height: picture.height,
      });
      if (stampUs !== null) latenciesMs.push((decodedAtUs - Number(stampUs)) / 1000);
    }
    seen.firstFrameUs ??= decodedAtUs;
    frameTimesMs.push(decodedAtUs / 1000);
    if (options.untilFirstFrame) finish();
    if (options.untilFrames !== undefined && frameTimesMs.length >= options.untilFrames) finish();
  };

  viewer.on("frame", onFrame);
  viewer.on("event", (event) => {
    if (event.event === "offer" && seen.offerUs === null) {
      seen.offerUs = nowUs();
      seen.iceServers = event.iceServers;
    }
    if (event.event === "answer") seen.answerUs ??= nowUs();
    options.onEvent?.(event);
  });
  viewer.on("ended", (reason) => {
    seen.ended = reason;
    seen.endedUs = nowUs();
    finish();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await client.waitConnected();
    viewer.start();
    timer = setTimeout(finish, options.seconds * 1000);
    await done;
  } catch (err) {
    seen.ended = (err as Error).message;
    seen.endedUs = nowUs();
  } finally {
    clearTimeout(timer);
    await viewer.close();
    await client.close();
  }

  const offerUs = seen.offerUs ?? nowUs();
  const stats = viewer.stats;
  const spanS =
    frameTimesMs.length > 1 ? ((frameTimesMs.at(-1) ?? 0) - (frameTimesMs[0] ?? 0)) / 1000 : 0;
  const receiveSpanS = Math.max(0.001, (nowUs() - (seen.answerUs ?? offerUs)) / 1e6);
  const since = (us: number | null): number | null =>
    us === null ? null : round((us - offerUs) / 1000);
  return {
    deviceId: options.deviceId,
    viewerId: client.viewerId,
    video: frameTimesMs.length > 0,
    answerMs: since(seen.answerUs),
    timeToFirstFrameMs: since(seen.firstFrameUs),
    frames: frameTimesMs.length,
    fps: spanS > 0 ? round((frameTimesMs.length - 1) / spanS) : 0,
    bitrateKbps: round((stats.bytesReceived * 8) / 1000 / receiveSpanS),
    packetsReceived: stats.packetsReceived,
    packetsLost: stats.packetsLost,
    keyFrames: stats.keyFrames,
    freezes: countFreezes(frameTimesMs),
    width: seen.width,
    height: seen.height,
    decodeErrors: decoder?.errors ?? 0,
    glassToGlassMs:
      latenciesMs.length === 0
        ? null
        : {
            p50: round(percentile(latenciesMs, 50)),
            p95: round(percentile(latenciesMs, 95)),
            max: round(Math.max(...latenciesMs)),
            samples: latenciesMs.length,
          },
    ended: seen.ended,
    endedAfterMs: since(seen.endedUs),
    candidatePair: viewer.selectedPair,
    iceServers: seen.iceServers,
    recoveries: viewer.recoveries,
  };
}

/** The report as lines for a person. */
export function formatReport(r: ProbeReport): string {
  const lines = [
    `camgw probe: ${r.deviceId}: ${r.video ? "video received" : "NO VIDEO"}${r.ended ? ` (${r.ended})` : ""}`,
    `  answer              ${r.answerMs ?? "-"} ms`,
    `  first frame         ${r.timeToFirstFrameMs ?? "-"} ms after the offer`,
    `  frames              ${r.frames} (${r.fps} fps, ${r.freezes} freezes)`,
    `  size                ${r.width ?? "?"}x${r.height ?? "?"}`,
    `  bitrate             ${r.bitrateKbps} kbit/s`,
    `  packets             ${r.packetsReceived} received, ${r.packetsLost} lost`,
    `  key frames          ${r.keyFrames}`,
  ];
  if (r.glassToGlassMs) {
    const g = r.glassToGlassMs;
    lines.push(
      `  glass-to-glass      p50 ${g.p50} ms, p95 ${g.p95} ms, max ${g.max} ms (${g.samples} stamped frames)`,
    );
  } else {
    lines.push("  glass-to-glass      - (frames carry no stamp)");
  }
  if (r.candidatePair) lines.push(`  ICE pair            ${describePair(r.candidatePair)}`);
  lines.push(`  ICE servers         ${r.iceServers}`);
  for (const x of r.recoveries) {
    lines.push(
      `  recovered           ${x.trigger}: video back after ${x.gapMs} ms (${x.method}, ${x.attempts} attempt${x.attempts === 1 ? "" : "s"})`,
    );
  }
  if (r.decodeErrors) lines.push(`  decode errors       ${r.decodeErrors}`);
  return lines.join("\n") + "\n";
}
