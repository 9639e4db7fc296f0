import type { MediaStream, RTCPeerConnection, RTCRtpTransceiver } from "werift";
import type { PlannedAudio } from "./audio-plan.js";
import type { AudioFanout } from "./send/audio-fanout.js";
import { AudioSender, type AudioSenderStats } from "./send/audio-sender.js";
import type { TalkFloor } from "./receive/talk-floor.js";
import { TalkReceiver, type TalkReceiverStats } from "./receive/talk-receiver.js";

/**
 * One viewer's audio section over the life of the call: the transceiver,
 * the microphone going out (AudioSender, fed by the shared fan-out) while
 * the viewer listens, and its talk-back coming in (TalkReceiver, to the
 * talk floor) while it talks. A renegotiation may turn either on or off;
 * the section itself stays (JSEP never removes an m= section).
 */

export interface SessionAudioDeps {
  fanout: AudioFanout | undefined;
  floor: TalkFloor | undefined;
  /** The talker's name on the floor (viewerId + session). */
  talker: string;
}

export interface SessionAudioStats extends AudioSenderStats, TalkReceiverStats {}

export class SessionAudio {
  readonly sender = new AudioSender();
  private transceiverRef: RTCRtpTransceiver | undefined;
  private talk: TalkReceiver | undefined;
  private planned: PlannedAudio;
  private connected = false;
  private attached = false;
  private readonly pastTalk: TalkReceiverStats = { packetsReceived: 0, bytesReceived: 0 };
  private closed = false;

  constructor(
    private readonly deps: SessionAudioDeps,
    planned: PlannedAudio,
  ) {
    this.planned = planned;
  }

  /** The section's mid once negotiated (renegotiation must find it in place). */
  get mid(): string | undefined {
    return this.transceiverRef?.mid ?? undefined;
  }

  get direction(): PlannedAudio["direction"] | "inactive" {
    return this.closed ? "inactive" : this.planned.direction;
  }

  /** Whether the microphone goes to the viewer (by the applied plan). */
  get sending(): boolean {
    return !this.closed && this.planned.send;
  }

  get stats(): SessionAudioStats {
    const talk = this.talk?.stats ?? { packetsReceived: 0, bytesReceived: 0 };
    return {
      ...this.sender.stats,
      packetsReceived: this.pastTalk.packetsReceived + talk.packetsReceived,
      bytesReceived: this.pastTalk.bytesReceived + talk.bytesReceived,
    };
  }

  /** Adds the transceiver (before setRemoteDescription). */
  addTo(pc: RTCPeerConnection, stream: MediaStream): void {
    this.transceiverRef = this.sender.addTo(pc, this.planned.direction, stream);
  }

  /** A renegotiation planned the section anew (before setRemoteDescription). */
  update(planned: PlannedAudio | undefined): void {
    const transceiver = this.transceiverRef;
    if (!transceiver || this.closed) return;
    if (planned) {
      this.planned = planned;
      transceiver.setDirection(planned.direction);
    } else {
      this.planned = { ...this.planned, send: false, receive: false };
      transceiver.setDirection("inactive");
    }
  }

  /** The description is applied: follow the plan (talk-back in, microphone out once connected). */
  applied(): void {
    const transceiver = this.transceiverRef;
    if (!transceiver || this.closed) return;
    if (this.planned.receive && this.deps.floor && !this.talk) {
      this.talk = new TalkReceiver(this.deps.talker, this.deps.floor);
      this.talk.listen(transceiver);
    } else if (!this.planned.receive && this.talk) {
      this.stopTalk();
    }
    this.syncSending();
  }

  /** DTLS is up: media may flow. */
  start(): void {
    this.connected = true;
    this.sender.start();
    this.syncSending();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.attached) this.deps.fanout?.detach(this.sender);
    this.attached = false;
    this.stopTalk();
    this.sender.close();
    this.transceiverRef = undefined;
  }

  private syncSending(): void {
    const fanout = this.deps.fanout;
    const want = this.connected && this.planned.send && !this.closed;
    if (!fanout || want === this.attached) return;
    this.attached = want;
    if (want) fanout.attach(this.sender);
    else fanout.detach(this.sender);
  }

  private stopTalk(): void {
    const talk = this.talk;
    if (!talk) return;
    this.talk = undefined;
    const s = talk.stats;
    this.pastTalk.packetsReceived += s.packetsReceived;
    this.pastTalk.bytesReceived += s.bytesReceived;
    talk.close();
  }
}
