/**
 * Debian's Chromium against the gateway's session manager in this process
 * (no MQTT: the page hands its offer and candidates over directly), so the
 * gateway side can be inspected and a test-only hook can drop packets on
 * the wire: what Chromium negotiates for congestion control, repair and
 * latency, and what its stats say once loss is repaired.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchChromium, waitFor } from "./harness/browser.js";
import { encodeTestClip } from "../../gateway/src/testing/test-clip.js";
import { ClipSource } from "../../gateway/src/webrtc/testing/clip-source.js";
import { SessionManager } from "../../gateway/src/webrtc/session-manager.js";
import type { IceCandidate } from "../../gateway/src/signaling/session-host.js";

let browser: Browser;
let source: ClipSource;
let manager: SessionManager;
/** The H.264 payload type each answer chose, by viewer: the loss hook drops only media. */
const mediaPayloadType = new Map<string, number>();

beforeAll(async () => {
  const clip = await encodeTestClip({ frames: 90, gop: 30 });
  source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  manager = new SessionManager({
    streams: { main: source },
    ice: { hostAddresses: ["127.0.0.1"] },
    // A busy machine may take longer than the spec's second to answer.
    answerTimeoutMs: 10_000,
    // Every 40th media packet of viewer "lossy" never leaves: 2.5 % loss.
    dropOnWire: (viewerId, header) =>
      viewerId === "lossy" &&
      header.payloadType === mediaPayloadType.get(viewerId) &&
      header.sequenceNumber % 40 === 0,
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser.close();
  await manager.close();
  await source.close();
});

interface PageCall {
  page: Page;
  offer: string;
  answer: string;
}

/** A plain page that calls the camera with RTCPeerConnection, offering abs-capture-time too. */
async function call(viewerId: string): Promise<PageCall> {
  const page = await (await browser.newContext()).newPage();
  await page.goto("about:blank");
  const toPage: (IceCandidate | null)[] = [];
  manager.on("candidate", (v, _s, c) => {
    if (v === viewerId) toPage.push(c);
  });
  await page.exposeFunction("camgwOffer", async (sdp: string) => {
    const answer = await manager.offer({ viewerId, session: "s", sdp, stream: "main" });
    mediaPayloadType.set(viewerId, Number(/a=rtpmap:(\d+) H264\/90000/i.exec(answer)?.[1]));
    return answer;
  });
  await page.exposeFunction("camgwCandidate", (c: IceCandidate | null) =>
    manager.addCandidate(viewerId, "s", c),
  );
  await page.exposeFunction("camgwCandidates", () => toPage.splice(0));
  const sdp = await page.evaluate(async () => {
    const w = window as unknown as {
      camgwOffer(sdp: string): Promise<string>;
      camgwCandidate(c: RTCIceCandidateInit | null): Promise<void>;
      camgwCandidates(): Promise<(RTCIceCandidateInit | null)[]>;
      pc: RTCPeerConnection;
    };
    const pc = new RTCPeerConnection();
    w.pc = pc;
    const t = pc.addTransceiver("video", { direction: "recvonly" }) as RTCRtpTransceiver & {
      getHeaderExtensionsToNegotiate(): { uri: string; direction: string }[];
      setHeaderExtensionsToNegotiate(e: { uri: string; direction: string }[]): void;
    };
    t.setHeaderExtensionsToNegotiate(
      t
        .getHeaderExtensionsToNegotiate()
        .map((e) => (e.uri.endsWith("abs-capture-time") ? { ...e, direction: "recvonly" } : e)),
    );
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
    const answer = await w.camgwOffer(offer.sdp ?? "");
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
    const trickle = async (): Promise<void> => {
      for (const c of await w.camgwCandidates()) if (c) await pc.addIceCandidate(c);
      if (pc.connectionState !== "closed") setTimeout(() => void trickle(), 50);
    };
    void trickle();
    return { offer: offer.sdp ?? "", answer };
  });
  return { page, ...sdp };
}

async function inbound(page: Page): Promise<Record<string, number | string>> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    let found: Record<string, number | string> = {};
    (await pc.getStats()).forEach((s: Record<string, number | string>) => {
      if (s.type === "inbound-rtp" && s.kind === "video") found = s;
    });
    return found;
  });
}

describe("Chromium and the gateway", () => {
  it("negotiate transport-cc, RTX, playout-delay and abs-capture-time, and Chromium plays", async () => {
    const { page, answer } = await call("clean");
    expect(answer).toMatch(/^a=rtcp-fb:\d+ transport-cc\r?$/m);
    expect(answer).toMatch(/^a=rtcp-fb:\d+ goog-remb\r?$/m);
    expect(answer).toMatch(/^a=ssrc-group:FID \d+ \d+\r?$/m);
    expect(answer).toMatch(/^a=fmtp:\d+ apt=\d+\r?$/m);
    for (const uri of [
      "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
      "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay",
      "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time",
    ]) {
      expect(answer).toContain(` ${uri}\r\n`);
    }
    const stats = await waitFor("frames decoded", async () => {
      const s = await inbound(page);
      return Number(s.framesDecoded ?? 0) > 30 ? s : undefined;
    });
    expect(stats.rtxSsrc).toBeDefined();
    // Each frame's capture time reaches the page (abs-capture-time), on the camera's NTP clock.
    const source = await page.evaluate(() => {
      const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
      const s = pc.getReceivers()[0]?.getSynchronizationSources()[0] as unknown as
        { captureTimestamp?: number; timestamp: number } | undefined;
      return s ? { capture: s.captureTimestamp, at: s.timestamp } : undefined;
    });
    expect(source?.capture).toBeDefined();
    const captureUnixMs = (source?.capture ?? 0) - 2_208_988_800_000;
    expect(captureUnixMs).toBeLessThanOrEqual(source?.at ?? 0);
    expect((source?.at ?? 0) - captureUnixMs).toBeLessThan(10_000);
    // The gateway estimates this viewer's bandwidth from Chromium's transport-cc feedback.
    await waitFor("an estimate from transport-cc", () =>
      Promise.resolve(
        manager.stats.viewers.find((v) => v.viewerId === "clean")?.estimate.source ===
          "transport-cc",
      ),
    );
    await page.context().close();
  });

  it("repairs induced loss with RTX: Chromium NACKs, receives retransmitted media and keeps decoding", async () => {
    const { page } = await call("lossy");
    const stats = await waitFor(
      "repaired packets",
      async () => {
        const s = await inbound(page);
        return Number(s.retransmittedBytesReceived ?? 0) > 0 && Number(s.framesDecoded ?? 0) > 60
          ? s
          : undefined;
      },
      30_000,
    );
    expect(Number(stats.nackCount)).toBeGreaterThan(0);
    expect(Number(stats.retransmittedPacketsReceived)).toBeGreaterThan(0);
    expect(manager.stats.video.rtxSent).toBeGreaterThan(0);
    expect(manager.stats.video.nacksReceived).toBeGreaterThan(0);
    await page.context().close();
  });
});
