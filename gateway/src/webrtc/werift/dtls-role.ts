/**
 * werift 0.24.4 workaround, docs/werift.md "DTLS role".
 *
 * As DTLS client, RTCDtlsTransport.start() sleeps 100 ms before its
 * ClientHello (`await setTimeout(100)` in packages/webrtc/src/transport/
 * dtls.ts), and werift's own answer to an actpass offer is a=setup:active,
 * which puts those 100 ms on every viewer's time to first frame. Answering
 * a=setup:passive instead (RFC 5763 section 5 allows either) makes the
 * viewer the client; a browser sends its ClientHello at once. RFC 5763
 * recommends active to overlap DTLS with the answer's delivery, but with
 * ICE the handshake cannot start before connectivity checks, which need the
 * answer anyway, so passive costs nothing here. werift takes its own role
 * from the answer we hand to setLocalDescription, so rewriting the text is
 * all it takes.
 */

/**
 * The answer with a=setup:passive (we are the DTLS server) when the offer
 * left the role open (a=setup:actpass); otherwise the answer unchanged.
 */
export function answerAsDtlsServer(offerSdp: string, answerSdp: string): string {
  if (!/^a=setup:actpass\s*$/m.test(offerSdp)) return answerSdp;
  return answerSdp.replace(/^a=setup:active(\r?)$/gm, "a=setup:passive$1");
}
