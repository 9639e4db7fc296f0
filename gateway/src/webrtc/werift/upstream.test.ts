import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import * as werift from "werift";
import {
  Connection,
  GenericNack,
  H264RtpPayload,
  RTCRtpReceiver,
  RtcpPacketConverter,
  TransportWideCC,
  MediaStreamTrack,
  RTCDtlsTransport,
  RTCPeerConnection,
  RTCRtpSender,
  RtcpPayloadSpecificFeedback,
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
import {
  parseTransportFeedback,
  serializeTransportFeedback,
} from "../../congestion/transport-feedback.js";
import { absSendTime } from "../send/rtp-extensions.js";
import { takeSenderFeedback } from "./sender-feedback.js";

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

  it("ICE restart with DTLS up: connect() leaves the ICE transport of a connected DTLS transport unstarted", async () => {
    const pc = peer({ iceServers: [] });
    pc.addTransceiver("video", { direction: "recvonly" });
    const dtls = pc.dtlsTransports[0];
    if (!dtls) throw new Error("no DTLS transport");
    // As after an ICE restart: DTLS still up, the ICE transport restarted (new).
    Reflect.set(dtls, "state", "connected");
    const start = vi.spyOn(dtls.iceTransport, "start").mockResolvedValue(undefined);
    await (Reflect.get(pc, "connect") as () => Promise<void>).call(pc);
    expect(dtls.iceTransport.state).toBe("new");
    expect(start).not.toHaveBeenCalled();
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

  it("NACKs taken from werift: its sender resends every NACKed packet it cached, each time", () => {
    const { sender, sent } = senderOnFakeTransport();
    for (let seq = 0; seq < 10; seq++) void sender.sendRtp(rtp(seq));
    sent.length = 0;
    const nack = new GenericNack({ senderSsrc: 1, mediaSourceSsrc: sender.ssrc, lost: [3, 4] });
    const packet = new RtcpTransportLayerFeedback({ feedback: nack });
    sender.handleRtcpPacket(packet);
    sender.handleRtcpPacket(packet);
    expect(sent).toEqual([3, 4, 3, 4]); // no bound on repeats
    // The router hands RTCP to senders by calling this method, so an own property takes it over.
    expect(String(new RtpRouter().routeRtcp)).toMatch(/recipient\.handleRtcpPacket\(/);
    const taken: number[][] = [];
    takeSenderFeedback(sender, {
      nack: (lost) => taken.push([...lost]),
      receiverReport: () => 0,
      remb: () => 0,
    });
    sent.length = 0;
    sender.handleRtcpPacket(packet);
    expect(sent).toEqual([]);
    expect(taken).toEqual([[3, 4]]);
  });

  it("transport-cc feedback: werift's results skip status vectors; its serializer gives the bytes back", () => {
    // Received 1, lost 2, received 3..: a 2-bit status vector chunk, as Chrome writes them.
    const bytes = serializeTransportFeedback({
      senderSsrc: 1,
      mediaSsrc: 2,
      referenceTime: 100,
      feedbackCount: 0,
      entries: [
        { sequence: 10, deltaTicks: 6 },
        { sequence: 11, deltaTicks: undefined },
        { sequence: 12, deltaTicks: 300 },
        { sequence: 13, deltaTicks: 1 },
      ],
    });
    const [packet] = RtcpPacketConverter.deSerialize(bytes);
    if (
      !(packet instanceof RtcpTransportLayerFeedback) ||
      !(packet.feedback instanceof TransportWideCC)
    ) {
      throw new Error("not parsed as transport-cc");
    }
    expect(packet.feedback.packetResults).toEqual([]); // no run length chunk, no results
    expect(packet.serialize().equals(bytes)).toBe(true);
    expect(
      parseTransportFeedback(packet.serialize()).packets.map((p) => p.arrivalUs !== undefined),
    ).toEqual([true, false, true, true]);
  });

  it("receiver transport-cc feedback: a receiver hands packets to whatever fills its receiverTWCC slot", () => {
    const handleRtp = String(Reflect.get(RTCRtpReceiver.prototype, "handleRTP"));
    expect(handleRtp).toMatch(/if \(this\.receiverTWCC\)/);
    expect(handleRtp).toMatch(/this\.receiverTWCC\.handleTWCC\(transportSequenceNumber\)/);
  });

  it("receiver NACKs: a receiver feeds each video packet to its nack handler's addPacket", () => {
    // handleRtpBySsrc is an instance property set in the constructor: read the class.
    expect(String(RTCRtpReceiver)).toMatch(/this\.nack\.addPacket\(packet\)/);
  });

  it("sending through werift: sendRtp numbers the packet at once and keeps our extensions", () => {
    const { sender } = senderOnFakeTransport();
    Reflect.set(sender, "headerExtensions", [
      new werift.RTCRtpHeaderExtensionParameters({
        id: 3,
        uri: werift.RTP_EXTENSION_URI.transportWideCC,
      }),
      new werift.RTCRtpHeaderExtensionParameters({
        id: 2,
        uri: werift.RTP_EXTENSION_URI.absSendTime,
      }),
    ]);
    const transport = sender.dtlsTransport;
    const ours = absSendTime(1_700_000_000_123_456);
    const packet = rtp(1);
    packet.header.extensions = [
      { id: 2, payload: ours },
      { id: 9, payload: Buffer.from([1, 2, 3]) },
    ];
    const before = transport.transportSequenceNumber;
    void sender.sendRtp(packet);
    expect(transport.transportSequenceNumber).toBe((before + 1) & 0xffff);
    const ids = packet.header.extensions.map((e) => e.id);
    expect(ids).toEqual([2, 3, 9]);
    expect(packet.header.extensions.find((e) => e.id === 2)?.payload).toEqual(ours);
  });

  it("sender report: runRtcp sends its report through the DTLS transport's sendRtcp", () => {
    expect(String(Reflect.get(RTCRtpSender.prototype, "runRtcp"))).toMatch(
      /this\.dtlsTransport\.sendRtcp\(packets\)/,
    );
  });

  it("RTX: an offer's rtx for a codec werift sends is answered with an FID group and kept on the sender", async () => {
    const rtxCodec = new werift.RTCRtpCodecParameters({ mimeType: "video/rtx", clockRate: 90_000 });
    const offerer = peer({ codecs: { video: [useH264(), rtxCodec] }, iceServers: [] });
    offerer.addTransceiver("video", { direction: "recvonly" });
    const offer = await offerer.createOffer();
    expect(offer.sdp).toMatch(/a=fmtp:97 apt=96/);
    const answerer = peer({
      codecs: {
        video: [
          useH264(),
          new werift.RTCRtpCodecParameters({
            mimeType: "video/rtx",
            clockRate: 90_000,
            payloadType: 97,
          }),
        ],
      },
      iceServers: [],
    });
    const { sender } = answerer.addTransceiver(new MediaStreamTrack({ kind: "video" }), {
      direction: "sendonly",
    });
    await answerer.setRemoteDescription(offer);
    const answer = await answerer.createAnswer();
    expect(answer.sdp).toContain(`a=ssrc-group:FID ${sender.ssrc} ${sender.rtxSsrc}`);
    expect(Reflect.get(sender, "rtxPayloadType")).toBe(97);
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
