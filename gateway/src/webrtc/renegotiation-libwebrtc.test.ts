import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { encodeTestClip, type ClipAccessUnit } from "../testing/test-clip.js";
import { ClipSource } from "./testing/clip-source.js";
import { waitFor } from "./testing/harness.js";
import { LibwebrtcViewer, vp8AsH264 } from "./testing/libwebrtc-viewer.js";
import { OpusClockSource, RecordingSink } from "./testing/opus-clock-source.js";
import { SessionManager } from "./session-manager.js";
import { sectionKinds } from "./testing/sdp-sections.js";

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
    control: () => undefined,
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

  it("stops audio and adds a new transceiver in the same offer: a fourth section appended, answered on the same transport while the video goes on", async () => {
    const v = setUp();
    const first = v.pc.addTransceiver("audio", { direction: "recvonly" });
    v.openControl();
    await v.negotiate();
    await waitForMore(v, "audio", 25);
    const transport = v.pc.getTransceivers()[0]?.receiver.transport;

    // Not yet rejected in a negotiated description, the stopped section
    // cannot be recycled (RFC 8829 section 5.2.2): the new one is appended.
    first.stop();
    v.pc.addTransceiver("audio", { direction: "recvonly" });
    const answer = await v.negotiate();
    expect(sectionKinds(answer)).toEqual(["video 9", "audio 0", "application 9", "audio 9"]);
    expect(audioSections(answer)).toEqual(["0 inactive 1", "9 sendonly 3"]);
    await waitForMore(v, "audio", 25);
    await waitForMore(v, "video", 30);

    expect(v.connected).toBe(true);
    expect(v.pc.getTransceivers()[0]?.receiver.transport).toBe(transport);
    const stats = manager.stats;
    expect(stats.renegotiations).toBe(1);
    expect(stats.sessionsCreated).toBe(1);
    expect(stats.sessionsEnded["replaced-silently"]).toBe(0);
  });

  it("refuses a renegotiation of too many sections, or too many not rejected, with a clear error, the call going on, and takes one at the bound", async () => {
    const v = setUp();
    v.pc.addTransceiver("audio", { direction: "recvonly" });
    v.openControl();
    await v.negotiate();
    await waitForMore(v, "audio", 25);
    // The viewer's own offer, with audio sections a hostile viewer appends
    // (copies of its audio section under new mids, bundled when not rejected).
    const own = vp8AsH264(v.pc.localDescription?.sdp ?? "");
    const audio = own.split(/(?=^m=)/m).find((m) => m.startsWith("m=audio ")) ?? "";
    const appended = (rejected: number, active: number): string => {
      const extra = Array.from({ length: rejected + active }, (_, i) => {
        const section = audio.replace(/^a=mid:.*$/m, `a=mid:x${i}`);
        return i < rejected ? section.replace(/^m=audio \d+ /, "m=audio 0 ") : section;
      });
      const bundled = Array.from({ length: active }, (_, i) => ` x${rejected + i}`).join("");
      return own.replace(/^(a=group:BUNDLE .*?)\r?$/m, `$1${bundled}`) + extra.join("");
    };
    const offer = (sdp: string): Promise<string> =>
      manager.offer({ viewerId: "lib", session: "s1", sdp, stream: "main" });

    await expect(offer(appended(14, 0))).rejects.toMatchObject({
      code: "unsupported",
      message:
        "the offer has 17 media sections; this camera answers at most 16 (4 of them not rejected): offer from a fresh peer connection",
    });
    await expect(offer(appended(0, 2))).rejects.toMatchObject({
      code: "unsupported",
      message:
        "the offer has 5 media sections that are not rejected (port 0); this camera answers at most 4",
    });

    await waitForMore(v, "video", 30);
    await waitForMore(v, "audio", 25);
    expect(v.connected).toBe(true);
    expect(manager.stats.renegotiations).toBe(0);

    // At the bound (16 in all, 3 not rejected) it is a renegotiation like any other.
    const answer = await offer(appended(13, 0));
    const ports = answer
      .split(/(?=^m=)/m)
      .slice(1)
      .map((m) => /^m=\w+ (\d+)/.exec(m)?.[1]);
    expect(ports).toEqual(["9", "9", "9", ...Array<string>(13).fill("0")]);
    await waitForMore(v, "video", 30);
    const stats = manager.stats;
    expect(stats.renegotiations).toBe(1);
    expect(stats.sessionsCreated).toBe(1);
    expect(stats.sessions).toBe(1);
  });
});
