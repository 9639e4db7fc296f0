/**
 * A viewer's candidates as a browser signals them: each host address
 * hidden behind an mDNS name, `<uuid>.local`, one name per address for
 * the life of the peer (draft-ietf-rtcweb-mdns-ice-candidates-04 section
 * 3.1.1; Chromium and Firefox do this unless the page may use the camera
 * or microphone), and the related address of server-reflexive and relay
 * candidates replaced by 0.0.0.0 port 0 (section 3.1.2.2, as Chromium
 * does), so nothing signaled tells where the viewer is. The device can
 * only reach such a viewer through the viewer's own checks, which arrive
 * as peer-reflexive candidates (RFC 8445 section 7.3.1.3): `camgw probe
 * --mdns-candidates` tests that path.
 *
 * The names are never announced here (no mDNS responder): on the lab's
 * routed networks and across subnets a browser's names do not resolve
 * either, which is the case this stands for.
 *
 * Candidate attribute syntax: RFC 8839 section 5.1
 *   candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> [raddr <a> rport <p>] ...
 */
import { randomUUID } from "node:crypto";

export class MdnsCandidates {
  readonly #names = new Map<string, string>();

  /** The mDNS name that stands for `address` (the same one every time). */
  nameFor(address: string): string {
    let name = this.#names.get(address);
    if (!name) {
      name = `${randomUUID()}.local`;
      this.#names.set(address, name);
    }
    return name;
  }

  /** One candidate attribute value (`candidate:...`, with or without `a=`) with its addresses hidden. */
  hide(candidate: string): string {
    const prefix = /^(a=)?candidate:/.exec(candidate)?.[0];
    if (prefix === undefined) return candidate;
    const fields = candidate.slice(prefix.length).split(" ");
    if (fields.length < 8 || fields[6] !== "typ") return candidate;
    if (fields[7] === "host") {
      fields[4] = this.nameFor(fields[4] ?? "");
    } else {
      const raddr = fields.indexOf("raddr");
      const rport = fields.indexOf("rport");
      if (raddr > 7 && raddr + 1 < fields.length) fields[raddr + 1] = "0.0.0.0";
      if (rport > 7 && rport + 1 < fields.length) fields[rport + 1] = "0";
    }
    return prefix + fields.join(" ");
  }

  /**
   * Every `a=candidate` line of an SDP with its addresses hidden (an ICE
   * restart's offer has them), and a `c=` line that names a hidden host
   * address set to 0.0.0.0, as Chromium does.
   */
  hideInSdp(sdp: string): string {
    const lines = sdp
      .split("\r\n")
      .map((line) => (line.startsWith("a=candidate:") ? this.hide(line) : line));
    return lines
      .map((line) => {
        const c = /^c=IN IP([46]) (\S+)$/.exec(line);
        if (!c || !this.#names.has(c[2] ?? "")) return line;
        return `c=IN IP${c[1] ?? "4"} ${c[1] === "6" ? "::" : "0.0.0.0"}`;
      })
      .join("\r\n");
  }
}
