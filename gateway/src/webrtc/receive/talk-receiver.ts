import type { MediaStreamTrack, RTCRtpTransceiver, RtpPacket } from "werift";
import type { TalkFloor } from "./talk-floor.js";

/**
 * One viewer's talk-back: the Opus RTP that arrives on its sendrecv (or
 * sendonly, from the viewer's side) audio section goes to the talk floor
 * under the session's name, with its RTP timestamp for the speaker's jitter
 * buffer. werift has already decrypted it and checked the payload type
 * against the negotiated codec (RTCRtpReceiver.handleRTP).
 */

export interface TalkReceiverStats {
  packetsReceived: number;
  bytesReceived: number;
}

export class TalkReceiver {
  private readonly counters: TalkReceiverStats = { packetsReceived: 0, bytesReceived: 0 };
  private readonly unsubscribers: (() => void)[] = [];
  private readonly tracks = new Set<MediaStreamTrack>();
  private closed = false;

  constructor(
    private readonly talker: string,
    private readonly floor: TalkFloor,
  ) {}

  get stats(): TalkReceiverStats {
    return { ...this.counters };
  }

  /** Listens to the transceiver's remote track(s), now and as werift adds them. */
  listen(transceiver: RTCRtpTransceiver): void {
    if (this.closed) return;
    for (const track of transceiver.receiver.tracks) this.follow(track);
    const sub = transceiver.onTrack.subscribe((track) => this.follow(track));
    this.unsubscribers.push(() => sub.unSubscribe());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.floor.leave(this.talker);
  }

  private follow(track: MediaStreamTrack): void {
    if (this.tracks.has(track) || track.kind !== "audio") return;
    this.tracks.add(track);
    const sub = track.onReceiveRtp.subscribe((rtp: RtpPacket) => this.onRtp(rtp));
    this.unsubscribers.push(() => sub.unSubscribe());
  }

  private onRtp(rtp: RtpPacket): void {
    if (this.closed) return;
    this.counters.packetsReceived++;
    this.counters.bytesReceived += rtp.payload.length;
    this.floor.push(this.talker, rtp.payload, rtp.header.timestamp);
  }
}
