import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { unixUsFromNtp } from "../rtp/ntp.js";
import { encodeTestClip, type ClipAccessUnit } from "../testing/test-clip.js";
import { AvViewer } from "./testing/av-viewer.js";
import { ClipSource } from "./testing/clip-source.js";
import { waitFor } from "./testing/harness.js";
import { OPUS_SILENCE, OpusClockSource, RecordingSink } from "./testing/opus-clock-source.js";
import { LIP_SYNC_MAX_PLAYOUT_DELAY_MS } from "./send/video-sender.js";
import { SessionManager, type SessionManagerOptions } from "./session-manager.js";
import type { ViewerSession } from "./viewer-session.js";
import { mediaSections, sectionKinds } from "./testing/sdp-sections.js";

/**
 * Audio and renegotiation on the gateway's side, with a werift viewer that
 * adds sections mid-call like a browser does (the browser itself is in
 * web-viewer/test/audio.test.ts).
 */

let clip: ClipAccessUnit[];
let source: ClipSource;
let microphone: OpusClockSource;
let speaker: RecordingSink;
let manager: SessionManager;
const viewers: AvViewer[] = [];

beforeAll(async () => {
  clip = await encodeTestClip({ frames: 30, gop: 30 });
});

function setUp(options: Partial<SessionManagerOptions> = {}): void {
  source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
  microphone = new OpusClockSource();
  speaker = new RecordingSink();
  manager = new SessionManager({
    streams: { main: source },
    ice: { hostAddresses: ["127.0.0.1"] },
    audio: { microphone, speaker },
    control: () => undefined,
    ...options,
  });
}

function viewer(id = "v1"): AvViewer {
  const v = new AvViewer(manager, id);
  viewers.push(v);
  return v;
}

/** The first `kind` section of an SDP text. */
function sectionOf(sdp: string, kind: "audio" | "video"): string {
  return sdp.split(/(?=^m=)/m).find((m) => m.startsWith(`m=${kind} `)) ?? "";
}

afterEach(async () => {
  for (const v of viewers.splice(0)) await v.close();
  await manager.close();
  await source.close();
  await microphone.close();
});

