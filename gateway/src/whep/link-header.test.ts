import { describe, expect, it } from "vitest";
import { iceServerLinks, iceServersFromLinks, parseLinks } from "./link-header.js";

describe("Link rel=ice-server (RFC 9725 section 4.6)", () => {
  it("writes STUN and TURN servers as the RFC's example does", () => {
    expect(
      iceServerLinks([
        { urls: "stun:stun.example.net" },
        { urls: "turn:turn.example.net?transport=udp", username: "user", credential: "myPassword" },
      ]),
    ).toEqual([
      '<stun:stun.example.net>; rel="ice-server"',
      '<turn:turn.example.net?transport=udp>; rel="ice-server"; username="user"; credential="myPassword"; credential-type="password"',
    ]);
  });

  it("escapes quotes and leaves out what it cannot write safely", () => {
    expect(iceServerLinks([{ urls: "turn:t", username: 'a"b', credential: "c\\d" }])).toEqual([
      '<turn:t>; rel="ice-server"; username="a\\"b"; credential="c\\\\d"; credential-type="password"',
    ]);
    expect(
      iceServerLinks([{ urls: "turn:t>x" }, { urls: "http://x" }, { urls: "stun:a\nb" }]),
    ).toEqual([]);
  });

  it("reads back what it writes, several links in one field, and skips junk", () => {
    const links = iceServerLinks([
      { urls: "stun:s.example:3478" },
      { urls: "turns:t.example:5349?transport=tcp", username: 'u"1', credential: "p,w;x" },
    ]);
    expect(iceServersFromLinks(parseLinks([links.join(", ")]))).toEqual([
      { urls: "stun:s.example:3478" },
      { urls: "turns:t.example:5349?transport=tcp", username: 'u"1', credential: "p,w;x" },
    ]);
    expect(
      iceServersFromLinks(
        parseLinks([
          'garbage, <https://x/ext>; rel="urn:ietf:params:whep:ext:core:layer", <stun:ok>; REL=ice-server',
          "<stun:unterminated; rel=ice-server",
        ]),
      ),
    ).toEqual([{ urls: "stun:ok" }]);
  });

  it("ignores credentials of a type other than password", () => {
    expect(
      iceServersFromLinks(
        parseLinks([
          '<turn:t>; rel="ice-server"; username="u"; credential="k"; credential-type="oauth"',
        ]),
      ),
    ).toEqual([{ urls: "turn:t" }]);
  });
});
