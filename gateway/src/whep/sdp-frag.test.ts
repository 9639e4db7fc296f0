import { describe, expect, it } from "vitest";
import {
  answerWithCandidates,
  iceCredentials,
  parseSdpFrag,
  restartAnswerFrag,
  restartOffer,
  SdpFragError,
} from "./sdp-frag.js";

// The trickle and restart examples of draft-ietf-wish-whep-03 section 4.3.
const TRICKLE = [
  "a=group:BUNDLE 0 1",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "a=mid:0",
  "a=ice-ufrag:EsAw",
  "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1",
  "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1",
  "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2",
  "a=end-of-candidates",
  "",
].join("\r\n");

const OFFER = [
  "v=0",
  "o=- 5228595038118931041 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "a=ice-ufrag:zjkk",
  "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y",
  "a=mid:0",
  "a=candidate:1 1 udp 1 192.0.2.9 1000 typ host",
  "a=end-of-candidates",
  "m=video 0 UDP/TLS/RTP/SAVPF 96",
  "a=ice-ufrag:zjkk",
  "a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y",
  "a=mid:1",
  "a=bundle-only",
  "",
].join("\r\n");

describe("trickle-ice-sdpfrag (RFC 8840)", () => {
  it("reads the draft's trickle example: credentials, candidates with their mid, end-of-candidates", () => {
    const frag = parseSdpFrag(TRICKLE);
    expect(frag.ufrag).toBe("EsAw");
    expect(frag.pwd).toBe("P2uYro0UCOQ4zxjKXaWCBui1");
    expect(frag.endOfCandidates).toBe(true);
    expect(frag.candidates).toHaveLength(2);
    expect(frag.candidates[0]).toEqual({
      candidate:
        "candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1",
      sdpMid: "0",
      sdpMLineIndex: 0,
    });
  });

  it("takes LF line ends and a fragment of candidates only", () => {
    const frag = parseSdpFrag("a=candidate:1 1 udp 1 10.0.0.1 9 typ host\n");
    expect(frag.candidates[0]?.sdpMid).toBeUndefined();
    expect(frag.ufrag).toBeUndefined();
  });

  it("refuses what is not a fragment, with the line", () => {
    for (const bad of [
      "",
      "hello",
      "a=candidate:1 1 udp\r\n",
      "a=ice-ufrag:a b\r\n",
      "a=ice-pwd:short\r\n",
    ]) {
      expect(() => parseSdpFrag(bad), bad).toThrow(SdpFragError);
    }
  });

  it("builds the restart offer: new credentials everywhere, old candidates out, new ones in", () => {
    const frag = parseSdpFrag(TRICKLE);
    const offer = restartOffer(OFFER, { ...frag, ufrag: "EsAw", pwd: "P2uYro0UCOQ4zxjKXaWCBui1" });
    expect(iceCredentials(offer)).toEqual({ ufrag: "EsAw", pwd: "P2uYro0UCOQ4zxjKXaWCBui1" });
    expect(offer).not.toContain("zjkk");
    expect(offer).not.toContain("192.0.2.9");
    expect(offer.match(/^a=candidate:/gm)).toHaveLength(2);
    expect(offer.match(/^a=end-of-candidates/gm)).toHaveLength(1);
    // The candidates sit in section mid 0, before the video section.
    expect(offer.indexOf("192.0.2.1")).toBeLessThan(offer.indexOf("m=video"));
    expect(offer.startsWith("v=0\r\no=- 5228595038118931041 2")).toBe(true);
  });

  it("writes our candidates into the answer's section by mid, and the restart answer fragment", () => {
    const answer = OFFER.replace(/^a=candidate.*\r\n|^a=end-of-candidates\r\n/gm, "");
    const full = answerWithCandidates(
      answer,
      [
        { candidate: "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", sdpMid: "0" },
        { candidate: "candidate:2 1 udp 2130706431 127.0.0.1 5001 typ host", sdpMid: null },
      ],
      true,
    );
    const audio = full.slice(0, full.indexOf("m=video"));
    expect(audio.match(/^a=candidate:/gm)).toHaveLength(2);
    expect(full.match(/^a=end-of-candidates/gm)).toHaveLength(2);
    const frag = restartAnswerFrag(full);
    expect(parseSdpFrag(frag)).toMatchObject({ ufrag: "zjkk", endOfCandidates: true });
    expect(frag).toContain("a=group:BUNDLE 0 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n");
    expect(frag).not.toContain("m=video");
  });
});
