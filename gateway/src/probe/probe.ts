import { readFileSync } from "node:fs";
import { readStamp } from "../media/frame-stamp.js";
import { DEFAULT_STREAM, type SourceState } from "../signaling/message-types.js";
import { connectNoDelay } from "../signaling/mqtt-connection.js";
import { ViewerClient } from "../signaling/viewer-client.js";
import type { IceServer } from "../webrtc/ice-config.js";
import {
  describePair,
  type ReceivedFrame,
  type SelectedPair,
} from "../webrtc/receive/headless-viewer.js";
import { ClockOffset } from "./clock-offset.js";
import { FrameDecoder } from "./h264-decoder.js";
import { RecoveringViewer, type ProbeEvent, type Recovery } from "./recovering-viewer.js";
import { findFreezes, longestGap, percentile, round } from "./stats.js";
import { ProbeTimeline, type ProbeSecond } from "./timeline.js";

export type { ProbeEvent, Recovery } from "./recovering-viewer.js";
export type { ProbeSecond } from "./timeline.js";

export interface ProbeOptions {
  broker: string;
  deviceId: string;
  prefix?: string;
  stream?: string;
  username?: string;
  password?: string;
  caFile?: string;
  insecure?: boolean;
  /** How long to watch after the device answered. */
  seconds: number;
  /** Decode pictures (time to first decoded frame, glass-to-glass); off: count frames only. */
  decode?: boolean;
  /** Stop as soon as the first frame is decoded (benches). */
  untilFirstFrame?: boolean;
  /** Stop once this many frames have arrived (decoded, with decoding on). */
  untilFrames?: number;
  /** Stop watching when this aborts, before `seconds` are up (tests that wait for an event). */
  signal?: AbortSignal;
  /** How long to wait for the device's answer. */
  answerTimeoutMs?: number;
  /** Local addresses to offer as ICE host candidates (default: every non-loopback interface). */
  hostAddresses?: readonly string[];
  /**
   * STUN/TURN servers to use instead of the ones the device gives (default:
   * the device's, docs/signaling.md "ICE servers"); an empty list: none,
   * and gathering starts at once instead of after the device's reply.
   */
  iceServers?: readonly IceServer[];
  /** Signal host addresses as `<uuid>.local` mDNS names, as browsers do (default false). */
  mdnsCandidates?: boolean;
  /** Recover a call that played, as a browser app does (default true). */
  recover?: boolean;
  /** Offer RTX for repairs (default true); false: the device resends original packets. */
  rtx?: boolean;
  /** Report frames, bytes and glass-to-glass second by second (`timeline`). */
  timeline?: boolean;
  /** Each event as it happens (`camgw probe --events`). */
  onEvent?: (event: ProbeEvent & { at: number }) => void;
}

/**
 * How often the probe repeats its PLI while it cannot decode, as Chromium
 * does while it waits for a key frame (VideoReceiveStream2's
 * max_wait_for_keyframe, 200 ms).
 */
export const PLI_REPEAT_MS = 200;

/** A `source` message from the device: its camera became unavailable, recovering or live. */
export interface SourceEvent {
  /** ms after the offer was published. */
  atMs: number;
  state: SourceState;
  reason?: string;
}

export interface ProbeReport {
  deviceId: string;
  /** This viewer's id in signaling (the device's log names it). */
  viewerId: string;
  /** When the offer was published, ms since the Unix epoch (the origin of the `atMs` below). */
  offerAt: number;
  /** When the probe stopped watching, ms after the offer. */
  watchedMs: number;
  /** When the last frame was decoded (received, without decoding), ms after the offer. */
  lastFrameMs: number | null;
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
  /** Freezes as webrtc-stats counts them, a stream that stopped for good included. */
  freezes: number;
  /** The longest of them (0 without any), ms. */
  longestFreezeMs: number;
  /** Each freeze: when it began (ms after the offer) and how long it lasted. */
  freezeList: { atMs: number; durationMs: number }[];
  /** PLIs sent: on a decode error or a lost packet, repeated every 200 ms while undecodable. */
  plisSent: number;
  /** Generic NACKs sent: one when a gap shows, then once per 100 ms per missing packet, up to 10 times (a browser's receiver). */
  nacksSent: number;
  /** The device's `source` messages for this call, in order. */
  sourceEvents: SourceEvent[];
  /** The longest time between two frames, ms (a person notices a second). */
  longestGapMs: number;
  /** The last decoded picture's size. */
  width: number | null;
  height: number | null;
  /**
   * Each size the decoded pictures took, from when (ms after the offer): one
   * entry unless the stream changed size (a resolution step, a switch
   * between a stream's encodings).
   */
  sizes: { atMs: number; width: number; height: number }[];
  decodeErrors: number;
  /** Capture (frame stamp) -> decoded here, ms; null when frames carry no stamp. */
  glassToGlassMs: Percentiles | null;
  /**
   * Capture (the camera's abs-capture-time, clocks aligned by RTCP sender
   * reports) -> decoded (or received, without decoding) here, ms: the same
   * figure for any camera, stamped or not; null when the camera sends no
   * capture time or no sender report came.
   */
  captureToFrameMs: Percentiles | null;
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
  /** Second by second after the offer (with the `timeline` option; otherwise null). */
  timeline: ProbeSecond[] | null;
}

