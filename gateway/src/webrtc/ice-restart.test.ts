import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ClipSource } from "./testing/clip-source.js";
import { LOOPBACK, connectViewer, nextFrame, waitFor, type Connected } from "./testing/harness.js";
import { parseOfferSdp } from "./offer-sdp.js";
import { offerChange } from "./renegotiation.js";
import { SessionManager } from "./session-manager.js";
import { encodeTestClip, type ClipAccessUnit } from "../testing/test-clip.js";

let clip: ClipAccessUnit[];
let source: ClipSource | undefined;
let manager: SessionManager | undefined;
const viewers: Connected[] = [];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 30, gop: 30 });
});

afterEach(async () => {
  for (const v of viewers.splice(0)) await v.viewer.close();
  await manager?.close();
  await source?.close();
  manager = undefined;
  source = undefined;
});

const OFFER = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "a=mid:0",
  "a=ice-ufrag:abcd",
  "a=ice-pwd:0123456789012345678901",
  "a=fingerprint:sha-256 AA:BB",
  "a=rtpmap:111 opus/48000/2",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "a=mid:1",
  "a=ice-ufrag:abcd",
  "a=ice-pwd:0123456789012345678901",
  "a=fingerprint:sha-256 AA:BB",
  "a=rtpmap:96 H264/90000",
].join("\r\n");

describe("offerChange", () => {
  const restarted = OFFER.replaceAll("abcd", "wxyz").replaceAll("0123456789", "9876543210");
  const kind = (before: string, after: string): string =>
    offerChange(parseOfferSdp(before), parseOfferSdp(after)).kind;

  it("is an ICE restart when only the ICE credentials changed", () => {
    expect(kind(OFFER, restarted)).toBe("ice-restart");
  });

  it("is not a restart for the same credentials, a new peer connection or other sections", () => {
    expect(kind(OFFER, OFFER)).toBe("renegotiation");
    // werift keeps one certificate per process: a new peer connection shows only in o=.
    const newSession = restarted.replace("o=- 1 2", "o=- 7 0");
    expect(kind(OFFER, newSession)).toBe("replacement");
    const newPeer = restarted.replaceAll("AA:BB", "CC:DD");
    expect(kind(OFFER, newPeer)).toBe("replacement");
    const renegotiated = restarted.replace("a=mid:1", "a=mid:2");
    expect(kind(OFFER, renegotiated)).toBe("replacement");
    const noFingerprint = (sdp: string) => sdp.replace(/^a=fingerprint.*\r\n/gm, "");
    expect(kind(noFingerprint(OFFER), noFingerprint(restarted))).toBe("replacement");
  });

  it("is a renegotiation when sections are added after the earlier ones, with the same credentials", () => {
    const added = [
      OFFER.replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 2"),
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
      "a=mid:2",
      "a=ice-ufrag:abcd",
      "a=ice-pwd:0123456789012345678901",
      "a=fingerprint:sha-256 AA:BB",
      "a=sctp-port:5000",
    ].join("\r\n");
    expect(kind(OFFER, added)).toBe("renegotiation");
    // ICE restart and new sections at once: neither, a fresh peer connection answers.
    const restartedAndAdded = added.replaceAll("abcd", "wxyz");
    expect(kind(OFFER, restartedAndAdded)).toBe("replacement");
    const moved = OFFER.replace("a=mid:0", "a=mid:9");
    expect(kind(OFFER, moved)).toBe("replacement");
    const unbundled = OFFER.replace(/^a=group:BUNDLE.*\r\n/m, "");
    expect(kind(OFFER, unbundled)).toBe("replacement");
  });
});

/** A session manager with viewer v1's session s1 playing. */
async function watching(): Promise<{ m: SessionManager; c: Connected }> {
  source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  const m = new SessionManager({ streams: { main: source }, ice: LOOPBACK });
  manager = m;
  const c = await connectViewer(m, "v1", "s1");
  viewers.push(c);
  await nextFrame(c.viewer);
  return { m, c };
}

describe("ICE restart on a live session", () => {
  it("answers a restart offer on the same peer connection and media keeps flowing", async () => {
    const { m, c } = await watching();
    const before = c.viewer.stats.frames;
    const offer = await c.viewer.restartIce();
    const answer = await m.offer({
      viewerId: "v1",
      session: "s1",
      sdp: offer,
      stream: "main",
    });
    await c.viewer.acceptAnswer(answer);
    expect(answer.match(/a=ice-ufrag:(\S+)/)?.[1]).not.toBe(
      c.answer.match(/a=ice-ufrag:(\S+)/)?.[1],
    );
    expect(answer.match(/a=fingerprint:(.+)/)?.[1]).toBe(c.answer.match(/a=fingerprint:(.+)/)?.[1]);
    await waitFor(() => c.viewer.stats.frames > before + 30, 15_000);
    expect(m.stats.iceRestarts).toBe(1);
    expect(m.stats.sessionsCreated).toBe(1);
    expect(m.stats.sessionsEnded["replaced-silently"]).toBe(0);
  });

  it("takes the viewer's candidates after each of many restarts (the limit is per ICE generation)", async () => {
    const { m, c } = await watching();
    let port = 40000;
    for (let restart = 0; restart < 3; restart++) {
      const answer = await m.offer({
        viewerId: "v1",
        session: "s1",
        sdp: await c.viewer.restartIce(),
        stream: "main",
      });
      await c.viewer.acceptAnswer(answer);
      const before = c.viewer.stats.frames;
      await waitFor(() => c.viewer.stats.frames > before + 5, 15_000);
      // 20 a generation: three generations hold more than 32 in all.
      for (let i = 0; i < 20; i++) {
        const candidate = `candidate:${i} 1 udp 2122260223 127.0.0.1 ${port++} typ host`;
        expect(m.addCandidate("v1", "s1", { candidate, sdpMid: "0", sdpMLineIndex: 0 })).toBe(true);
      }
    }
    expect(m.stats.iceRestarts).toBe(3);
    expect(m.stats.sessionsCreated).toBe(1);
  });
});
