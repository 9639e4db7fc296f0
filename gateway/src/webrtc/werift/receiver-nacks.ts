import type { RTCRtpReceiver } from "werift";

/**
 * werift 0.24.4 workaround, docs/werift.md "Receiver NACKs" (for camgw's
 * own headless viewer: the probe and tests).
 *
 * werift's receiver NACKs every missing video packet every 5 ms and drops
 * it after 10 tries (packages/webrtc/src/media/receiver/nack.ts): ~55 ms,
 * so on a 40 ms round trip a retransmission lost on the way is never asked
 * for again, where a browser asks once per round trip up to 10 times. Its
 * handler is fed from RTCRtpReceiver.handleRtpBySsrc (`this.nack.addPacket`)
 * and started by the first gap; feeding it nothing keeps it idle, and
 * camgw's receive/nack-requester.ts asks instead.
 */
export function silenceReceiverNacks(receiver: RTCRtpReceiver): void {
  const handler: unknown = Reflect.get(receiver, "nack");
  if (typeof handler === "object" && handler !== null) {
    Reflect.set(handler, "addPacket", () => undefined);
  }
}
