import { describe, expect, it } from "vitest";
import { planOffer, type AcceptedOffer, type OfferPlan, type RefusedOffer } from "./offer-plan.js";
import { parseOfferSdp } from "./offer-sdp.js";

/**
 * Offers shaped as Chrome writes them (codec lines from a Chrome 120+
 * offer: VP8 + rtx, H.264 in several profiles with packetization-mode 1
 * and 0, opus + red for audio), cut to what the plan looks at.
 */
const header = ["v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0"];

const video = (mid: string, direction = "recvonly", port = 9): string[] => [
  `m=video ${port} UDP/TLS/RTP/SAVPF 96 97 102 104 106 112`,
  `a=mid:${mid}`,
  `a=${direction}`,
  "a=rtpmap:96 VP8/90000",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:102 H264/90000",
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
  "a=rtpmap:104 H264/90000",
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
  "a=rtpmap:106 H264/90000",
  "a=rtcp-fb:106 nack pli",
  "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  "a=rtpmap:112 H264/90000",
  "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f",
];

const vp8Only = (mid: string): string[] => [
  "m=video 9 UDP/TLS/RTP/SAVPF 97 96",
  `a=mid:${mid}`,
  "a=recvonly",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:96 VP8/90000",
];

const audio = (mid: string, port = 9): string[] => [
  `m=audio ${port} UDP/TLS/RTP/SAVPF 63 111`,
  `a=mid:${mid}`,
  "a=recvonly",
  "a=rtpmap:63 red/48000/2",
  "a=fmtp:63 111/111",
  "a=rtpmap:111 opus/48000/2",
  "a=fmtp:111 minptime=10;useinbandfec=1",
];

/** A section without one payload type (its m= entry and attribute lines). */
const without = (section: string[], pt: number): string[] =>
  section
    .filter((l) => !l.startsWith(`a=rtpmap:${pt} `) && !l.startsWith(`a=fmtp:${pt} `))
    .map((l) => (l.startsWith("m=") ? l.replace(` ${pt}`, "") : l));

/** An offer of these sections, bundled as browsers bundle them (RFC 9143). */
const offer = (...sections: string[][]) => {
  const mids = sections.flatMap((lines) =>
    lines.filter((l) => l.startsWith("a=mid:")).map((l) => l.slice(6)),
  );
  return unbundled([`a=group:BUNDLE ${mids.join(" ")}`], ...sections);
};

const unbundled = (session: string[], ...sections: string[][]) =>
  parseOfferSdp([...header, ...session, ...sections.flat(), ""].join("\r\n"));

const application = (mid: string): string[] => [
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
  `a=mid:${mid}`,
  "a=sctp-port:5000",
];

const BASELINE = { profileLevelId: "42e01f" };

function accepted(plan: OfferPlan): AcceptedOffer {
  if (!plan.accepted) throw new Error(`refused: ${plan.message}`);
  return plan;
}

function refused(plan: OfferPlan): RefusedOffer {
  if (plan.accepted) throw new Error(`accepted, sending in section ${plan.section.mid ?? "?"}`);
  return plan;
}

