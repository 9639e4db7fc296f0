import { createSocket } from "node:dgram";
import { once } from "node:events";
import { CandidatePairState, type RTCPeerConnection } from "werift";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ByeReason } from "../../signaling/session-host.js";
import { encodeTestClip, type ClipAccessUnit } from "../../testing/test-clip.js";
import { ClipSource } from "../testing/clip-source.js";
import { SessionManager } from "../session-manager.js";
import { HeadlessViewer } from "../receive/headless-viewer.js";
import { LOOPBACK, loopbackPeer, noStun, settled } from "./testing/peers.js";

/**
 * werift patches 2 and 3 (docs/werift-patches.md), RFC 8445 and RFC 8863
 * (ICE PAC): werift 0.24.4 concluded failure at once when the remote's
 * end-of-candidates came in and it had no pair to check, before the
 * remote's checks could create a peer-reflexive pair, and never concluded
 * it once it had pairs that all failed.
 */

const peers: RTCPeerConnection[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  for (const pc of peers.splice(0)) await pc.close();
});

/** Delivers each message `delayMs` later, in order: signaling through a broker that far away. */
function delayedLink(delayMs: number): (deliver: () => Promise<unknown>) => void {
  let tail = Promise.resolve();
  return (deliver) => {
    const due = performance.now() + delayMs;
    tail = tail.then(async () => {
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      await deliver().catch(() => undefined);
    });
  };
}

/** A UDP port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const socket = createSocket("udp4");
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const { port } = socket.address();
  socket.close();
  return port;
}

/**
 * `candidate:` lines of an SDP, as trickle candidates, and the SDP without
 * them or its a=end-of-candidates: the offer of a browser that trickles.
 */
function splitCandidates(sdp: string): { sdp: string; candidates: string[] } {
  const candidates = [...sdp.matchAll(/^a=(candidate:.*?)\r?$/gm)].map((m) => m[1] ?? "");
  return { sdp: sdp.replace(/^a=(candidate:.*|end-of-candidates)\r?\n/gm, ""), candidates };
}

