import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as werift from "werift";
import {
  Connection,
  GenericNack,
  H264RtpPayload,
  MediaStreamTrack,
  RTCDtlsTransport,
  RTCPeerConnection,
  RTCRtpSender,
  RtcpPayloadSpecificFeedback,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpTransportLayerFeedback,
  RtpHeader,
  RtpPacket,
  RtpRouter,
  ntpTime,
  useH264,
  useOPUS,
} from "werift";
import { unixUsFromNtp } from "../../rtp/ntp.js";
import { FIR_FMT, fullIntraRequest } from "./fir.js";
import { depacketizeH264 } from "./h264-depacketizer.js";
import { WERIFT_RTP_CACHE } from "./sender-cache.js";
import { senderRoundTripMs } from "./sender-rtt.js";

/**
 * Canaries for docs/werift.md: each test pins down a werift 0.24.4
 * behaviour one of our workarounds exists for, and fails once werift
 * changes it. A failure here is news, not a bug: read the item in
 * docs/werift.md, check whether the workaround is still needed, and drop
 * it (with this test) or adapt both. Tests use werift's own classes, with
 * stand-ins only for the network around them.
 */

/** The version docs/werift.md was checked against. */
const CHECKED_VERSION = "0.24.4";

function installedWeriftVersion(): string {
  // werift's exports map hides package.json; walk up from its entry point.
  let dir = dirname(createRequire(import.meta.url).resolve("werift"));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "werift") return pkg.version ?? "";
    } catch {
      // not the package root yet
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("werift's package.json not found");
    dir = up;
  }
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of closers.splice(0)) await close();
});

function peer(config: ConstructorParameters<typeof RTCPeerConnection>[0]): RTCPeerConnection {
  const pc = new RTCPeerConnection(config);
  closers.push(() => pc.close());
  return pc;
}

/** An RTCRtpSender on a stand-in DTLS transport that records what werift would send. */
function senderOnFakeTransport() {
  const sent: number[] = [];
  const sender = new RTCRtpSender("video");
  const transport = {
    state: "connected",
    transportSequenceNumber: 0,
    sendRtp: (_payload: Buffer, header: RtpHeader) => {
      sent.push(header.sequenceNumber);
      return Promise.resolve(12);
    },
    sendRtcp: () => Promise.resolve(),
  };
  Reflect.set(sender, "dtlsTransport", transport);
  sender.codec = new werift.RTCRtpCodecParameters({
    mimeType: "video/H264",
    clockRate: 90_000,
    payloadType: 96,
  });
  closers.push(() => {
    sender.stop(); // ends its sender-report loop
    return Promise.resolve();
  });
  return { sender, sent };
}

const rtp = (sequenceNumber: number): RtpPacket =>
  new RtpPacket(new RtpHeader({ sequenceNumber, timestamp: 0, payloadType: 96 }), Buffer.from([1]));