describe("renegotiation on the same peer connection", () => {
  it("adds audio mid-call on the same DTLS transport, and the video goes on without a new key frame", async () => {
    setUp();
    const v = viewer();
    await v.negotiate();
    await waitFor(() => v.counts.keyFrames > 0 && v.counts.video > 60, 15_000);
    const dtls = v.dtlsTransports[0];
    const keyFramesAsked = source.keyFrameRequests;
    const keyFramesSeen = v.counts.keyFrames;
    expect(microphone.running).toBe(false);

    v.addAudio("recvonly");
    const answer = await v.negotiate();
    expect(answer).toMatch(/^m=audio \d+ \S+ \d+\r?$/m);
    expect(answer).toMatch(/a=sendonly/);
    const videoBefore = v.counts.video;
    await waitFor(() => v.counts.audio > 25 && v.counts.video > videoBefore + 60, 15_000);

    expect(v.dtlsTransports).toHaveLength(1);
    expect(v.dtlsTransports[0]).toBe(dtls);
    expect(v.connected).toBe(true);
    expect(source.keyFrameRequests).toBe(keyFramesAsked);
    // The clip's own GOP is 30 frames: count IDRs per second of video, not zero.
    const idrsPerSecond =
      (v.counts.keyFrames - keyFramesSeen) / ((v.counts.video - videoBefore) / 30);
    expect(idrsPerSecond).toBeLessThan(3);
    expect(microphone.running).toBe(true);
    const stats = manager.stats;
    expect(stats.sessionsCreated).toBe(1);
    expect(stats.renegotiations).toBe(1);
    expect(stats.sessionsEnded["replaced-silently"]).toBe(0);
    expect(stats.audioPacketsSent).toBeGreaterThan(25);
  });

  it("turns audio off mid-call (a=inactive) and on again: the microphone stops and restarts, the video goes on on the same DTLS transport without a new key frame", async () => {
    setUp();
    const v = viewer();
    const audio = v.addAudio("recvonly");
    await v.negotiate();
    await waitFor(() => v.counts.audio > 10 && v.counts.video > 30, 15_000);
    const dtls = v.dtlsTransports[0];
    const keyFramesAsked = source.keyFrameRequests;

    audio.setDirection("inactive");
    const off = await v.negotiate();
    expect(sectionOf(off, "audio")).toMatch(/^m=audio 9 [\s\S]*^a=inactive\r?$/m);
    await waitFor(() => !microphone.running, 15_000);
    const videoBefore = v.counts.video;
    await waitFor(() => v.counts.video > videoBefore + 60 && v.playoutDelay?.maxMs === 100, 15_000);

    audio.setDirection("recvonly");
    const on = await v.negotiate();
    expect(sectionOf(on, "audio")).toMatch(/^a=sendonly\r?$/m);
    const audioBefore = v.counts.audio;
    await waitFor(() => v.counts.audio > audioBefore + 25 && microphone.running, 15_000);

    expect(v.dtlsTransports).toHaveLength(1);
    expect(v.dtlsTransports[0]).toBe(dtls);
    expect(v.connected).toBe(true);
    expect(source.keyFrameRequests).toBe(keyFramesAsked);
    const stats = manager.stats;
    expect(stats.renegotiations).toBe(2);
    expect(stats.sessionsCreated).toBe(1);
    expect(stats.sessionsEnded["replaced-silently"]).toBe(0);
  });

  it("answers a stopped audio section with port 0 and sends audio again in the section the viewer adds next, on the same peer connection", async () => {
    setUp();
    const v = viewer();
    const first = v.addAudio("recvonly");
    await v.negotiate();
    await waitFor(() => v.counts.audio > 10 && v.counts.video > 30, 15_000);
    const dtls = v.dtlsTransports[0];
    const keyFramesAsked = source.keyFrameRequests;

    // A stopped transceiver's section is rejected: port 0 (RFC 8829 section 5.2.2).
    first.stop();
    const off = await v.negotiate();
    expect(sectionOf(off, "audio")).toMatch(/^m=audio 0 /);
    await waitFor(() => !microphone.running, 15_000);
    const videoBefore = v.counts.video;
    await waitFor(() => v.counts.video > videoBefore + 60, 15_000);

    v.addAudio("recvonly");
    const on = await v.negotiate();
    // werift as the viewer takes the stopped section's mid again (not JSEP's
    // recycling with a new mid: that is libwebrtc's, renegotiation-libwebrtc.test.ts).
    expect(sectionOf(on, "audio")).toMatch(/^m=audio 9 [\s\S]*^a=sendonly\r?$/m);
    const audioBefore = v.counts.audio;
    await waitFor(() => v.counts.audio > audioBefore + 25, 15_000);

    expect(v.dtlsTransports[0]).toBe(dtls);
    expect(source.keyFrameRequests).toBe(keyFramesAsked);
    const stats = manager.stats;
    expect(stats.renegotiations).toBe(2);
    expect(stats.sessionsCreated).toBe(1);
    expect(stats.audioPacketsSent).toBeGreaterThan(35);
  });

  it("takes a fourth section: audio stopped and a new audio section appended behind video and the DataChannel, on the same peer connection", async () => {
    setUp();
    const v = viewer();
    const first = v.addAudio("recvonly");
    v.openControl();
    await v.negotiate();
    await waitFor(() => v.counts.audio > 10 && v.counts.video > 30, 15_000);
    const dtls = v.dtlsTransports[0];
    const keyFramesAsked = source.keyFrameRequests;

    // Stopped and replaced in one offer: the stopped section is still the
    // current one, so the new transceiver cannot recycle it and is appended.
    first.stop();
    v.addAudio("recvonly");
    const answer = await v.negotiate();
    expect(sectionKinds(answer)).toEqual(["video 9", "audio 0", "application 9", "audio 9"]);
    expect(mediaSections(answer)[3]).toMatch(/^a=sendonly\r?$/m);
    const audioBefore = v.counts.audio;
    const videoBefore = v.counts.video;
    await waitFor(
      () => v.counts.audio > audioBefore + 25 && v.counts.video > videoBefore + 30,
      15_000,
    );

    expect(v.dtlsTransports[0]).toBe(dtls);
    expect(source.keyFrameRequests).toBe(keyFramesAsked);
    const stats = manager.stats;
    expect(stats.renegotiations).toBe(1);
    expect(stats.sessionsCreated).toBe(1);
    expect(stats.sessionsEnded["replaced-silently"]).toBe(0);
  });

  it("stops playing talk-back when the viewer takes it off mid-call, and goes on sending it the microphone", async () => {
    setUp();
    const v = viewer();
    const audio = v.addAudio("sendrecv");
    await v.negotiate();
    v.talk();
    await waitFor(() => speaker.played.length > 10 && v.counts.audio > 10, 15_000);

    audio.setDirection("recvonly");
    const answer = await v.negotiate();
    expect(sectionOf(answer, "audio")).toMatch(/^a=sendonly\r?$/m);
    // Whatever was queued before the answer plays out; then nothing more.
    let at = v.counts.audio;
    await waitFor(() => v.counts.audio > at + 25, 15_000);
    const played = speaker.played.length;
    at = v.counts.audio;
    await waitFor(() => v.counts.audio > at + 50, 15_000);
    expect(speaker.played.length).toBe(played);
    expect(manager.stats.renegotiations).toBe(1);
    expect(manager.stats.sessionsCreated).toBe(1);
  });

  it("restarts ICE in place on a call with audio: same DTLS transport, media goes on, and it renegotiates after", async () => {
    setUp();
    const v = viewer();
    v.addAudio("recvonly");
    await v.negotiate();
    await waitFor(() => v.counts.video > 30 && v.counts.audio > 10, 15_000);
    const dtls = v.dtlsTransports[0];
    const first = v.pc.localDescription?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1];

    const answer = await v.restartIce();
    expect(v.pc.localDescription?.sdp.match(/a=ice-ufrag:(\S+)/)?.[1]).not.toBe(first);
    expect(answer).toMatch(/^m=audio [\s\S]*a=sendonly/m);
    const before = { ...v.counts };
    await waitFor(
      () => v.counts.video > before.video + 30 && v.counts.audio > before.audio + 25,
      15_000,
    );
    expect(v.dtlsTransports[0]).toBe(dtls);

    // The restart's offer is the one the next is judged against: push-to-talk
    // after it is a renegotiation, not a replacement.
    await v.enableTalk();
    expect(await v.negotiate()).toMatch(/a=sendrecv/);
    v.talk();
    await waitFor(() => speaker.played.length > 10, 15_000);
    const stats = manager.stats;
    expect(stats.iceRestarts).toBe(1);
    expect(stats.renegotiations).toBe(1);
    expect(stats.sessionsCreated).toBe(1);
    expect(stats.sessionsEnded["replaced-silently"]).toBe(0);
  });

  it("replaces the session for an offer from a new peer connection", async () => {
    setUp();
    const first = viewer();
    await first.negotiate();
    await waitFor(() => first.counts.video > 10, 15_000);
    await first.close();
    viewers.splice(0);
    const second = viewer();
    second.addAudio("recvonly");
    await second.negotiate();
    await waitFor(() => second.counts.video > 10 && second.counts.audio > 10, 15_000);
    const stats = manager.stats;
    expect(stats.sessionsCreated).toBe(2);
    expect(stats.renegotiations).toBe(0);
    expect(stats.sessionsEnded["replaced-silently"]).toBe(1);
  });

  it("takes talk-back added mid-call to the speaker, with the viewer's RTP timestamps", async () => {
    setUp();
    const v = viewer();
    v.addAudio("recvonly");
    await v.negotiate();
    await waitFor(() => v.counts.audio > 10, 15_000);
    expect(speaker.played).toHaveLength(0);
    // Push-to-talk: the same audio section becomes sendrecv.
    await v.enableTalk();
    const answer = await v.negotiate();
    expect(answer).toMatch(/a=sendrecv/);
    v.talk();
    await waitFor(() => speaker.played.length > 10, 15_000);
    const steps = speaker.played
      .slice(1)
      .map((p, i) => (p.timestamp - (speaker.played[i]?.timestamp ?? 0)) >>> 0);
    expect(steps.every((step) => step === 960)).toBe(true);
    expect(manager.stats.renegotiations).toBe(1);
    expect(manager.stats.sessionsCreated).toBe(1);
  });

  it("opens a DataChannel that a renegotiation added (werift SCTP workaround)", async () => {
    const channels: ViewerSession[] = [];
    const messages: string[] = [];
    setUp({
      control: (channel, session) => {
        channels.push(session);
        channel.onMessage.subscribe((m) => {
          messages.push(m.toString());
          channel.send(`echo ${m.toString()}`);
        });
      },
    });
    const v = viewer();
    await v.negotiate();
    await waitFor(() => v.counts.video > 10, 15_000);
    const channel = v.openControl();
    const replies: string[] = [];
    channel.onMessage.subscribe((m) => replies.push(m.toString()));
    await v.negotiate();
    await waitFor(() => channel.readyState === "open", 15_000);
    channel.send("hello");
    await waitFor(() => replies.length > 0, 10_000);
    expect(replies).toEqual(["echo hello"]);
    expect(messages).toEqual(["hello"]);
    expect(channels).toHaveLength(1);
    expect(manager.stats.renegotiations).toBe(1);
  });
});

