import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeTestClip, type ClipAccessUnit } from "../testing/test-clip.js";
import { ClipSource } from "./testing/clip-source.js";
import { waitFor } from "./testing/harness.js";
import { LibwebrtcViewer } from "./testing/libwebrtc-viewer.js";
import { OpusClockSource, RecordingSink } from "./testing/opus-clock-source.js";
import { SessionManager } from "./session-manager.js";

/**
 * Audio going off and on mid-call the way libwebrtc (what Chromium runs,
 * here @roamhq/wrtc) offers it: a=inactive when the app pauses its
 * transceiver, port 0 when it stops it, and a stopped section recycled by
 * the next transceiver under a new mid (RFC 8829 section 5.2.2). The
 * gateway answers each on the same peer connection; the video goes on.
 * This peer cannot decode the H.264 (libwebrtc-viewer.ts) and keeps asking
 * for key frames, so that the video needs none is checked with werift
 * viewers (renegotiation.test.ts).
 */

let clip: ClipAccessUnit[];
let source: ClipSource;
let microphone: OpusClockSource;
let manager: SessionManager;
const viewers: LibwebrtcViewer[] = [];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 30, gop: 30 });
});

function setUp(): LibwebrtcViewer {
  source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  microphone = new OpusClockSource();
  manager = new SessionManager({
    streams: { main: source },
    ice: { hostAddresses: ["127.0.0.1"] },
    audio: { microphone, speaker: new RecordingSink() },
  });
  const v = new LibwebrtcViewer(manager, "lib");
  viewers.push(v);
  return v;
}

afterEach(async () => {
  for (const v of viewers.splice(0)) v.close();
  await manager.close();
  await source.close();
  await microphone.close();
});

/** Each audio section's port, direction and mid, in order. */
function audioSections(sdp: string): string[] {
  return sdp
    .split(/(?=^m=)/m)
    .filter((m) => m.startsWith("m=audio "))
    .map((m) => {
      const port = /^m=audio (\d+)/.exec(m)?.[1];
      const direction = /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(m)?.[1];
      const mid = /^a=mid:(\S+)/m.exec(m)?.[1];
      return `${port} ${direction} ${mid}`;
    });
}

async function waitForMore(
  v: LibwebrtcViewer,
  kind: "audio" | "video",
  more: number,
): Promise<void> {
  const before = (await v.received())[kind];
  let now = before;
  await waitFor(() => {
    void v.received().then((c) => (now = c[kind]));
    return now > before + more;
  }, 15_000);
}

describe("renegotiation from libwebrtc", () => {
  it("pauses audio (a=inactive) and resumes it on the same transceiver, the video going on", async () => {
    const v = setUp();
    const audio = v.pc.addTransceiver("audio", { direction: "recvonly" });
    await v.negotiate();
    await waitForMore(v, "audio", 25);

    audio.direction = "inactive";
    expect(audioSections(await v.negotiate())).toEqual(["9 inactive 1"]);
    await waitFor(() => !microphone.running, 15_000);
    await waitForMore(v, "video", 60);

    audio.direction = "recvonly";
    expect(audioSections(await v.negotiate())).toEqual(["9 sendonly 1"]);
    await waitForMore(v, "audio", 25);
    expect(audio.currentDirection).toBe("recvonly");
    expect(v.connected).toBe(true);
    expect(manager.stats.renegotiations).toBe(2);
    expect(manager.stats.sessionsCreated).toBe(1);
  });

  it("stops the audio transceiver (port 0), then adds audio back in the recycled section under a new mid", async () => {
    const v = setUp();
    const first = v.pc.addTransceiver("audio", { direction: "recvonly" });
    await v.negotiate();
    await waitForMore(v, "audio", 25);

    first.stop();
    expect(audioSections(await v.negotiate())).toEqual(["0 inactive 1"]);
    await waitFor(() => !microphone.running, 15_000);
    await waitForMore(v, "video", 60);

    v.pc.addTransceiver("audio", { direction: "recvonly" });
    const answer = await v.negotiate();
    const [section] = audioSections(answer);
    expect(audioSections(answer)).toHaveLength(1);
    expect(section).toMatch(/^9 sendonly (?!1$)\S+$/);
    await waitForMore(v, "audio", 25);
    expect(v.connected).toBe(true);
    const stats = manager.stats;
    expect(stats.renegotiations).toBe(2);
    expect(stats.sessionsCreated).toBe(1);
    expect(stats.sessionsEnded["replaced-silently"]).toBe(0);
  });
});
