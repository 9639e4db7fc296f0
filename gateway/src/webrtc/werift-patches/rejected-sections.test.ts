import { MediaStreamTrack, useH264, useOPUS, type RTCPeerConnection } from "werift";
import { afterEach, describe, expect, it } from "vitest";
import { loopbackPeer, noStun } from "./testing/peers.js";

/**
 * Patch 7 (docs/werift-patches.md): a rejected media section (port 0) needs
 * no codec and is answered with port 0 (RFC 3264 sections 5.1 and 6), and
 * an inactive one keeps its port (RFC 8829 sections 5.2.2 and 5.3.1: port 0
 * only for a stopped transceiver or a rejected section), and neither is in
 * a BUNDLE group (RFC 9143 section 7.2.1). werift 0.24.4
 * refused the whole offer for the first ("negotiate codecs failed.") and
 * wrote port 0 for the second, so a peer that paused a track had it
 * rejected, and one that stopped it could not renegotiate at all.
 */

const peers: RTCPeerConnection[] = [];

function peer(audio: boolean): RTCPeerConnection {
  const pc = loopbackPeer({
    codecs: { audio: audio ? [useOPUS()] : [], video: [useH264()] },
    iceServers: [],
  });
  peers.push(pc);
  return pc;
}

afterEach(async () => {
  for (const pc of peers.splice(0)) await pc.close();
});

/** Each m= line's kind, port and direction, in order. */
function sections(sdp: string): string[] {
  return sdp
    .split(/\r?\n(?=m=)/)
    .slice(1)
    .map((section) => {
      const [kind, port] = section.slice(2).split(" ");
      const direction = /^a=(sendrecv|sendonly|recvonly|inactive)$/m.exec(section)?.[1];
      return `${kind} ${port} ${direction ?? "?"}`;
    });
}

/** A viewer (video and audio in, recvonly) and a camera that sends video and, if `audio`, Opus. */
function call(audio: boolean): { viewer: RTCPeerConnection; camera: RTCPeerConnection } {
  const viewer = peer(true);
  viewer.addTransceiver("video", { direction: "recvonly" });
  viewer.addTransceiver("audio", { direction: "recvonly" });
  const camera = peer(audio);
  camera.addTransceiver(new MediaStreamTrack({ kind: "video" }), { direction: "sendonly" });
  if (audio)
    camera.addTransceiver(new MediaStreamTrack({ kind: "audio" }), { direction: "sendonly" });
  return { viewer, camera };
}

/** `sdp` with its `kind` section rejected: port 0, a=inactive. */
function rejectSection(sdp: string, kind: "audio" | "video"): string {
  return sdp
    .split(/(?=^m=)/m)
    .map((section) =>
      section.startsWith(`m=${kind} `)
        ? section
            .replace(/^m=(\w+) \d+ /, "m=$1 0 ")
            .replace(/^a=(sendrecv|sendonly|recvonly)$/m, "a=inactive")
        : section,
    )
    .join("");
}

async function offerAnswer(
  viewer: RTCPeerConnection,
  camera: RTCPeerConnection,
): Promise<{ offer: string; answer: string }> {
  const offer = await viewer.createOffer();
  await viewer.setLocalDescription(offer);
  noStun(viewer);
  await camera.setRemoteDescription({ type: "offer", sdp: viewer.localDescription?.sdp ?? "" });
  noStun(camera);
  const answer = await camera.createAnswer();
  await camera.setLocalDescription(answer);
  await viewer.setRemoteDescription(answer);
  return { offer: offer.sdp, answer: answer.sdp };
}

describe("werift patch 7: rejected and inactive sections", () => {
  it("answers a rejected (port 0) section it has no codec for with port 0, instead of refusing the offer", async () => {
    const { viewer, camera } = call(false);
    const audio = viewer.getTransceivers().find((t) => t.kind === "audio");
    audio?.stop();
    const { offer, answer } = await offerAnswer(viewer, camera);
    expect(sections(offer)).toEqual(["video 9 recvonly", "audio 0 inactive"]);
    expect(sections(answer)).toEqual(["video 9 sendonly", "audio 0 inactive"]);
    // The answer's m= line still names a format (RFC 8866 section 5.14).
    expect(answer).toMatch(/^m=audio 0 UDP\/TLS\/RTP\/SAVPF \d+/m);
    // Neither BUNDLE group holds the rejected section (RFC 9143 sections 7.2.1, 7.3.3).
    for (const sdp of [offer, answer]) expect(sdp).toMatch(/^a=group:BUNDLE 0\r?$/m);
  });

  it("keeps port 9 for a section paused with direction inactive, and sends in it again once resumed", async () => {
    const { viewer, camera } = call(true);
    expect(sections((await offerAnswer(viewer, camera)).answer)).toEqual([
      "video 9 sendonly",
      "audio 9 sendonly",
    ]);
    const audio = viewer.getTransceivers().find((t) => t.kind === "audio");
    audio?.setDirection("inactive");
    const paused = await offerAnswer(viewer, camera);
    expect(sections(paused.offer)).toEqual(["video 9 recvonly", "audio 9 inactive"]);
    expect(sections(paused.answer)).toEqual(["video 9 sendonly", "audio 9 inactive"]);

    audio?.setDirection("recvonly");
    const resumed = await offerAnswer(viewer, camera);
    expect(sections(resumed.answer)).toEqual(["video 9 sendonly", "audio 9 sendonly"]);
    expect(audio?.currentDirection).toBe("recvonly");
  });

  it("takes a rejected section up again when the same mid comes back with a port, as werift peers do", async () => {
    const { viewer, camera } = call(true);
    await offerAnswer(viewer, camera);
    const offer = (await viewer.createOffer()).sdp;
    // What an unpatched werift peer offers for a paused section: port 0, same mid.
    await camera.setRemoteDescription({ type: "offer", sdp: rejectSection(offer, "audio") });
    const rejected = await camera.createAnswer();
    await camera.setLocalDescription(rejected);
    expect(sections(rejected.sdp)).toEqual(["video 9 sendonly", "audio 0 inactive"]);

    await camera.setRemoteDescription({ type: "offer", sdp: offer });
    const resumed = await camera.createAnswer();
    await camera.setLocalDescription(resumed);
    expect(sections(resumed.sdp)).toEqual(["video 9 sendonly", "audio 9 sendonly"]);
  });
});