export interface Percentiles {
  p50: number;
  p95: number;
  max: number;
  samples: number;
}

function percentiles(samples: number[]): Percentiles | null {
  if (samples.length === 0) return null;
  return {
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    max: round(Math.max(...samples)),
    samples: samples.length,
  };
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
    ...(options.iceServers ? { iceServers: options.iceServers } : {}),
    ...(options.mdnsCandidates ? { mdnsCandidates: true } : {}),
    recover: options.recover ?? true,
    // A browser repeats its key frame request while it waits; so does the probe.
    keyFrameRetryMs: PLI_REPEAT_MS,
    ...(options.rtx === undefined ? {} : { rtx: options.rtx }),
  });
  const decoder = options.decode === false ? null : new FrameDecoder();
  const frameTimesMs: number[] = [];
  const latenciesMs: number[] = [];
  /** Frames with a capture time: when shown here (our clock) and captured (the camera's). */
  const captured: { shownAtUs: number; captureUnixUs: number }[] = [];
  const clock = new ClockOffset();
  viewer.on("senderReport", (r) => clock.senderReport(r.ntpTimestamp, r.receivedAtUs));
  const sourceEvents: SourceEvent[] = [];
  // After a decode error, like a browser's decoder: nothing until the next
  // IDR (later frames reference the broken picture), and a PLI for it.
  const decoding = { waitForKeyFrame: false, lastPliMs: Number.NEGATIVE_INFINITY };
  const askForKeyFrame = (): void => {
    const now = performance.now();
    if (now - decoding.lastPliMs < PLI_REPEAT_MS) return;
    decoding.lastPliMs = now;
    viewer.requestKeyFrame();
  };
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
    /** When watching stopped (the seconds were up, or the call ended). */
    endUs?: number;
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
  const sizes: ProbeReport["sizes"] = [];
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const timeline = options.timeline
    ? new ProbeTimeline(() => (seen.offerUs === null ? null : seen.offerUs / 1000))
    : null;

  const onFrame = (frame: ReceivedFrame): void => {
    timeline?.received(frame.receivedAtUs / 1000, frame.data.length);
    let decodedAtUs = frame.receivedAtUs;
    let latencyMs: number | null = null;
    if (decoder) {
      if (decoding.waitForKeyFrame && !frame.keyframe) {
        askForKeyFrame();
        return;
      }
      const errorsBefore = decoder.errors;
      const picture = decoder.decode(frame.data);
      if (decoder.errors > errorsBefore) {
        decoding.waitForKeyFrame = true;
        askForKeyFrame();
      } else if (picture) {
        decoding.waitForKeyFrame = false;
      }
      if (!picture) return;
      decodedAtUs = nowUs();
      if (seen.width !== picture.width || seen.height !== picture.height) {
        sizes.push({
          atMs: round(decodedAtUs / 1000 - (seen.offerUs ?? decodedAtUs) / 1000),
          width: picture.width,
          height: picture.height,
        });
      }
      seen.width = picture.width;
      seen.height = picture.height;
      const stampUs = readStamp({
        data: picture.luma,
        width: picture.width,
        height: picture.height,
      });
      if (stampUs !== null) {
        latencyMs = (decodedAtUs - Number(stampUs)) / 1000;
        latenciesMs.push(latencyMs);
      }
    }
    timeline?.shown(decodedAtUs / 1000, latencyMs);
    if (frame.captureUnixUs !== undefined) {
      captured.push({ shownAtUs: decodedAtUs, captureUnixUs: frame.captureUnixUs });
    }
    seen.firstFrameUs ??= decodedAtUs;
    frameTimesMs.push(decodedAtUs / 1000);
    if (options.untilFirstFrame) finish();
    if (options.untilFrames !== undefined && frameTimesMs.length >= options.untilFrames) finish();
  };

  // A login refused later (the viewer was removed) ends the watch: the
  // device is about to end the call too.
  client.on("error", (err) => {
    if (typeof (err as { code?: unknown }).code !== "number") return;
    seen.ended ??= `refused: ${err.message}`;
    finish();
  });
  let timer: NodeJS.Timeout | undefined;
  viewer.on("frame", onFrame);
  viewer.on("event", (event) => {
    if (event.event === "offer" && seen.offerUs === null) {
      seen.offerUs = nowUs();
      seen.iceServers = event.iceServers;
    }
    if (event.event === "answer") {
      seen.answerUs ??= nowUs();
      // `seconds` of watching count from the first answer, as they always have.
      timer ??= setTimeout(finish, options.seconds * 1000);
    }
    options.onEvent?.(event);
  });
  viewer.on("source", (update) => {
    sourceEvents.push({
      atMs: round((nowUs() - (seen.offerUs ?? nowUs())) / 1000),
      state: update.state,
      ...(update.reason === undefined ? {} : { reason: update.reason }),
    });
  });
  viewer.on("ended", (reason) => {
    seen.ended = reason;
    seen.endedUs = nowUs();
    finish();
  });
  try {
    await client.waitConnected();
    viewer.start();
    if (options.signal?.aborted) finish();
    options.signal?.addEventListener("abort", finish, { once: true });
    await done;
    seen.endUs = nowUs();
    options.signal?.removeEventListener("abort", finish);
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
  // When watching stopped, not after the hang-up and closing (which take a while).
  const endMs = (seen.endUs ?? nowUs()) / 1000;
  // Only a call that got video and ran its course can freeze at the end.
  const freezes = findFreezes(frameTimesMs, seen.ended === null ? endMs : undefined);
  const spanS =
    frameTimesMs.length > 1 ? ((frameTimesMs.at(-1) ?? 0) - (frameTimesMs[0] ?? 0)) / 1000 : 0;
  const receiveSpanS = Math.max(0.001, (nowUs() - (seen.answerUs ?? offerUs)) / 1e6);
  const since = (us: number | null): number | null =>
    us === null ? null : round((us - offerUs) / 1000);
  return {
    deviceId: options.deviceId,
    viewerId: client.viewerId,
    offerAt: round(offerUs / 1000),
    watchedMs: round(endMs - offerUs / 1000),
    lastFrameMs:
      frameTimesMs.length === 0 ? null : round((frameTimesMs.at(-1) ?? 0) - offerUs / 1000),
    video: frameTimesMs.length > 0,
    answerMs: since(seen.answerUs),
    timeToFirstFrameMs: since(seen.firstFrameUs),
    frames: frameTimesMs.length,
    fps: spanS > 0 ? round((frameTimesMs.length - 1) / spanS) : 0,
    bitrateKbps: round((stats.bytesReceived * 8) / 1000 / receiveSpanS),
    packetsReceived: stats.packetsReceived,
    packetsLost: stats.packetsLost,
    keyFrames: stats.keyFrames,
    freezes: freezes.length,
    longestFreezeMs: round(Math.max(0, ...freezes.map((f) => f.durationMs))),
    freezeList: freezes.map((f) => ({
      atMs: round(f.atMs - offerUs / 1000),
      durationMs: round(f.durationMs),
    })),
    plisSent: stats.plisSent,
    nacksSent: stats.nacksSent,
    sourceEvents,
    longestGapMs: round(longestGap(frameTimesMs)),
    width: seen.width,
    height: seen.height,
    sizes,
    decodeErrors: decoder?.errors ?? 0,
    glassToGlassMs: percentiles(latenciesMs),
    // With the clock offset of the whole call: its first reports may have
    // waited behind frame decoding in this process and read high.
    captureToFrameMs: percentiles(
      captured.flatMap(({ shownAtUs, captureUnixUs }) => {
        const capturedAtUs = clock.toLocalUs(captureUnixUs);
        return capturedAtUs === undefined ? [] : [(shownAtUs - capturedAtUs) / 1000];
      }),
    ),
    ended: seen.ended,
    endedAfterMs: since(seen.endedUs),
    candidatePair: viewer.selectedPair,
    iceServers: seen.iceServers,
    recoveries: viewer.recoveries,
    timeline: timeline?.seconds(endMs) ?? null,
  };
}

