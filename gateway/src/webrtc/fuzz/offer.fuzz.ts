/**
 * Fuzz target "offer-sdp": a viewer's offer SDP as the session manager
 * handles it (session-manager.ts negotiate): parseOfferSdp, then planOffer
 * for a stream of a given profile (chooseH264Codec, h264-profile.ts), then
 * the narrowed offer werift gets. Properties: parsing throws only
 * SignalingError("bad-request"); planning never throws; an accepted plan
 * sends H.264 packetization-mode=1 in a receiving video section, and its
 * narrowed offer parses again, lists one payload type per answered section
 * with only that type's attributes, and plans to the same codec. werift's
 * own SDP parser then reads it; its exceptions are counted (the session
 * manager answers them `unsupported`), not failed.
 */
import fc from "fast-check";
import { SessionDescription } from "werift";
import { SignalingError } from "../../errors.js";
import {
  defineTarget,
  documentedThrow,
  expectThat,
  jsonCodec,
  type Notes,
} from "../../fuzz/fuzz-target.js";
import { mutatedText } from "../../fuzz/mutate.js";
import { isH264Mode1 } from "../h264-profile.js";
import { planOffer } from "../offer-plan.js";
import { parseOfferSdp } from "../offer-sdp.js";

const lines = (...l: string[]): string => [...l, ""].join("\r\n");
const HEADER = ["v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0"];

/** Codec lines as Chrome 120+ writes them (offer-plan.test.ts has the same shape). */
const CHROME = lines(
  ...HEADER,
  "a=group:BUNDLE 0 1",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 106 112",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=recvonly",
  "a=rtpmap:96 VP8/90000",
  "a=rtcp-fb:96 nack",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
  "a=rtpmap:102 H264/90000",
  "a=rtcp-fb:102 nack pli",
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
  "a=rtpmap:103 rtx/90000",
  "a=fmtp:103 apt=102",
  "a=rtpmap:104 H264/90000",
  "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f",
  "a=rtpmap:106 H264/90000",
  "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
  "a=rtpmap:112 H264/90000",
  "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f",
  "a=rtcp-fb:* transport-cc",
  "m=audio 9 UDP/TLS/RTP/SAVPF 63 111",
  "a=mid:1",
  "a=sendrecv",
  "a=rtpmap:63 red/48000/2",
  "a=fmtp:63 111/111",
  "a=rtpmap:111 opus/48000/2",
  "a=fmtp:111 minptime=10;useinbandfec=1",
);

/** Firefox orders VP8 first, H.264 mode 1 and 0, and bundles a data channel. */
const FIREFOX = lines(
  "v=0",
  "o=mozilla...THIS_IS_SDPARTA-99.0 1 0 IN IP4 0.0.0.0",
  "s=-",
  "t=0 0",
  "a=sendrecv",
  "m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98",
  "a=mid:0",
  "a=recvonly",
  "a=rtpmap:120 VP8/90000",
  "a=rtpmap:124 rtx/90000",
  "a=fmtp:124 apt=120",
  "a=rtpmap:121 VP9/90000",
  "a=rtpmap:126 H264/90000",
  "a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1",
  "a=rtpmap:97 H264/90000",
  "a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1",
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
  "a=mid:1",
);

/** Two video sections, the first inactive, the second with H.264 only. */
const TWO_VIDEOS = lines(
  ...HEADER,
  "m=video 0 UDP/TLS/RTP/SAVPF 96",
  "a=mid:0",
  "a=inactive",
  "a=rtpmap:96 VP8/90000",
  "m=video 9 UDP/TLS/RTP/SAVPF 102",
  "a=mid:1",
  "a=sendrecv",
  "a=rtpmap:102 h264/90000",
  "a=fmtp:102 packetization-mode=1;profile-level-id=640c1f",
);

const TOKENS = [
  "\r\n",
  "\n",
  "m=video 9 UDP/TLS/RTP/SAVPF 102",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "m=video 0 RTP/AVP 0",
  "a=rtpmap:102 H264/90000",
  "a=rtpmap:102 H264/90000/2",
  "a=fmtp:102 packetization-mode=1",
  "a=fmtp:102 profile-level-id=zz;packetization-mode=1",
  "a=fmtp:102 profile-level-id=4d001f",
  "a=fmtp:102 ;;=;packetization-mode=1;",
  "a=rtcp-fb:* nack",
  "a=recvonly",
  "a=sendonly",
  "a=inactive",
  "a=mid:",
  "o=- 1 1 IN IP4 0.0.0.0",
  "v=0",
  " 4294967296",
  "/2",
];

