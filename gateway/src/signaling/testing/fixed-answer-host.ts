/**
 * A small real SessionHost for signaling tests: it keeps sessions like the
 * WebRTC session manager does (per viewer, replace on re-offer, viewer limit)
 * and answers every acceptable offer with a fixed SDP. The werift manager is
 * tested in gateway/src/webrtc.
 */
import { EventEmitter } from "node:events";
import { SignalingError } from "../../errors.js";
import { DEFAULT_STREAM } from "../messages.js";
import type {
  ByeReason,
  IceCandidate,
  OfferRequest,
  SessionHost,
  SessionHostEvents,
  ViewerIceServers,
} from "../session-host.js";

export const FIXED_ANSWER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=camgw-test\r\nt=0 0\r\n";

/** An offer SDP this host accepts: it has a video section with H.264. */
export const GOOD_OFFER =
  "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n" +
  "a=rtpmap:102 H264/90000\r\na=fmtp:102 packetization-mode=1\r\n";

export interface HostSession {
  viewerId: string;
  session: string;
  stream: string;
  offers: number;
  remoteCandidates: (IceCandidate | null)[];
}

export class FixedAnswerHost extends EventEmitter<SessionHostEvents> implements SessionHost {
  readonly sessions = new Map<string, HostSession>();
  readonly byes: string[] = [];
  offerCalls = 0;
  /** Local candidates trickled after each answer (then null). */
  localCandidates: IceCandidate[] = [
    {
      candidate: "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host",
      sdpMid: "0",
      sdpMLineIndex: 0,
    },
  ];
  /** Make offer() slow, to test concurrency. */
  answerDelayMs = 0;
  /** Make offer() throw a plain Error (a bug), to test `internal`. */
  crashOnOffer = false;
  /** Viewers iceServersFor() was asked for (it gives a STUN server, and a TURN one in the viewer's name). */
  iceServerCalls: string[] = [];

  constructor(readonly maxViewers = 8) {
    super();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async offer(request: OfferRequest): Promise<string> {
    this.offerCalls += 1;
    if (this.crashOnOffer) throw new Error("boom");
    if (!request.sdp.startsWith("v=0")) {
      throw new SignalingError("bad-request", "the offer SDP does not parse");
    }
    if (!request.sdp.includes("m=video") || !request.sdp.includes("H264")) {
      throw new SignalingError("unsupported", "the offer has no H.264 video section");
    }
    if (request.stream !== DEFAULT_STREAM)
      throw new SignalingError("unsupported", `no stream "${request.stream}"`);
    const key = `${request.viewerId}/${request.session}`;
    const existing = this.sessions.get(key);
    if (!existing && this.sessions.size >= this.maxViewers) {
      throw new SignalingError("busy", `${this.maxViewers} viewers already`);
    }
    const session: HostSession = existing ?? {
      viewerId: request.viewerId,
      session: request.session,
      stream: request.stream,
      offers: 0,
      remoteCandidates: [],
    };
    session.offers += 1;
    this.sessions.set(key, session);
    if (this.answerDelayMs > 0)
      await new Promise((resolve) => setTimeout(resolve, this.answerDelayMs));
    setImmediate(() => {
      if (!this.sessions.has(key)) return;
      for (const c of this.localCandidates)
        this.emit("candidate", request.viewerId, request.session, c);
      this.emit("candidate", request.viewerId, request.session, null);
    });
    return FIXED_ANSWER;
  }

  addCandidate(viewerId: string, session: string, candidate: IceCandidate | null): boolean {
    const s = this.sessions.get(`${viewerId}/${session}`);
    if (!s) return false;
    s.remoteCandidates.push(candidate);
    return true;
  }

  iceServersFor(viewerId: string): ViewerIceServers {
    this.iceServerCalls.push(viewerId);
    return {
      iceServers: [
        { urls: ["stun:127.0.0.1:3478"] },
        { urls: ["turn:127.0.0.1:3478"], username: `9999999999:${viewerId}`, credential: "c" },
      ],
      ttl: 600,
    };
  }

  /** The device's path broke: the viewer is asked to restart ICE. */
  askRestart(viewerId: string, session: string, reason: string): void {
    this.emit("ice-restart", viewerId, session, reason);
  }

  bye(viewerId: string, session: string): void {
    if (this.sessions.delete(`${viewerId}/${session}`)) this.byes.push(`${viewerId}/${session}`);
  }

  /** The device ends a session itself (ICE failure, timeout...). */
  end(viewerId: string, session: string, reason: ByeReason): void {
    if (this.sessions.delete(`${viewerId}/${session}`))
      this.emit("ended", viewerId, session, reason);
  }

  endViewer(viewerId: string, reason: ByeReason): number {
    const mine = [...this.sessions.values()].filter((s) => s.viewerId === viewerId);
    for (const s of mine) this.end(s.viewerId, s.session, reason);
    return mine.length;
  }

  /** Ends every session with bye(shutdown), as the app does before closing signaling. */
  close(): void {
    for (const s of [...this.sessions.values()]) this.end(s.viewerId, s.session, "shutdown");
  }
}
