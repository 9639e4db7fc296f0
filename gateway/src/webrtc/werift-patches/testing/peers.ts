/**
 * werift peer connections on loopback for the werift patch tests
 * (docs/werift-patches.md): both ends in this process, addresses on
 * 127.0.0.1 only, no STUN server.
 */
import { RTCPeerConnection, type PeerConfig, type RTCDataChannel } from "werift";
import { weriftIceOptions, type IceConfig } from "../../ice-config.js";
import { clearDefaultStunServer } from "../../werift/default-stun.js";

export const LOOPBACK: IceConfig = { hostAddresses: ["127.0.0.1"] };

export type Outcome = "connected" | "failed";

/** A werift peer gathering on 127.0.0.1 only. */
export function loopbackPeer(config: Partial<PeerConfig> = {}, ice = LOOPBACK): RTCPeerConnection {
  return new RTCPeerConnection({ ...weriftIceOptions(ice), ...config });
}

/** werift 0.24.4 falls back to a public STUN server; call after transports appear. */
export function noStun(pc: RTCPeerConnection, ice = LOOPBACK): void {
  clearDefaultStunServer(pc, ice);
}

/** The first of "connected" and "failed" that the connection reaches. */
export function settled(pc: RTCPeerConnection): Promise<Outcome> {
  return new Promise((resolve) => {
    const sub = pc.connectionStateChange.subscribe((state) => {
      if (state === "connected" || state === "failed") {
        sub.unSubscribe();
        resolve(state);
      }
    });
  });
}

export interface NegotiateOptions {
  /**
   * The answerer's a=setup, i.e. its DTLS role: "active" is the client
   * (werift's own answer), "passive" the server (what camgw answers).
   */
  answererSetup: "active" | "passive";
}

/**
 * Offer/answer without trickle: werift's setLocalDescription gathers first,
 * so each description carries its candidates.
 */
export async function negotiate(
  offerer: RTCPeerConnection,
  answerer: RTCPeerConnection,
  { answererSetup }: NegotiateOptions,
): Promise<void> {
  noStun(offerer);
  await offerer.setLocalDescription(await offerer.createOffer());
  const offer = offerer.localDescription;
  if (!offer) throw new Error("no local offer");
  await answerer.setRemoteDescription({ type: "offer", sdp: offer.sdp });
  noStun(answerer);
  const answer = await answerer.createAnswer();
  const sdp = answer.sdp.replace(/^a=setup:\w+/gm, `a=setup:${answererSetup}`);
  await answerer.setLocalDescription({ type: "answer", sdp });
  await offerer.setRemoteDescription({ type: "answer", sdp });
}

/** The first message that arrives on the first data channel the remote opens. */
export function firstDataChannelMessage(pc: RTCPeerConnection): Promise<string> {
  return new Promise((resolve) => {
    const sub = pc.onDataChannel.subscribe((channel) => {
      sub.unSubscribe();
      channel.onMessage.subscribe((data) => resolve(data.toString()));
    });
  });
}

/** Sends `text` on `channel` as soon as it is open. */
export function sendWhenOpen(channel: RTCDataChannel, text: string): void {
  if (channel.readyState === "open") {
    channel.send(text);
    return;
  }
  const sub = channel.stateChanged.subscribe((state) => {
    if (state !== "open") return;
    sub.unSubscribe();
    channel.send(text);
  });
}
