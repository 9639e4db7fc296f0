/**
 * A plain player page for the playout-delay bench: what any third-party
 * page would do with the camera (signal over MQTT, RTCPeerConnection with
 * defaults, a <video>), and nothing of camgw's own viewer: no
 * jitterBufferTarget, no playoutDelayHint. `?playoutDelay=off` removes the
 * playout-delay extension from the offer, so the camera does not send it.
 * Glass-to-glass per frame from the frame stamp (same machine, same clock)
 * lands in window.benchSamples. `?username=&password=` log in to a gateway
 * that wants a viewer account (the network lab's: chromium-lab-bench.ts).
 */
import { ViewerClient } from "../../gateway/src/signaling/viewer-client.js";
import { StampReader } from "../src/stamp-reader.js";

declare global {
  interface Window {
    benchSamples: number[];
    benchError: string | undefined;
    benchPc: RTCPeerConnection | undefined;
  }
}

const PLAYOUT_DELAY =
  /^a=extmap:\d+ http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/playout-delay\r?\n/m;

async function play(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const broker = params.get("broker") ?? "";
  const device = params.get("device") ?? "";
  const withPlayoutDelay = params.get("playoutDelay") !== "off";
  window.benchSamples = [];
  const username = params.get("username");
  const password = params.get("password");
  const client = new ViewerClient({
    url: broker,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
  });
  await client.waitConnected();
  const pc = new RTCPeerConnection();
  window.benchPc = pc;
  pc.addTransceiver("video", { direction: "recvonly" });
  const video = document.createElement("video");
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  pc.addEventListener("track", (e) => {
    video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
  });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  let sdp = pc.localDescription?.sdp ?? "";
  if (!withPlayoutDelay) sdp = sdp.replace(PLAYOUT_DELAY, "");
  const call = client.call(device, { sdp });
  pc.addEventListener("icecandidate", (e) => {
    if (e.candidate === null) call.sendCandidate(null);
    else if (e.candidate.candidate !== "") call.sendCandidate(e.candidate.toJSON() as never);
  });
  call.on("candidate", (c) => void pc.addIceCandidate(c ?? undefined).catch(() => undefined));
  await pc.setRemoteDescription({ type: "answer", sdp: await call.answer });
  const reader = new StampReader(document);
  const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
    const displayWallMs = Date.now() + (meta.expectedDisplayTime - performance.now());
    const stampUs = reader.read(video);
    if (stampUs !== null) window.benchSamples.push(displayWallMs - Number(stampUs) / 1000);
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}

play().catch((err: unknown) => {
  window.benchError = err instanceof Error ? err.message : String(err);
});
