/**
 * startRestartedIce (docs/werift.md, "ICE restart with DTLS up") on two
 * werift peers over 127.0.0.1: an offerer that restarts ICE, as a viewer
 * does, and an answerer, as the gateway does. The steps of the restart are
 * taken one by one, so that each ordering the network can produce is
 * produced here on purpose rather than by load.
 */
import { afterEach, describe, expect, it } from "vitest";
import { RTCPeerConnection, type RTCDataChannel } from "werift";
import { weriftIceOptions } from "../ice-config.js";
import { LOOPBACK, waitFor } from "../testing/harness.js";
import { clearDefaultStunServer } from "./default-stun.js";
import { startRestartedIce } from "./ice-restart-start.js";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function loopbackPeer(): RTCPeerConnection {
  const pc = new RTCPeerConnection(weriftIceOptions(LOOPBACK));
  closers.push(() => pc.close());
  return pc;
}

function connection(
  pc: RTCPeerConnection,
): RTCPeerConnection["iceTransports"][number]["connection"] {
  const transport = pc.iceTransports[0];
  if (!transport) throw new Error("no ICE transport");
  return transport.connection;
}

/**
 * The host candidates of a peer's local description, as it trickles them
 * after a restart: the same sockets, without the old description's
 * `generation` (werift refuses to nominate a pair of an older generation).
 */
function hostCandidates(pc: RTCPeerConnection): string[] {
  const sdp = pc.localDescription?.sdp ?? "";
  return [...sdp.matchAll(/^a=(candidate:.*typ host.*)$/gm)].map((m) =>
    (m[1] ?? "").replace(/ generation \d+/, "").trim(),
  );
}

/** Messages a channel received. */
function received(channel: RTCDataChannel): string[] {
  const got: string[] = [];
  channel.onMessage.subscribe((data) => got.push(data.toString()));
  return got;
}

/** An offerer with a DataChannel and an answerer, connected; the answerer's side of the channel. */
async function connected(): Promise<{
  offerer: RTCPeerConnection;
  answerer: RTCPeerConnection;
  toOfferer: RTCDataChannel;
  atOfferer: string[];
}> {
  const offerer = loopbackPeer();
  const answerer = loopbackPeer();
  const channel = offerer.createDataChannel("c");
  const atOfferer = received(channel);
  const opened = new Promise<RTCDataChannel>((resolve) =>
    answerer.onDataChannel.subscribe((c) => resolve(c)),
  );
  clearDefaultStunServer(offerer, LOOPBACK);
  await offerer.setLocalDescription(await offerer.createOffer());
  await answerer.setRemoteDescription({ type: "offer", sdp: offerer.localDescription?.sdp ?? "" });
  clearDefaultStunServer(answerer, LOOPBACK);
  await answerer.setLocalDescription(await answerer.createAnswer());
  await offerer.setRemoteDescription({ type: "answer", sdp: answerer.localDescription?.sdp ?? "" });
  const toOfferer = await opened;
  await waitFor(() => toOfferer.readyState === "open");
  toOfferer.send("before");
  await waitFor(() => atOfferer.includes("before"));
  return { offerer, answerer, toOfferer, atOfferer };
}

describe("startRestartedIce", () => {
  it("lets the answerer send again when the offerer nominated a pair before the answerer applied its answer", async () => {
    const { offerer, answerer, toOfferer, atOfferer } = await connected();
    const candidates = hostCandidates(answerer);

    // The viewer restarts ICE and sends its offer.
    offerer.restartIce();
    await offerer.setLocalDescription(await offerer.createOffer());
    await answerer.setRemoteDescription({
      type: "offer",
      sdp: offerer.localDescription?.sdp ?? "",
    });
    const answer = await answerer.createAnswer();

    // The answer goes out before the answerer's setLocalDescription has
    // finished gathering (the gateway hands it over at once; a TURN
    // allocation, or a busy machine, can hold gathering up for long), and
    // its host candidates, the same sockets as before, trickle at once. The
    // viewer checks them with USE-CANDIDATE (werift nominates aggressively),
    // and the answerer's triggered check nominates the pair.
    await offerer.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    // Resolves once connected, as in headless-viewer.ts: not awaited.
    const offererChecking = startRestartedIce(offerer);
    for (const candidate of candidates) await offerer.addIceCandidate({ candidate, sdpMid: "0" });
    await waitFor(() => connection(answerer).nominated !== undefined);

    // Now the answerer's gathering is done, as in viewer-session.ts.
    await answerer.setLocalDescription(answer);
    await startRestartedIce(answerer);

    toOfferer.send("after");
    await waitFor(() => atOfferer.includes("after"), 5000);
    await offererChecking;
    expect(connection(answerer).state).toBe("connected");
  });
});
