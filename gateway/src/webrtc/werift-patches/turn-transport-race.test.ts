import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { Connection, StunOverTurnProtocol, type RTCPeerConnection } from "werift";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Coturn } from "./testing/coturn.js";
import { loopbackPeer, noStun } from "./testing/peers.js";

/**
 * werift patches 5 and 6 (docs/werift-patches.md): with a plain
 * `turn:host:port` URL werift 0.24.4 tried TCP only after its UDP Allocate
 * had gone unanswered 7 times (RTO 50 ms, doubling: 6.35 s), and it waited
 * 5 s for a STUN server's answer before gathering was complete, on every
 * session of a network that drops UDP. Here coturn listens on TCP only and a
 * socket on the same UDP port swallows (and counts, by STUN method) what
 * werift sends there, as such a firewall would.
 */

/** How many times werift's Transaction sends a request (RETRY_MAX 6 retransmissions). */
const UDP_SENDS_BEFORE_GIVING_UP = 7;

let coturn: Coturn;
let blackHole: Socket;
let swallowed = 0;
let bindingsSwallowed = 0;
const peers: RTCPeerConnection[] = [];

beforeAll(async () => {
  coturn = await Coturn.start({ udp: false });
  blackHole = createSocket("udp4");
  blackHole.on("message", (data: Buffer) => {
    swallowed++;
    // STUN message type 0x0001: a Binding request (RFC 8489 section 5).
    if (data.length >= 20 && data.readUInt16BE(0) === 0x0001) bindingsSwallowed++;
  });
  blackHole.bind(coturn.port, "127.0.0.1");
  await once(blackHole, "listening");
});

afterAll(async () => {
  for (const pc of peers.splice(0)) await pc.close();
  blackHole.close();
  await coturn.stop();
});

it("gets a TURN relay over TCP without waiting for UDP to give up when UDP is dropped", async () => {
  const { username, credential } = coturn.credentials("udp-blocked");
  const url = `turn:127.0.0.1:${coturn.port}`;
  const pc = loopbackPeer({
    iceServers: [{ urls: url, username, credential }],
    iceTransportPolicy: "relay",
  });
  peers.push(pc);
  pc.addTransceiver("video", { direction: "recvonly" });
  noStun(pc, { iceServers: [{ urls: url }] });
  let udpSendsWhenRelayed: number | undefined;
  pc.onIceCandidate.subscribe((candidate) => {
    if (candidate?.candidate.includes(" typ relay ")) udpSendsWhenRelayed ??= swallowed;
  });
  // Resolves once gathering is complete.
  await pc.setLocalDescription(await pc.createOffer());

  expect(pc.localDescription?.sdp).toMatch(/ typ relay /);
  // UDP was tried first, and was still being retried when TCP won.
  expect(udpSendsWhenRelayed).toBeGreaterThan(0);
  expect(udpSendsWhenRelayed).toBeLessThan(UDP_SENDS_BEFORE_GIVING_UP);
  const connection = pc.iceTransports[0]?.connection;
  expect(connection).toBeInstanceOf(Connection);
  // Connection.protocols is private in werift's types.
  const protocols: unknown[] = [Reflect.get(connection ?? {}, "protocols")].flat();
  const relays = protocols.filter((p) => p instanceof StunOverTurnProtocol);
  expect(relays.map((p) => p.turn.transport.type)).toEqual(["tcp"]);
});

it("completes gathering soon after the relay candidate instead of waiting 5 s for STUN over dropped UDP", async () => {
  const { username, credential } = coturn.credentials("udp-blocked-stun");
  const turnUrl = `turn:127.0.0.1:${coturn.port}`;
  const stunUrl = `stun:127.0.0.1:${coturn.port}`;
  const iceServers = [{ urls: stunUrl }, { urls: turnUrl, username, credential }];
  const pc = loopbackPeer({ iceServers });
  peers.push(pc);
  pc.addTransceiver("video", { direction: "recvonly" });
  const before = bindingsSwallowed;
  let relayed = false;
  pc.onIceCandidate.subscribe((candidate) => {
    if (candidate?.candidate.includes(" typ relay ")) relayed = true;
  });
  // Resolves once gathering is complete.
  await pc.setLocalDescription(await pc.createOffer());
  const bindingsWhenGathered = bindingsSwallowed - before;

  expect(relayed).toBe(true);
  expect(pc.localDescription?.sdp).not.toMatch(/ typ srflx /);
  // The STUN binding was sent and still being retried (werift 0.24.4:
  // gathering waited its 5 s, by which its 7th send had gone out).
  expect(bindingsWhenGathered).toBeGreaterThan(0);
  expect(bindingsWhenGathered).toBeLessThan(UDP_SENDS_BEFORE_GIVING_UP);
});
