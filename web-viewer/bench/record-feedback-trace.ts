/**
 * Records a feedback trace (gateway/src/congestion/trace.ts) from a real
 * call: Debian's Chromium receiving a 1280x720 ~2 Mbit/s libx264 clip from
 * the session manager in this process over loopback, for `--seconds`.
 * Writes gateway/src/congestion/fixtures/chromium-loopback.trace.json, the
 * fixture congestion/trace.test.ts replays.
 *
 *   node web-viewer/bench/bench.js record-feedback-trace [--seconds 10]
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { TraceEvent } from "../../gateway/src/congestion/trace.js";
import type { IceCandidate } from "../../gateway/src/signaling/session-host.js";
import { REPO_ROOT } from "../../gateway/src/testing/gateway-process.js";
import { encodeTestClip } from "../../gateway/src/testing/test-clip.js";
import { ClipSource } from "../../gateway/src/webrtc/testing/clip-source.js";
import { SessionManager } from "../../gateway/src/webrtc/session-manager.js";
import { launchChromium } from "../test/harness/browser.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" } } });
const seconds = Number(values.seconds);

const clip = await encodeTestClip({
  width: 1280,
  height: 720,
  fps: 30,
  frames: 300,
  gop: 60,
  extra: ["-vf", "noise=alls=10:allf=u", "-b:v", "2M", "-maxrate", "2M", "-bufsize", "2M"],
});
const source = new ClipSource(clip, { width: 1280, height: 720, fps: 30 });
const events: TraceEvent[] = [];
const manager = new SessionManager({
  streams: { main: source },
  ice: { hostAddresses: ["127.0.0.1"] },
  congestionTrace: (_viewer, event) => events.push(event),
  // A busy machine may take longer than the spec's second to answer.
  answerTimeoutMs: 10_000,
});
const browser = await launchChromium();
const chromiumVersion = browser.version();
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto("about:blank");
  const toPage: (IceCandidate | null)[] = [];
  manager.on("candidate", (_v, _s, c) => toPage.push(c));
  await page.exposeFunction("camgwOffer", (sdp: string) =>
    manager.offer({ viewerId: "chromium", session: "s", sdp, stream: "main" }),
  );
  await page.exposeFunction("camgwCandidate", (c: IceCandidate | null) =>
    manager.addCandidate("chromium", "s", c),
  );
  await page.exposeFunction("camgwCandidates", () => toPage.splice(0));
  await page.evaluate(async () => {
    const w = window as unknown as {
      camgwOffer(sdp: string): Promise<string>;
      camgwCandidate(c: RTCIceCandidateInit | null): Promise<void>;
      camgwCandidates(): Promise<(RTCIceCandidateInit | null)[]>;
    };
    const pc = new RTCPeerConnection();
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.onicecandidate = (e) => void w.camgwCandidate(e.candidate?.toJSON() ?? null);
    const video = document.createElement("video");
    video.muted = true;
    video.autoplay = true;
    document.body.append(video);
    pc.ontrack = (e) => {
      video.srcObject = new MediaStream([e.track]);
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await pc.setRemoteDescription({ type: "answer", sdp: await w.camgwOffer(offer.sdp ?? "") });
    const trickle = async (): Promise<void> => {
      for (const c of await w.camgwCandidates()) if (c) await pc.addIceCandidate(c);
      setTimeout(() => void trickle(), 50);
    };
    void trickle();
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
} finally {
  await browser.close();
  await manager.close();
  await source.close();
}

const start = events[0]?.atMs ?? 0;
const trace = {
  source: `Chromium ${chromiumVersion} receiving a 1280x720@30 ~2 Mbit/s libx264 clip from camgw's session manager over loopback (no bottleneck), ${seconds} s, recorded by web-viewer/bench/record-feedback-trace.ts`,
  events: events.map((e) => ({ ...e, atMs: Math.round((e.atMs - start) * 1000) / 1000 })),
};
const out = join(
  REPO_ROOT,
  "gateway",
  "src",
  "congestion",
  "fixtures",
  "chromium-loopback.trace.json",
);
await writeFile(out, JSON.stringify(trace) + "\n");
console.log(`wrote ${out}: ${events.length} events`);
