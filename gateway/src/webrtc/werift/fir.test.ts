import { RtcpPacketConverter } from "werift";
import { describe, expect, it } from "vitest";
import { asksForKeyFrame, fullIntraRequest } from "./fir.js";

const MEDIA_SSRC = 0x1234_5678;

/** Viewer RTCP as bytes, through werift's parser as the DTLS transport hands it over. */
function received(hex: string) {
  return RtcpPacketConverter.deSerialize(Buffer.from(hex, "hex"));
}

describe("asksForKeyFrame", () => {
  it("finds a FIR for the stream's SSRC in the bytes werift parses", () => {
    const bytes = Buffer.concat(fullIntraRequest(1, MEDIA_SSRC, 7).map((p) => p.serialize()));
    const [packet] = RtcpPacketConverter.deSerialize(bytes);
    expect(packet && asksForKeyFrame(packet, MEDIA_SSRC)).toBe(true);
    expect(packet && asksForKeyFrame(packet, MEDIA_SSRC + 1)).toBe(false);
  });

  // Found by fuzzing (docs/fuzzing.md, corpus rtcp-feedback/psfb-unknown-fmt.json):
  // werift 0.24.4 leaves `feedback` undefined for an FMT it does not know.
  it("answers no, without throwing, to payload-specific feedback of an unknown FMT", () => {
    const [packet] = received("80ce00021111111112345678");
    expect(packet).toBeDefined();
    expect(packet && asksForKeyFrame(packet, MEDIA_SSRC)).toBe(false);
  });
});
