import { readFileSync } from "node:fs";
import { readStamp } from "../media/frame-stamp.js";
import { DEFAULT_STREAM, type SourceState } from "../signaling/message-types.js";
import { connectNoDelay } from "../signaling/mqtt-connection.js";
import { CallError, type Call } from "../signaling/viewer-call.js";
import { ViewerClient } from "../signaling/viewer-client.js";
import type { IceServer } from "../webrtc/ice-config.js";
import {
  HeadlessViewer,
  type ReceivedFrame,
  type SelectedPair,
} from "../webrtc/receive/headless-viewer.js";
import { ClockOffset } from "./clock-offset.js";
import { FrameDecoder } from "./h264-decoder.js";
import { findFreezes, longestGap, percentile, round } from "./stats.js";

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
  /** Stop watching when this aborts, before `seconds` are up (tests that wait for an event). */
  signal?: AbortSignal;
  /** How long to wait for the device's answer. */
  answerTimeoutMs?: number;
  /** Local addresses to offer as ICE host candidates (default: every non-loopback interface). */
  hostAddresses?: readonly string[];
  /** STUN/TURN servers (default none: host candidates only). */
  iceServers?: readonly IceServer[];
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
  /** The device's `source` messages for this call, in order. */
  sourceEvents: SourceEvent[];
  /** The longest time between two frames, ms (a person notices a second). */
  longestGapMs: number;
  width: number | null;
  height: number | null;
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
  /** Why the call ended early, if it did. */
  ended: string | null;
  /** The ICE candidate pair the media came through (null: none was nominated). */
  candidatePair: SelectedPair | null;
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
 * with werift, decodes it, and measures what a person would see.
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
    },
  });
  const peer = new HeadlessViewer({
    // A browser repeats its key frame request while it waits; so does the probe.
    keyFrameRetryMs: PLI_REPEAT_MS,
    ice: {
      ...(options.hostAddresses?.length ? { hostAddresses: [...options.hostAddresses] } : {}),
      ...(options.iceServers?.length
        ? { iceServers: options.iceServers.map((s) => ({ ...s })) }
        : {}),
    },
  });
  const decoder = options.decode === false ? null : new FrameDecoder();
  const frameTimesMs: number[] = [];
  const latenciesMs: number[] = [];
  /** Frames with a capture time: when shown here (our clock) and captured (the camera's). */
  const captured: { shownAtUs: number; captureUnixUs: number }[] = [];
  const clock = new ClockOffset();
  peer.on("senderReport", (r) => clock.senderReport(r.ntpTimestamp, r.receivedAtUs));
  const sourceEvents: SourceEvent[] = [];
  // After a decode error, like a browser's decoder: nothing until the next
  // IDR (later frames reference the broken picture), and a PLI for it.
  const decoding = { waitForKeyFrame: false, lastPliMs: Number.NEGATIVE_INFINITY };
  const askForKeyFrame = (): void => {
    const now = performance.now();
    if (now - decoding.lastPliMs < PLI_REPEAT_MS) return;
    decoding.lastPliMs = now;
    peer.requestKeyFrame();
  };
  // Written from callbacks, so kept in an object rather than narrowed locals.
  const seen: {
    firstFrameUs: number | null;
    answerUs: number | null;
    width: number | null;
    height: number | null;
    ended: string | null;
    /** When watching stopped (the seconds were up, or the call ended). */
    endUs?: number;
  } = { firstFrameUs: null, answerUs: null, width: null, height: null, ended: null };
  let call: Call | null = null;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));

  const onFrame = (frame: ReceivedFrame): void => {
    let decodedAtUs = frame.receivedAtUs;
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
      seen.width = picture.width;
      seen.height = picture.height;
      const stampUs = readStamp({
        data: picture.luma,
        width: picture.width,
        height: picture.height,
      });
      if (stampUs !== null) latenciesMs.push((decodedAtUs - Number(stampUs)) / 1000);
    }
    if (frame.captureUnixUs !== undefined) {
      captured.push({ shownAtUs: decodedAtUs, captureUnixUs: frame.captureUnixUs });
    }
    seen.firstFrameUs ??= decodedAtUs;
    frameTimesMs.push(decodedAtUs / 1000);
    if (options.untilFirstFrame) finish();
  };

  // A login refused later (the viewer was removed) ends the watch: the
  // device is about to end the call too.
  client.on("error", (err) => {
    if (typeof (err as { code?: unknown }).code !== "number") return;
    seen.ended ??= `refused: ${err.message}`;
    finish();
  });
  let offerUs = 0;
  let candidatePair: SelectedPair | null = null;
  try {
    await client.waitConnected();
    const offer = await peer.createOffer();
    peer.on("frame", onFrame);
    offerUs = nowUs();
    const active = client.call(options.deviceId, {
      sdp: offer,
      stream: options.stream ?? DEFAULT_STREAM,
    });
    call = active;
    peer.on("candidate", (c) => active.sendCandidate(c));
    active.on("candidate", (c) => peer.addRemoteCandidate(c));
    active.on("source", (update) => {
      sourceEvents.push({
        atMs: round((nowUs() - offerUs) / 1000),
        state: update.state,
        ...(update.reason === undefined ? {} : { reason: update.reason }),
      });
    });
    active.on("ended", (cause) => {
      // Our own hangup at the end is no news.
      if (cause !== "hangup") seen.ended = cause;
      finish();
    });
    const answer = await active.answer;
    seen.answerUs = nowUs();
    await peer.acceptAnswer(answer);
    const timer = setTimeout(finish, options.seconds * 1000);
    if (options.signal?.aborted) finish();
    options.signal?.addEventListener("abort", finish, { once: true });
    await done;
    seen.endUs = nowUs();
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", finish);
  } catch (err) {
    // A refused call carries the spec's code (busy, unsupported, ...).
    const code = err instanceof CallError ? `${err.code}: ` : "";
    seen.ended = `${code}${(err as Error).message}`;
  } finally {
    candidatePair = peer.selectedPair;
    call?.hangup();
    await peer.close();
    await client.close();
  }

  const stats = peer.stats;
  // When watching stopped, not after the hang-up and closing (which take a while).
  const endMs = (seen.endUs ?? nowUs()) / 1000;
  // Only a call that got video and ran its course can freeze at the end.
  const freezes = findFreezes(frameTimesMs, seen.ended === null ? endMs : undefined);
  const spanS =
    frameTimesMs.length > 1 ? ((frameTimesMs.at(-1) ?? 0) - (frameTimesMs[0] ?? 0)) / 1000 : 0;
  const receiveSpanS = Math.max(0.001, (nowUs() - (seen.answerUs ?? offerUs)) / 1e6);
  return {
    deviceId: options.deviceId,
    offerAt: round(offerUs / 1000),
    watchedMs: round(endMs - offerUs / 1000),
    lastFrameMs:
      frameTimesMs.length === 0 ? null : round((frameTimesMs.at(-1) ?? 0) - offerUs / 1000),
    video: frameTimesMs.length > 0,
    answerMs: seen.answerUs === null ? null : round((seen.answerUs - offerUs) / 1000),
    timeToFirstFrameMs:
      seen.firstFrameUs === null ? null : round((seen.firstFrameUs - offerUs) / 1000),
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
    sourceEvents,
    longestGapMs: round(longestGap(frameTimesMs)),
    width: seen.width,
    height: seen.height,
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
    candidatePair,
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
  if (r.candidatePair) {
    const end = (e: SelectedPair["local"]): string =>
      `${e.type} ${e.address}:${e.port}/${e.protocol}`;
    lines.push(
      `  ICE pair            ${end(r.candidatePair.local)} -> ${end(r.candidatePair.remote)}`,
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
