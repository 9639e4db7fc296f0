import { readFileSync } from "node:fs";
import { readStamp } from "../media/frame-stamp.js";
import { DEFAULT_STREAM } from "../signaling/message-types.js";
import { connectNoDelay } from "../signaling/mqtt-connection.js";
import { CallError, type Call } from "../signaling/viewer-call.js";
import { ViewerClient } from "../signaling/viewer-client.js";
import { HeadlessViewer, type ReceivedFrame } from "../webrtc/receive/headless-viewer.js";
import { FrameDecoder } from "./h264-decoder.js";
import { countFreezes, longestGap, percentile, round } from "./stats.js";

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
  /** How long to wait for the device's answer. */
  answerTimeoutMs?: number;
  /** Local addresses to offer as ICE host candidates (default: every non-loopback interface). */
  hostAddresses?: readonly string[];
  /** Stops watching early (tests that watch while something else happens). */
  signal?: AbortSignal;
}

export interface ProbeReport {
  deviceId: string;
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
  /** The longest time between two frames, ms (a person notices a second). */
  longestGapMs: number;
  width: number | null;
  height: number | null;
  decodeErrors: number;
  /** Capture (frame stamp) -> decoded here, ms; null when frames carry no stamp. */
  glassToGlassMs: { p50: number; p95: number; max: number; samples: number } | null;
  /** Why the call ended early, if it did. */
  ended: string | null;
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
  const peer = new HeadlessViewer(
    options.hostAddresses?.length ? { ice: { hostAddresses: [...options.hostAddresses] } } : {},
  );
  const decoder = options.decode === false ? null : new FrameDecoder();
  const frameTimesMs: number[] = [];
  const latenciesMs: number[] = [];
  // Written from callbacks, so kept in an object rather than narrowed locals.
  const seen: {
    firstFrameUs: number | null;
    answerUs: number | null;
    width: number | null;
    height: number | null;
    ended: string | null;
  } = { firstFrameUs: null, answerUs: null, width: null, height: null, ended: null };
  let call: Call | null = null;
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
  };

  // A login refused later (the viewer was removed) ends the watch: the
  // device is about to end the call too.
  client.on("error", (err) => {
    if (typeof (err as { code?: unknown }).code !== "number") return;
    seen.ended ??= `refused: ${err.message}`;
    finish();
  });
  let offerUs = 0;
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
    active.on("ended", (cause) => {
      // Our own hangup at the end is no news.
      if (cause !== "hangup") seen.ended = cause;
      finish();
    });
    const answer = await active.answer;
    seen.answerUs = nowUs();
    await peer.acceptAnswer(answer);
    const timer = setTimeout(finish, options.seconds * 1000);
    options.signal?.addEventListener("abort", finish, { once: true });
    await done;
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", finish);
  } catch (err) {
    // A refused call carries the spec's code (busy, unsupported, ...).
    const code = err instanceof CallError ? `${err.code}: ` : "";
    seen.ended = `${code}${(err as Error).message}`;
  } finally {
    call?.hangup();
    await peer.close();
    await client.close();
  }

  const stats = peer.stats;
  const spanS =
    frameTimesMs.length > 1 ? ((frameTimesMs.at(-1) ?? 0) - (frameTimesMs[0] ?? 0)) / 1000 : 0;
  const receiveSpanS = Math.max(0.001, (nowUs() - (seen.answerUs ?? offerUs)) / 1e6);
  return {
    deviceId: options.deviceId,
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
    freezes: countFreezes(frameTimesMs),
    longestGapMs: round(longestGap(frameTimesMs)),
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
  };
}

/** The report as lines for a person. */
export function formatReport(r: ProbeReport): string {
  const lines = [
    `camgw probe: ${r.deviceId}: ${r.video ? "video received" : "NO VIDEO"}${r.ended ? ` (${r.ended})` : ""}`,
    `  answer              ${r.answerMs ?? "-"} ms`,
    `  first frame         ${r.timeToFirstFrameMs ?? "-"} ms after the offer`,
    `  frames              ${r.frames} (${r.fps} fps, ${r.freezes} freezes, longest gap ${r.longestGapMs} ms)`,
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
  if (r.decodeErrors) lines.push(`  decode errors       ${r.decodeErrors}`);
  return lines.join("\n") + "\n";
}
