import { describe, expect, it } from "vitest";
import { MdnsCandidates } from "./mdns-candidates.js";

// Candidates as werift 0.24.4 gathers them (a host and a server-reflexive one).
const host = "candidate:1 1 udp 2130706431 10.0.1.10 40000 typ host";
const srflx =
  "candidate:2 1 udp 1694498815 198.18.11.2 40000 typ srflx raddr 10.0.1.10 rport 40000";
const NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.local$/;

describe("a viewer's candidates with their addresses hidden, as a browser signals them", () => {
  it("names each host address with one <uuid>.local name, the same every time", () => {
    const mdns = new MdnsCandidates();
    const first = mdns.hide(host).split(" ");
    expect(first[4]).toMatch(NAME);
    expect(mdns.hide(host)).toBe(first.join(" "));
    expect(mdns.hide(host.replace("10.0.1.10", "10.0.1.11")).split(" ")[4]).not.toBe(first[4]);
    expect(first.slice(5)).toEqual(["40000", "typ", "host"]);
  });

  it("keeps a server-reflexive address but hides its related address", () => {
    expect(new MdnsCandidates().hide(srflx)).toBe(
      "candidate:2 1 udp 1694498815 198.18.11.2 40000 typ srflx raddr 0.0.0.0 rport 0",
    );
  });

  it("hides the candidates inside an SDP and leaves its other lines alone", () => {
    const sdp = [
      "v=0",
      "m=video 40000 UDP/TLS/RTP/SAVPF 96",
      "c=IN IP4 10.0.1.10",
      `a=${host}`,
      `a=${srflx}`,
      "",
    ].join("\r\n");
    const lines = new MdnsCandidates().hideInSdp(sdp).split("\r\n");
    expect(lines.slice(0, 3)).toEqual([
      "v=0",
      "m=video 40000 UDP/TLS/RTP/SAVPF 96",
      "c=IN IP4 0.0.0.0",
    ]);
    expect(lines[3]).toMatch(/^a=candidate:1 1 udp 2130706431 \S+\.local 40000 typ host$/);
    expect(lines[4]).toMatch(/raddr 0\.0\.0\.0 rport 0$/);
    expect(lines.join("\n")).not.toContain("10.0.1.10");
  });

  it("leaves what is no candidate as it is", () => {
    const mdns = new MdnsCandidates();
    expect(mdns.hide("")).toBe("");
    expect(mdns.hide("candidate:1 1 udp")).toBe("candidate:1 1 udp");
  });
});