describe(`werift ${CHECKED_VERSION}, as docs/werift.md describes it`, () => {
  it("is the version installed (on an upgrade, go through docs/werift.md)", () => {
    expect(installedWeriftVersion()).toBe(CHECKED_VERSION);
  });

  it("DTLS role: answers actpass with setup:active and sleeps 100 ms as DTLS client", async () => {
    const offerer = peer({ codecs: { video: [useH264()] }, iceServers: [] });
    offerer.addTransceiver("video", { direction: "recvonly" });
    const offer = await offerer.createOffer();
    expect(offer.sdp).toMatch(/^a=setup:actpass\r?$/m);
    const answerer = peer({ codecs: { video: [useH264()] }, iceServers: [] });
    answerer.addTransceiver(new MediaStreamTrack({ kind: "video" }), { direction: "sendonly" });
    await answerer.setRemoteDescription(offer);
    const answer = await answerer.createAnswer();
    expect(answer.sdp).toMatch(/^a=setup:active\r?$/m);
    // No timing in tests: the sleep is read from werift's own code.
    expect(String(Reflect.get(RTCDtlsTransport.prototype, "start"))).toMatch(
      /setTimeout\w*\)?\(100\)/,
    );
  });

  it("early DTLS: a DTLS transport reads nothing from ICE before start()", () => {
    const onData = new werift.Event<[Buffer]>();
    const ice = { connection: { onData }, role: "controlled" };
    new RTCDtlsTransport({}, ice as unknown as werift.RTCIceTransport);
    const subscribers = Reflect.get(onData, "event") as { stack: unknown[] };
    expect(subscribers.stack.length).toBe(0);
  });

  it("sender report: sendRtp stamps ntpTimestamp with the send time, synchronously", () => {
    const { sender } = senderOnFakeTransport();
    expect(Reflect.get(sender, "ntpTimestamp")).toBe(0n);
    void sender.sendRtp(rtp(1));
    const stamped: unknown = Reflect.get(sender, "ntpTimestamp");
    expect(typeof stamped).toBe("bigint");
    const ageS = Math.abs(Date.now() / 1000 - unixUsFromNtp(stamped as bigint) / 1e6);
    expect(ageS).toBeLessThan(2);
  });

  it("sender RTT: a receiver report answering our sender report sets the private rtt, in seconds", () => {
    const { sender } = senderOnFakeTransport();
    expect(senderRoundTripMs(sender)).toBeUndefined();
    // As if our last sender report (compact NTP 0x1234) went out 80 ms ago
    // and the receiver held it 30 ms (DLSR in 1/65536 s) before reporting.
    Reflect.set(sender, "lastSRtimestamp", 0x1234);
    Reflect.set(sender, "lastSentSRTimestamp", Date.now() / 1000 - 0.08);
    const report = new RtcpReceiverInfo({
      ssrc: sender.ssrc,
      fractionLost: 0,
      packetsLost: 0,
      highestSequence: 0,
      jitter: 0,
      lsr: 0x1234,
      dlsr: Math.round(0.03 * 65536),
    });
    sender.handleRtcpPacket(new RtcpRrPacket({ ssrc: 1, reports: [report] }));
    const rtt = senderRoundTripMs(sender);
    expect(rtt).toBeGreaterThan(40);
    expect(rtt).toBeLessThan(1000);
  });

  it("sender report and abs-send-time: ntpTime() writes the fraction's decimal digits", () => {
    // An instant half a second past a whole NTP second: a binary fraction of ~0.5.
    const ntpEpochMs = Date.UTC(1900, 0, 1);
    const target = Math.floor((Date.now() - ntpEpochMs) / 1000) * 1000 + 500;
    vi.spyOn(performance, "now").mockReturnValue(target + ntpEpochMs - performance.timeOrigin);
    const ntp = ntpTime();
    expect(Number(ntp >> 32n)).toBe(Math.floor(target / 1000)); // the mocked clock was read
    expect(Number(ntp & 0xffff_ffffn) / 2 ** 32).toBeLessThan(0.01);
  });

  it("FIR from the transport: the router hands a conformant FIR to no sender", () => {
    const router = new RtpRouter();
    const handled: unknown[] = [];
    const sender = { ssrc: 0x1234_5678, handleRtcpPacket: (p: unknown) => handled.push(p) };
    router.registerRtpSender(sender as unknown as RTCRtpSender);
    const [fir] = fullIntraRequest(0x0abc_def0, sender.ssrc, 1);
    if (!fir) throw new Error("no FIR packet");
    router.routeRtcp(fir);
    expect(handled).toEqual([]);
  });

  it("FIR packets as bytes: FullIntraRequest is not exported, but werift parses ours", () => {
    expect(Object.keys(werift)).not.toContain("FullIntraRequest");
    const [fir] = fullIntraRequest(1, 0xfeed_beef, 7);
    expect(fir).toBeInstanceOf(RtcpPayloadSpecificFeedback);
    const feedback = (fir as RtcpPayloadSpecificFeedback).feedback;
    expect(feedback.count).toBe(FIR_FMT);
    expect("fir" in feedback && feedback.fir).toEqual([{ ssrc: 0xfeed_beef, sequenceNumber: 7 }]);
  });

  it("default STUN server: an ICE transport gets Google's even with iceServers: []", () => {
    const pc = peer({ iceServers: [] });
    pc.addTransceiver("video", { direction: "recvonly" });
    expect(pc.iceTransports[0]?.connection.stunServer).toEqual(["stun.l.google.com", 19302]);
  });

  it("close after gathering: a close() during gathering leaves the sockets bound later open", async () => {
    const connection = new Connection(false, {
      useIpv4: false,
      useIpv6: false,
      additionalHostAddresses: ["127.0.0.1"],
    });
    connection.stunServer = undefined;
    const gathering = connection.gatherCandidates();
    await connection.close();
    await gathering;
    const leaked = Reflect.get(connection, "protocols") as unknown[];
    await connection.close(); // closes what the first close() missed
    expect(leaked.length).toBe(1);
  });

  it(`sender NACK cache: werift resends only the last ${WERIFT_RTP_CACHE} packets`, () => {
    const { sender, sent } = senderOnFakeTransport();
    for (let seq = 0; seq <= WERIFT_RTP_CACHE; seq++) void sender.sendRtp(rtp(seq));
    sent.length = 0;
    const nack = new GenericNack({ senderSsrc: 1, mediaSourceSsrc: sender.ssrc, lost: [0, 1] });
    sender.handleRtcpPacket(new RtcpTransportLayerFeedback({ feedback: nack }));
    expect(sent).toEqual([1]);
  });

  it("H.264 depacketizer payload: undefined until the last FU-A fragment", () => {
    // FU-A (type 28) start and end fragments of one IDR slice (type 5).
    const start = Buffer.from([0x7c, 0x85, 0xaa]);
    const end = Buffer.from([0x7c, 0x45, 0xbb]);
    const first = H264RtpPayload.deSerialize(start);
    expect(Reflect.get(first, "payload")).toBeUndefined();
    const viaWrapper = depacketizeH264(start, undefined);
    expect(viaWrapper.annexB).toBeUndefined();
    const last = depacketizeH264(end, viaWrapper.fragment);
    expect([...(last.annexB ?? [])]).toEqual([0, 0, 0, 1, 0x65, 0xaa, 0xbb]);
  });

  it("codec choice: werift matches codecs by MIME type alone and sends with the first offered", async () => {
    const mode0 = useH264({
      payloadType: 104,
      parameters: "profile-level-id=42e01f;packetization-mode=0",
    });
    const offerer = peer({ codecs: { video: [mode0, useH264({ payloadType: 106 })] } });
    offerer.addTransceiver("video", { direction: "recvonly" });
    const offer = await offerer.createOffer();
    const answerer = peer({ codecs: { video: [useH264()] }, iceServers: [] });
    const { sender } = answerer.addTransceiver(new MediaStreamTrack({ kind: "video" }), {
      direction: "sendonly",
    });
    await answerer.setRemoteDescription(offer);
    await answerer.createAnswer();
    expect(answerer.getTransceivers()[0]?.codecs.map((c) => c.payloadType)).toEqual([104, 106]);
    // Its own codec says packetization-mode=1; it would send with mode 0.
    expect(sender.codec?.payloadType).toBe(104);
  });

  it("sections we do not send in: an offer with a section werift has no codec for fails whole", async () => {
    const offerer = peer({ codecs: { audio: [useOPUS()], video: [useH264()] }, iceServers: [] });
    offerer.addTransceiver("audio", { direction: "recvonly" });
    offerer.addTransceiver("video", { direction: "recvonly" });
    const offer = await offerer.createOffer();
    const answerer = peer({ codecs: { audio: [], video: [useH264()] }, iceServers: [] });
    answerer.addTransceiver(new MediaStreamTrack({ kind: "video" }), { direction: "sendonly" });
    await expect(answerer.setRemoteDescription(offer)).rejects.toThrow(/negotiate codecs failed/);
  });
});
