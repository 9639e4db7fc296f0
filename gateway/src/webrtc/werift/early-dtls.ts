import type { RTCPeerConnection } from "werift";

/** Records kept per transport: a ClientHello flight is one or two datagrams. */
const MAX_EARLY_RECORDS = 8;

/** RFC 7983 section 7: a first byte of 20-63 demultiplexes as DTLS. */
function isDtls(buf: Buffer): boolean {
  const first = buf[0] ?? 0;
  return first >= 20 && first <= 63;
}

/**
 * werift 0.24.4 workaround, docs/werift.md "Early DTLS".
 *
 * RTCDtlsTransport.start() creates the bridge from ICE to its DTLS socket
 * (`new IceTransport(...)` in packages/webrtc/src/transport/dtls.ts) only
 * once its own side of ICE has connected; DTLS records that arrive before that are dropped. A browser is
 * the controlling agent and often sees ICE complete first, then sends its
 * ClientHello at once (we answer a=setup:passive, so it is the DTLS client).
 * werift loses it, and the handshake waits for the browser's retransmission
 * timer (50 ms, then doubling: the ~130 ms measured between ICE and DTLS
 * connected). Keep the records that arrive early and hand them to werift's
 * DTLS socket the moment it exists. Returns the unsubscriber.
 */
export function replayEarlyDtls(pc: RTCPeerConnection): () => void {
  const cleanups: (() => void)[] = [];
  for (const transport of new Set(pc.dtlsTransports)) {
    const early: Buffer[] = [];
    const onData = transport.iceTransport.connection.onData.subscribe((buf) => {
      if (transport.state === "new" && isDtls(buf) && early.length < MAX_EARLY_RECORDS) {
        early.push(Buffer.from(buf));
      }
    });
    const onState = transport.onStateChange.subscribe((state) => {
      onData.unSubscribe();
      onState.unSubscribe();
      if (state !== "connecting") return;
      // start() sets "connecting" and then, synchronously, makes the DTLS
      // socket: it exists once this callback's caller has returned.
      queueMicrotask(() => {
        const socket = transport.dtls?.transport.socket;
        if (!socket) return;
        // werift's IceTransport calls onData without an address, and the DTLS socket ignores it.
        for (const record of early.splice(0)) socket.onData(record, ["", 0]);
      });
    });
    cleanups.push(() => {
      onData.unSubscribe();
      onState.unSubscribe();
    });
  }
  return () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
}
