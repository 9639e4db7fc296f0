import type { RTCDataChannel } from "werift";
import type { ControlHub } from "../control/control-hub.js";
import type { SessionView } from "../control/control-services.js";
import type { ViewerSession } from "./viewer-session.js";

/**
 * Serves a session's control DataChannel (werift's RTCDataChannel; the
 * viewer opened it, reliable and ordered) with the control hub: messages
 * in, replies out, and released when the channel or the session closes.
 * werift delivers a text message as a string and a binary one as a Buffer
 * (RTCSctpTransport.datachannelReceive, PPID 51 and 53).
 */
export function serveControl(
  channel: RTCDataChannel,
  viewer: ViewerSession,
  view: SessionView,
  hub: ControlHub,
): void {
  const session = hub.open(
    {
      send: (text) => channel.send(text),
      get bufferedAmount() {
        return channel.bufferedAmount;
      },
    },
    view,
  );
  const subs = [
    channel.onMessage.subscribe((message) => session.receive(message)),
    channel.stateChanged.subscribe((state) => {
      if (state === "closed") release();
    }),
  ];
  const onTalkBusy = (): void => session.talkBusy();
  viewer.on("talkBusy", onTalkBusy);
  viewer.once("closed", () => release());
  function release(): void {
    for (const sub of subs.splice(0)) sub.unSubscribe();
    viewer.off("talkBusy", onTalkBusy);
    hub.release(session);
  }
}