describe("audio", () => {
  it("captures once for all listeners and stops the microphone when the last one leaves", async () => {
    setUp();
    const a = viewer("a");
    a.addAudio("recvonly");
    await a.negotiate();
    const b = viewer("b");
    b.addAudio("recvonly");
    await b.negotiate();
    await waitFor(() => a.counts.audio > 20 && b.counts.audio > 20, 15_000);
    expect(microphone.startCount).toBe(1);
    manager.bye("a", "s1");
    manager.bye("b", "s1");
    await waitFor(() => !microphone.running);
  });

  it("plays talk-back from a sendrecv section, one talker at a time", async () => {
    setUp();
    const a = viewer("a");
    a.addAudio("sendrecv");
    await a.negotiate();
    const b = viewer("b");
    b.addAudio("sendrecv");
    await b.negotiate();
    await waitFor(() => a.connected && b.connected, 15_000);
    a.talk();
    await waitFor(() => speaker.played.length > 10, 15_000);
    b.talk();
    await waitFor(() => manager.stats.talkPacketsBusy > 10, 15_000);
    expect(speaker.played.every((p) => p.payload.equals(OPUS_SILENCE))).toBe(true);
    // a's packets only: its timestamps run on in 960-sample steps.
    const steps = speaker.played
      .slice(1)
      .map((p, i) => (p.timestamp - (speaker.played[i]?.timestamp ?? 0)) >>> 0);
    expect(steps.every((s) => s === 960)).toBe(true);
  });

  it("answers audio inactive when the device has no microphone and no speaker", async () => {
    setUp({ audio: {} });
    const v = viewer();
    v.addAudio("sendrecv");
    const answer = await v.negotiate();
    expect(answer).toMatch(/m=audio[\s\S]*a=(inactive|recvonly)/);
    await waitFor(() => v.counts.video > 10, 15_000);
    expect(v.counts.audio).toBe(0);
  });

  it("lets the viewer's lip sync hold the video back while it listens: playout-delay 0-100 ms, 0-500 ms once it listens", async () => {
    setUp();
    const v = viewer();
    await v.negotiate();
    await waitFor(() => v.counts.video > 10, 15_000);
    expect(v.playoutDelay).toEqual({ minMs: 0, maxMs: 100 });

    v.addAudio("recvonly");
    await v.negotiate();
    await waitFor(() => v.counts.audio > 5 && v.playoutDelay?.maxMs !== 100, 15_000);
    expect(v.playoutDelay).toEqual({ minMs: 0, maxMs: LIP_SYNC_MAX_PLAYOUT_DELAY_MS });
  });

  it("maps capture time to NTP the same way in the audio and the video sender reports", async () => {
    setUp();
    const v = viewer();
    v.addAudio("recvonly");
    await v.negotiate();
    await waitFor(
      () =>
        v.reports.filter((r) => r.kind === "audio").length >= 2 &&
        v.reports.filter((r) => r.kind === "video").length >= 2,
      20_000,
    );
    for (const [kind, rate] of [
      ["audio", 48],
      ["video", 90],
    ] as const) {
      const [r1, r2] = v.reports.filter((r) => r.kind === kind);
      if (!r1 || !r2) throw new Error("no reports");
      const ntpMs = (unixUsFromNtp(r2.ntpTimestamp) - unixUsFromNtp(r1.ntpTimestamp)) / 1000;
      const rtpMs = ((r2.rtpTimestamp - r1.rtpTimestamp) >>> 0) / rate;
      expect(Math.abs(ntpMs - rtpMs)).toBeLessThan(1);
      const ageMs = Date.now() - unixUsFromNtp(r2.ntpTimestamp) / 1000;
      expect(ageMs).toBeGreaterThanOrEqual(-5);
      expect(ageMs).toBeLessThan(5000);
    }
  });
});