describe("planOffer", () => {
  it("sends in the video section with the stream's own profile and packetization-mode=1", () => {
    const plan = accepted(planOffer(offer(video("0")), "main", BASELINE));
    expect(plan.stream).toBe(BASELINE);
    expect(plan.section.mid).toBe("0");
    expect(plan.codec.payloadType).toBe(106);
    expect(plan.inactive).toEqual([]);
    const narrowed = parseOfferSdp(plan.sdp);
    expect(narrowed.media.map((m) => m.codecs.map((c) => c.payloadType))).toEqual([[106]]);
    expect(plan.sdp).toContain("a=rtcp-fb:106 nack pli\r\n");
    expect(plan.rtx).toBeUndefined();
  });

  it("keeps the RTX type that repairs the chosen codec (RFC 4588 apt)", () => {
    const withRtx = [
      ...video("0"),
      "a=rtpmap:107 rtx/90000",
      "a=fmtp:107 apt=106",
      "a=rtpmap:103 rtx/90000",
      "a=fmtp:103 apt=102",
    ].map((l) => (l.startsWith("m=video") ? `${l} 107 103` : l));
    const plan = accepted(planOffer(offer(withRtx), "main", BASELINE));
    expect(plan.rtx?.payloadType).toBe(107);
    const narrowed = parseOfferSdp(plan.sdp);
    expect(narrowed.media.map((m) => m.codecs.map((c) => c.payloadType))).toEqual([[106, 107]]);
  });

  it("answers every other audio and video section inactive with its first media codec", () => {
    const plan = accepted(planOffer(offer(audio("0"), vp8Only("1"), video("2")), "main", BASELINE));
    expect(plan.section.mid).toBe("2");
    // red (audio) and rtx (video) only repair another codec.
    expect(plan.inactive.map((s) => [s.kind, s.codec.name, s.codec.payloadType])).toEqual([
      ["audio", "opus", 111],
      ["video", "VP8", 96],
    ]);
    const narrowed = parseOfferSdp(plan.sdp);
    expect(narrowed.media.map((m) => m.codecs.map((c) => c.payloadType))).toEqual([
      [111],
      [96],
      [106],
    ]);
  });

  it("leaves a rejected (port 0) section as offered, outside the bundle", () => {
    const plan = accepted(
      planOffer(unbundled(["a=group:BUNDLE 1"], audio("0", 0), video("1")), "main", BASELINE),
    );
    expect(plan.inactive).toEqual([]);
    const narrowed = parseOfferSdp(plan.sdp);
    expect(narrowed.media.map((m) => m.codecs.map((c) => c.payloadType))).toEqual([
      [63, 111],
      [106],
    ]);
  });

  it("skips a video section the viewer only sends in, and takes the next receiving one", () => {
    const plan = accepted(
      planOffer(offer(video("0", "sendonly"), video("1", "sendrecv")), "main", BASELINE),
    );
    expect(plan.section.mid).toBe("1");
    expect(plan.inactive.map((s) => s.codec.payloadType)).toEqual([96]);
  });

  it("takes a compatible profile when the stream's own is not offered", () => {
    const plan = accepted(planOffer(offer(video("0")), "main", { profileLevelId: "4d0028" }));
    expect(plan.codec.payloadType).toBe(112); // Main stream, High receiver
  });

  it.each([
    ["no video section", offer(audio("0")), BASELINE, /no video section/],
    [
      "only a rejected (port 0) video section",
      offer(video("0", "recvonly", 0)),
      BASELINE,
      /no video/,
    ],
    ["an unknown stream", offer(video("0")), undefined, /no stream named "side"/],
    ["no receivable H.264", offer(vp8Only("0"), video("1", "sendonly")), BASELINE, /H.264/],
    [
      "a High stream and a baseline-only viewer",
      offer(without(video("0"), 112)),
      { profileLevelId: "640028" },
      /H.264/,
    ],
  ])("refuses %s as unsupported", (_name, sdp, stream, message) => {
    const plan = refused(planOffer(sdp, "side", stream));
    expect(plan.code).toBe("unsupported");
    expect(plan.message).toMatch(message);
  });

  it("says which stream or profile was missing", () => {
    const unknown = refused(planOffer(offer(video("0")), "side", undefined));
    expect(unknown.context).toEqual({ stream: "side" });
    const high = refused(
      planOffer(offer(without(video("0"), 112)), "main", { profileLevelId: "640028" }),
    );
    expect(high.context).toEqual({ profileLevelId: "640028" });
  });

  it("refuses an offer of 600 sections without BUNDLE (issue 10's flood) by its section count", () => {
    const sections = Array.from({ length: 600 }, (_, i) => video(String(i)));
    const plan = refused(planOffer(unbundled([], ...sections), "main", BASELINE));
    expect(plan.code).toBe("unsupported");
    expect(plan.message).toMatch(/600 media sections; this camera answers at most 16/);
  });

  it("accepts rejected sections beside video, audio and the DataChannel, up to 16 in all", () => {
    // A viewer that stopped its audio transceiver 13 times, each time adding
    // the next one before the stopped section could be recycled.
    const stopped = Array.from({ length: 13 }, (_, i) => audio(String(i + 3), 0));
    const plan = accepted(
      planOffer(offer(video("0"), audio("1"), application("2"), ...stopped), "main", BASELINE, {
        dataChannel: true,
      }),
    );
    expect(plan.section.mid).toBe("0");
    expect(plan.data?.mid).toBe("2");
    // Rejected sections are answered port 0, not inactive: nothing is set up for them.
    expect(plan.inactive.map((s) => s.kind)).toEqual(["audio"]);
  });

  it("refuses a 17th section even when it and all but one of the others are rejected", () => {
    const stopped = Array.from({ length: 16 }, (_, i) => audio(String(i + 1), 0));
    const plan = refused(planOffer(offer(video("0"), ...stopped), "main", BASELINE));
    expect(plan.code).toBe("unsupported");
    expect(plan.message).toBe(
      "the offer has 17 media sections; this camera answers at most 16 (4 of them not rejected): offer from a fresh peer connection",
    );
  });

  it("refuses a fifth section that is not rejected, and takes it once it is", () => {
    const sections = [video("0"), audio("1"), application("2"), audio("3")];
    const four = planOffer(offer(...sections), "main", BASELINE, { dataChannel: true });
    expect(accepted(four).inactive.map((s) => s.kind)).toEqual(["audio", "audio"]);
    const five = refused(
      planOffer(offer(...sections, video("4", "inactive")), "main", BASELINE, {
        dataChannel: true,
      }),
    );
    expect(five.message).toBe(
      "the offer has 5 media sections that are not rejected (port 0); this camera answers at most 4",
    );
    accepted(
      planOffer(offer(...sections, video("4", "inactive", 0)), "main", BASELINE, {
        dataChannel: true,
      }),
    );
  });

  it("refuses several sections that are not all bundled", () => {
    const none = refused(planOffer(unbundled([], audio("0"), video("1")), "main", BASELINE));
    expect(none.message).toMatch(/must bundle them all/);
    const partly = refused(
      planOffer(unbundled(["a=group:BUNDLE 1"], audio("0"), video("1")), "main", BASELINE),
    );
    expect(partly.message).toMatch(/must bundle them all/);
  });

  it("refuses a data channel section unless the device offers one", () => {
    const sdp = offer(video("0"), application("1"));
    expect(refused(planOffer(sdp, "main", BASELINE)).message).toMatch(/data channel/);
    expect(accepted(planOffer(sdp, "main", BASELINE, { dataChannel: true })).section.mid).toBe("0");
  });

  it("answers one unbundled section: bundling needs two", () => {
    expect(accepted(planOffer(unbundled([], video("0")), "main", BASELINE)).section.mid).toBe("0");
  });

  it("checks in the spec's order: no video before an unknown stream", () => {
    const plan = refused(planOffer(offer(audio("0")), "side", undefined));
    expect(plan.message).toMatch(/no video section/);
  });
});
