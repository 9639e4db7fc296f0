import type { RTCPeerConnection } from "werift";

/**
 * werift 0.24.4 workaround, docs/werift.md "ICE restart with DTLS up".
 *
 * packages/webrtc/src/peerConnection.ts, `connect()`: for each DTLS
 * transport it returns early when `dtlsTransport.state === "connected"`,
 * before `iceTransport.start()`. An ICE restart (new remote ufrag and pwd,
 * RTCIceTransport.setRemoteParams -> restart()) keeps the DTLS association,
 * as it must (RFC 8839 section 4.4.1.1.1), so after the restart's offer and
 * answer werift gathers anew but never runs connectivity checks: media stops
 * for good. Start the restarted transports ourselves once the description
 * that completes the exchange is applied (our answer's setLocalDescription,
 * or the remote answer on the offering side); werift's DTLS bridge reads and
 * writes through the same ICE connection, so DTLS and SRTP carry on over the
 * new pair.
 */
export async function startRestartedIce(pc: RTCPeerConnection): Promise<void> {
  await Promise.all(
    pc.dtlsTransports.map(async (dtls) => {
      const ice = dtls.iceTransport;
      // Only connect() sets a connection "connected", after its checks, and
      // only connect() starts consent freshness (queryConsent, RFC 7675),
      // without which werift sends nothing on the pair
      // (canSendApplicationData). A nominated pair does not tell: the remote's
      // checks nominate one before we run ours when they arrive before our
      // description is applied (our answer goes out while we still gather,
      // e.g. for a TURN allocation), and werift then starts no consent
      // (checkComplete does only in state "connected" or "completed"), so
      // media never resumed. connect() on a concluded checklist returns at
      // once, consent started. The transport's state cannot tell either: it
      // says "completed" once gathering is done (werift's Connection reports
      // gathering as a state).
      if (dtls.state !== "connected" || ice.connection.state === "connected") return;
      if (!ice.connection.remoteUsername) return;
      await ice.start();
    }),
  );
}