/** The report as lines for a person. */
export function formatReport(r: ProbeReport): string {
  const lines = [
    `camgw probe: ${r.deviceId}: ${r.video ? "video received" : "NO VIDEO"}${r.ended ? ` (${r.ended})` : ""}`,
    `  answer              ${r.answerMs ?? "-"} ms`,
    `  first frame         ${r.timeToFirstFrameMs ?? "-"} ms after the offer`,
    `  frames              ${r.frames} (${r.fps} fps, ${r.freezes} freezes${r.freezes ? `, longest ${r.longestFreezeMs} ms` : ""}, longest gap ${r.longestGapMs} ms)`,
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
  if (r.captureToFrameMs) {
    const c = r.captureToFrameMs;
    lines.push(
      `  capture-to-frame    p50 ${c.p50} ms, p95 ${c.p95} ms, max ${c.max} ms (abs-capture-time, ${c.samples} frames)`,
    );
  }
  if (r.candidatePair) lines.push(`  ICE pair            ${describePair(r.candidatePair)}`);
  lines.push(`  ICE servers         ${r.iceServers}`);
  for (const x of r.recoveries) {
    lines.push(
      `  recovered           ${x.trigger}: video back after ${x.gapMs} ms (${x.method}, ${x.attempts} attempt${x.attempts === 1 ? "" : "s"})`,
    );
  }
  if (r.decodeErrors)
    lines.push(`  decode errors       ${r.decodeErrors} (${r.plisSent} PLIs sent)`);
  for (const e of r.sourceEvents)
    lines.push(
      `  camera              ${e.state}${e.reason ? ` (${e.reason})` : ""} at ${e.atMs} ms`,
    );
  return lines.join("\n") + "\n";
}
