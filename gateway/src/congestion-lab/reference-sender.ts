/**
 * The libwebrtc reference call's sender: a process of its own in the board's
 * namespace (reference-call.ts starts it). It captures the virtual board's
 * realistic scene as raw I420 (firmware-sim's cam_frames under the board's
 * library, the picture camgw encodes in the lab) and sends it with an
 * @roamhq/wrtc 0.10 RTCPeerConnection: libwebrtc's VP8 (libvpx) and its own
 * congestion control (transport-cc, GCC), capped at the same maximum as
 * camgw. It offers; once a second it reports what it sent (outbound-rtp
 * bytes with headers and padding, as camgw's /metrics counts RTP bytes) and
 * its estimate (the candidate pair's availableOutgoingBitrate).
 *
 *   node reference-sender.js '{"width":640,"height":480,"fps":30,"maxKbps":2500}'
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import wrtc from "@roamhq/wrtc";
import { defaultLibraryPath, simEnv } from "../../../firmware-sim/src/sim-env.js";
import { readMessages, writeMessage, type ReferenceMessage } from "./reference-messages.js";
import type { StreamSettings } from "./scenarios.js";

const stream = JSON.parse(process.argv[2] ?? "{}") as Omit<StreamSettings, "bitrateKbps"> & {
  maxKbps: number;
};
const say = (m: ReferenceMessage): void => writeMessage(process.stdout, m);

const source = new wrtc.nonstandard.RTCVideoSource();
const track = source.createTrack();
const pc = new wrtc.RTCPeerConnection();
pc.addTransceiver(track, { direction: "sendonly" });

// Beside the board's library: firmware-sim/build/tests (vdev/tests/cam_frames.c).
const camFrames = join(dirname(defaultLibraryPath()), "tests", "cam_frames");
const camera = spawn(
  camFrames,
  ["/dev/video0", String(stream.width), String(stream.height), "YU12", String(stream.fps)],
  {
    env: { ...process.env, ...simEnv({ profile: "pi5", scene: "realistic" }, process.env) },
    stdio: ["ignore", "pipe", "inherit"],
  },
);
camera.on("exit", (code, signal) => {
  if (!stopping) say({ type: "error", message: `cam_frames ended (${signal ?? code})` });
});

/** Header line first ({"frame_bytes":..}), then frames back to back. */
let pending = Buffer.alloc(0);
let frameBytes = 0;
camera.stdout.on("data", (chunk: Buffer) => {
  pending = Buffer.concat([pending, chunk]);
  if (frameBytes === 0) {
    const nl = pending.indexOf(10);
    if (nl < 0) return;
    const header = JSON.parse(pending.subarray(0, nl).toString()) as { frame_bytes: number };
    frameBytes = header.frame_bytes;
    pending = pending.subarray(nl + 1);
  }
  while (pending.length >= frameBytes) {
    const data = new Uint8Array(pending.subarray(0, frameBytes));
    pending = pending.subarray(frameBytes);
    source.onFrame({ width: stream.width, height: stream.height, data });
  }
});

pc.onicecandidate = (e) => {
  const c = e.candidate;
  if (c)
    say({
      type: "candidate",
      candidate: c.toJSON() as Required<RTCIceCandidateInit> & { candidate: string },
    });
};
pc.onconnectionstatechange = () => {
  if (pc.connectionState === "connected") say({ type: "connected" });
};

async function sample(): Promise<void> {
  const report = await pc.getStats();
  let bytesSent = 0;
  let frames = 0;
  let estimateBps = Number.NaN;
  let size = "";
  for (const s of report.values() as IterableIterator<Record<string, unknown>>) {
    if (s.type === "outbound-rtp" && s.kind === "video") {
      // libwebrtc: headerBytesSent includes padding; bytesSent includes retransmissions.
      bytesSent += Number(s.bytesSent ?? 0) + Number(s.headerBytesSent ?? 0);
      frames += Number(s.framesEncoded ?? 0);
      // No size before the first frame is encoded.
      if (typeof s.frameWidth === "number") size = `${s.frameWidth}x${String(s.frameHeight)}`;
    }
    if (s.type === "candidate-pair" && s.nominated === true && s.availableOutgoingBitrate) {
      estimateBps = Number(s.availableOutgoingBitrate);
    }
  }
  say({
    type: "sample",
    sample: {
      at: Date.now(),
      bytesSent,
      frames,
      encoderTargetKbps: Number.NaN,
      lowestEstimateBps: estimateBps,
      lowEncoderTargetKbps: 0,
      viewersOnLowEncoding: 0,
    },
    size,
  });
}
const sampler = setInterval(() => void sample().catch(() => undefined), 1000);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(sampler);
  camera.kill("SIGTERM");
  track.stop();
  pc.close();
  process.exit(0);
}

/**
 * The same ceiling as camgw's --bitrate, as the answer's b=AS (RFC 4566
 * 5.8, kbit/s) on the video section, which libwebrtc takes as its send
 * maximum. RTCRtpSender.setParameters would be the API, but @roamhq/wrtc
 * 0.10 rejects any change of encodings with InvalidStateError; without a
 * cap libwebrtc holds 640x480 VP8 at ~1.7 Mbit/s (its default maximum for
 * the size).
 */
function withSendCap(sdp: string, kbps: number): string {
  return sdp.replace(
    /(m=video[^\r\n]*\r?\n(?:[^m][^\r\n]*\r?\n)*?c=[^\r\n]*\r?\n)/,
    `$1b=AS:${kbps}\r\n`,
  );
}

async function start(): Promise<void> {
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  say({ type: "description", kind: "offer", sdp: offer.sdp ?? "" });
}

let queue: Promise<void> = start().catch((err: unknown) =>
  say({ type: "error", message: String(err) }),
);
readMessages(process.stdin, (m) => {
  queue = queue
    .then(async () => {
      if (m.type === "description" && m.kind === "answer") {
        await pc.setRemoteDescription({ type: "answer", sdp: withSendCap(m.sdp, stream.maxKbps) });
      } else if (m.type === "candidate") {
        await pc.addIceCandidate(m.candidate);
      } else if (m.type === "stop") {
        stop();
      }
    })
    .catch((err: unknown) =>
      say({ type: "error", message: `sender, on ${m.type}: ${String(err)}` }),
    );
});
process.stdin.on("end", () => stop());