describe("werift ICE with a remote it cannot reach through the remote's candidates", () => {
  it("connects a viewer whose only candidates are unresolvable mDNS names through a peer-reflexive pair", async () => {
    const viewer = loopbackPeer();
    const gateway = loopbackPeer();
    peers.push(viewer, gateway);
    viewer.addTransceiver("video", { direction: "recvonly" });
    gateway.addTransceiver("video", { direction: "sendonly" });
    noStun(viewer);
    noStun(gateway);
    // The broker is 75 ms from each side, so the viewer's candidates and its
    // end-of-candidates reach the gateway well before the answer reaches the
    // viewer, and so before the viewer's first connectivity check.
    const toGateway = delayedLink(75);
    const toViewer = delayedLink(75);
    const gatewayOutcome = settled(gateway);
    const viewerOutcome = settled(viewer);

    await viewer.setLocalDescription(await viewer.createOffer());
    const offer = splitCandidates(viewer.localDescription?.sdp ?? "");
    expect(offer.candidates.length).toBeGreaterThan(0);
    // What a browser sends: its host address hidden behind an mDNS name.
    const mdns = offer.candidates.map((c) =>
      c.replace(/ 127\.0\.0\.1 /, ` ${crypto.randomUUID()}.local `),
    );

    let endOfCandidatesApplied = false;
    toGateway(async () => {
      await gateway.setRemoteDescription({ type: "offer", sdp: offer.sdp });
      noStun(gateway);
      // werift resolves .local names with a multicast query on the host's
      // LAN; a test must not send one. A name nobody answers for is what
      // the gateway sees when the viewer is on another subnet.
      for (const transport of gateway.iceTransports) {
        Reflect.set(transport.connection, "lookup", {
          lookup: () => new Promise<string>(() => undefined),
          close: () => undefined,
        });
      }
      const answer = await gateway.createAnswer();
      const sdp = answer.sdp.replace(/^a=setup:\w+/gm, "a=setup:passive");
      toViewer(() => {
        // The premise: the gateway has the viewer's end-of-candidates before
        // the viewer can start its checks.
        expect(endOfCandidatesApplied).toBe(true);
        return viewer.setRemoteDescription({ type: "answer", sdp });
      });
      gateway.onIceCandidate.subscribe((c) => {
        if (c?.candidate) toViewer(() => viewer.addIceCandidate(c));
      });
      // Not awaited: werift gathers, then starts ICE.
      void gateway.setLocalDescription({ type: "answer", sdp });
    });
    // As gateway/src/webrtc/session.ts does: never wait on a candidate (werift's
    // addIceCandidate waits for the mDNS lookup, up to 10 s).
    for (const candidate of mdns) {
      toGateway(() => {
        void gateway
          .addIceCandidate({ candidate, sdpMid: "0", sdpMLineIndex: 0 })
          .catch(() => undefined);
        return Promise.resolve();
      });
    }
    toGateway(async () => {
      await gateway.addIceCandidate({ candidate: "" });
      endOfCandidatesApplied = true;
    });

    expect(await gatewayOutcome).toBe("connected");
    expect(await viewerOutcome).toBe("connected");
    const [transport] = gateway.iceTransports;
    expect(transport?.connection.nominated?.remoteCandidate.type).toBe("prflx");
  });

  it("reports failed once every pair has failed and both sides sent end-of-candidates", async () => {
    const viewer = loopbackPeer();
    viewer.addTransceiver("video", { direction: "recvonly" });
    noStun(viewer);
    await viewer.setLocalDescription(await viewer.createOffer());
    const offer = viewer.localDescription?.sdp ?? "";
    await viewer.close();
    const port = await closedPort();
    const unreachable = offer.replace(/^(a=candidate:.* 127\.0\.0\.1 )\d+/gm, `$1${port}`);
    expect(unreachable).toContain(` 127.0.0.1 ${port} typ host`);

    const gateway = loopbackPeer();
    peers.push(gateway);
    gateway.addTransceiver("video", { direction: "sendonly" });
    noStun(gateway);
    const outcome = settled(gateway);
    await gateway.setRemoteDescription({ type: "offer", sdp: unreachable });
    noStun(gateway);
    const answer = await gateway.createAnswer();
    void gateway.setLocalDescription(answer);
    await gateway.addIceCandidate({ candidate: "" });
    // werift 0.24.4 stays "checking" for good; a generous bound, not a timing.
    const result = await Promise.race([
      outcome,
      new Promise<"still checking">((r) => setTimeout(() => r("still checking"), 10_000)),
    ]);
    expect(result).toBe("failed");
    expect(gateway.iceConnectionState).toBe("failed");
    const [transport] = gateway.iceTransports;
    expect(transport?.connection.candidatePairs.map((p) => p.state)).toEqual([
      CandidatePairState.FAILED,
    ]);
  });
});

describe("a gateway session ICE cannot connect", () => {
  let clip: ClipAccessUnit[];

  beforeAll(async () => {
    clip = await encodeTestClip({ frames: 10, gop: 10 });
  });

  it("ends with ice-failed, not the liveness timeout", async () => {
    const source = new ClipSource(clip, { width: 640, height: 360, fps: 30 });
    const manager = new SessionManager({ streams: { main: source }, ice: LOOPBACK });
    cleanups.push(async () => {
      await manager.close();
      await source.close();
    });
    const viewer = new HeadlessViewer({ ice: LOOPBACK });
    const offer = await viewer.createOffer();
    await viewer.close();
    const port = await closedPort();
    const sdp = offer.replace(/^(a=candidate:.* 127\.0\.0\.1 )\d+/gm, `$1${port}`);
    const ended = once(manager, "ended") as Promise<[string, string, ByeReason]>;
    await manager.offer({ viewerId: "v", session: "s", sdp, stream: "main" });
    manager.addCandidate("v", "s", null);
    expect(await ended).toEqual(["v", "s", "ice-failed"]);
    expect(manager.sessionCount).toBe(0);
  });
});
