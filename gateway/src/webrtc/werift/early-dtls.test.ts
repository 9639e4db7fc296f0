import { describe, expect, it } from "vitest";
import { Event, type RTCPeerConnection } from "werift";
import { replayEarlyDtls } from "./early-dtls.js";

type DtlsState = "closed" | "new" | "connected" | "failed" | "connecting";

/**
 * The slice of werift's RTCDtlsTransport that early-dtls.ts touches, built
 * from werift's own Event class: a real werift pair cannot produce the race
 * (a browser's ClientHello arriving before werift's side of ICE completes)
 * on demand; the bench measures the effect with Chromium.
 */
function fakePeer() {
  const received: Buffer[] = [];
  const transport = {
    state: "new" as DtlsState,
    iceTransport: { connection: { onData: new Event<[Buffer]>() } },
    onStateChange: new Event<[DtlsState]>(),
    dtls: undefined as { transport: { socket: { onData: (b: Buffer) => void } } } | undefined,
  };
  /** What werift's start() does: "connecting", then the DTLS socket, synchronously. */
  const start = (): void => {
    transport.state = "connecting";
    transport.onStateChange.execute("connecting");
    transport.dtls = { transport: { socket: { onData: (b: Buffer) => received.push(b) } } };
  };
  const pc = { dtlsTransports: [transport] } as unknown as RTCPeerConnection;
  return { pc, transport, start, received };
}

const clientHello = Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const stunBinding = Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]);
const rtp = Buffer.from([0x80, 96, 0, 1]);

describe("early DTLS replay", () => {
  it("hands DTLS records that arrived before werift's DTLS socket existed to it, in order", async () => {
    const { pc, transport, start, received } = fakePeer();
    replayEarlyDtls(pc);
    const second = Buffer.from([22, 0xfe, 0xfd, 9]);
    transport.iceTransport.connection.onData.execute(clientHello);
    transport.iceTransport.connection.onData.execute(stunBinding);
    transport.iceTransport.connection.onData.execute(rtp);
    transport.iceTransport.connection.onData.execute(second);
    start();
    await Promise.resolve();
    expect(received).toEqual([clientHello, second]);
  });

  it("keeps at most eight records and nothing once the handshake has started", async () => {
    const { pc, transport, start, received } = fakePeer();
    replayEarlyDtls(pc);
    for (let i = 0; i < 20; i++) transport.iceTransport.connection.onData.execute(clientHello);
    start();
    transport.iceTransport.connection.onData.execute(clientHello);
    await Promise.resolve();
    expect(received.length).toBe(8);
  });

  it("replays nothing after it is unsubscribed (the session closed)", async () => {
    const { pc, transport, start, received } = fakePeer();
    const stop = replayEarlyDtls(pc);
    transport.iceTransport.connection.onData.execute(clientHello);
    stop();
    start();
    await Promise.resolve();
    expect(received).toEqual([]);
  });
});