/** Stream profiles a camera may have: constrained baseline, baseline, main, high, and nonsense. */
const PROFILES = ["42e01f", "42001f", "4d001f", "640028", "f4001f", "zz"];

type Input = [sdp: string, profile: number];

function parsesAgain(sdp: string): ReturnType<typeof parseOfferSdp> {
  const reparsed = documentedThrow("parseOfferSdp of the narrowed offer", [], () =>
    parseOfferSdp(sdp),
  );
  if (!reparsed.ok) throw reparsed.error;
  return reparsed.value;
}

export const offerSdpTarget = defineTarget({
  name: "offer-sdp",
  about:
    "offer SDP through parseOfferSdp, planOffer (chooseH264Codec) and narrowOffer, then werift's SDP parser",
  arbitrary: fc.tuple(
    mutatedText([CHROME, FIREFOX, TWO_VIDEOS], { tokens: TOKENS, maxLength: 16_384 }),
    fc.integer({ min: 0, max: PROFILES.length - 1 }),
  ),
  codec: jsonCodec<Input>(),
  budgetMs: 250,
  corpusDir: "gateway/src/webrtc/fuzz/corpus/offer-sdp",
  check([sdp, profile]: Input, notes: Notes) {
    const parsed = documentedThrow("parseOfferSdp", [SignalingError], () => parseOfferSdp(sdp));
    if (!parsed.ok) {
      const code = parsed.error instanceof SignalingError ? parsed.error.code : parsed.error.name;
      expectThat(code === "bad-request", `parseOfferSdp threw SignalingError ${code}`);
      notes.add("offers refused: bad-request");
      return;
    }
    const offer = parsed.value;
    for (const m of offer.media) {
      expectThat(m.startLine < m.endLine, `section at line ${m.startLine} is empty`);
      for (const c of m.codecs) {
        expectThat(
          m.formats.includes(String(c.payloadType)),
          `codec ${c.payloadType} not on the m= line`,
        );
      }
    }
    const stream = { profileLevelId: PROFILES[profile] ?? "42e01f" };
    const plan = documentedThrow("planOffer", [], () => planOffer(offer, "main", stream));
    if (!plan.ok) throw plan.error;
    const unknown = documentedThrow("planOffer", [], () => planOffer(offer, "side", undefined));
    expectThat(
      !unknown.ok || !unknown.value.accepted,
      "a plan for a stream the gateway does not have",
    );
    if (!plan.value.accepted) {
      notes.add("offers refused: unsupported");
      return;
    }
    notes.add("offers accepted");
    const { section, codec, rtx, sdp: narrowed } = plan.value;
    // The chosen codec and, when offered for it, its RTX (RFC 4588).
    const kept = [codec.payloadType, ...(rtx ? [rtx.payloadType] : [])].map(String);
    expectThat(isH264Mode1(codec), `chose ${codec.name} without packetization-mode=1`);
    expectThat(
      section.kind === "video" &&
        section.port !== 0 &&
        (section.direction === "recvonly" || section.direction === "sendrecv"),
      `sends in a section that does not receive video (${section.kind}, ${section.direction})`,
    );
    const again = parsesAgain(narrowed);
    const index = offer.media.indexOf(section);
    const narrowedSection = again.media[index];
    expectThat(
      narrowedSection !== undefined && narrowedSection.formats.join() === kept.join(),
      `the narrowed section lists ${JSON.stringify(narrowedSection?.formats)}, not ${kept.join()}`,
    );
    for (const line of again.lines.slice(narrowedSection.startLine, narrowedSection.endLine)) {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\S+) /.exec(line)?.[1];
      expectThat(
        pt === undefined || pt === "*" || kept.includes(pt),
        `the narrowed section keeps "${line}"`,
      );
    }
    const replanned = planOffer(again, "main", stream);
    expectThat(
      replanned.accepted &&
        replanned.codec.payloadType === codec.payloadType &&
        replanned.codec.name === codec.name,
      "the narrowed offer plans to another codec",
    );
    try {
      SessionDescription.parse(narrowed);
    } catch (error) {
      notes.add(
        `werift SessionDescription.parse threw ${error instanceof Error ? error.name : typeof error}`,
      );
    }
  },
});
