import { EventEmitter } from "node:events";
import { CamgwError, SignalingError } from "../errors.js";
import type { H264Source } from "../media/source.js";
import type {
  ByeReason,
  IceCandidate,
  OfferRequest,
  SessionHostEvents,
  ViewerIceServers,
} from "../signaling/session-host.js";
import type { IceConfig } from "./ice-config.js";
import { IceServerProvider } from "./ice-server-provider.js";
import { planOffer, type AcceptedOffer } from "./offer-plan.js";
import { parseOfferSdp } from "./offer-sdp.js";
import { emptyFanoutStats, StreamFanout, type StreamFanoutStats } from "./send/stream-fanout.js";
import type { VideoSenderStats } from "./send/video-sender.js";
import { ViewerSession } from "./viewer-session.js";
import { describePair } from "./werift/selected-pair.js";

/**
 * The device side of every viewer session. Implements SessionHost
 * (gateway/src/signaling/session-host.ts) structurally: signaling calls
 * offer/addCandidate/bye and listens for `candidate` and `ended`.
 */

export interface SessionManagerOptions {
  /** Sources by stream id (the offer's `stream`, default "main"). */
  streams: Readonly<Record<string, H264Source>>;
  /**
   * The H.264 profile-level-id each stream will have (e.g. "640028" for a
   * camera giving High profile), used to pick the viewer's codec until the
   * source's first SPS says; default "42e01f" (constrained baseline 3.1).
   */
  profileLevelIds?: Readonly<Record<string, string>>;
  /** Live sessions allowed, negotiating ones included (default 8). */
  maxViewers?: number;
  /** ICE servers and host candidate policy (default: no servers, all host addresses). */
  ice?: IceConfig;
  /**
   * Where each session's ICE servers (fresh TURN credentials) and each
   * viewer's come from; in place of `ice.iceServers`. Default: a provider of
   * `ice.iceServers` as they are (viewers get their STUN URLs only).
   */
  iceServers?: IceServerProvider;
  /**
   * Ask a connected viewer to restart ICE after this long without consent
   * or RTCP from it (default 3000 ms; 0: never): its path may have changed
   * (docs/signaling.md, "Recovery").
   */
  restartHintAfterMs?: number;
  /** Maximum RTP payload size in bytes (default 1200, see h264-payloader.ts). */
  maxPayloadSize?: number;
  /** Retransmission history per stream, packets (default 1024, >= 1 s at ~9.8 Mbit/s). */
  historyPackets?: number;
  /** Minimum time between key frame requests to a source (default 500 ms). */
  keyFrameMinIntervalMs?: number;
  /** End a session after this long without consent/RTCP/anything (default 15000 ms, spec). */
  livenessTimeoutMs?: number;
  /** Keep sources running with no viewer (default false: stop with the last viewer). */
  keepWarm?: boolean;
  /** Give up on an offer werift has not answered after this long (default 1000 ms, spec). */
  answerTimeoutMs?: number;
  /** DTLS role for actpass offers (default "server": answer setup:passive, see werift/dtls-role.ts). */
  dtlsRole?: "server" | "client";
}

export interface SessionManagerStats {
  sessions: number;
  connectedSessions: number;
  sessionsCreated: number;
  sessionsEnded: Record<ByeReason | "bye" | "replaced-silently", number>;
  offersRefused: Record<string, number>;
  framesPacketized: number;
  packetsPacketized: number;
  packetsSent: number;
  bytesSent: number;
  keyFrameRequests: number;
  keyFramesRequestedFromSource: number;
  nacksReceived: number;
  packetsRetransmitted: number;
  nackMisses: number;
  pliReceived: number;
  firReceived: number;
  badFrames: number;
  /** Sessions that connected, by path: "<local type>-<remote type>" of the nominated pair. */
  connectionsByPath: Record<string, number>;
  /** Viewers asked to restart ICE, by reason (address-changed, consent-lost). */
  iceRestartsRequested: Record<string, number>;
}

interface Entry {
  readonly viewerId: string;
  readonly session: string;
  readonly viewer: ViewerSession;
  readonly stream: StreamFanout;
  /** An ice-restart was asked for this silence; reset when the viewer is heard again. */
  hinted: boolean;
}

const key = (viewerId: string, session: string): string => `${viewerId}\u0000${session}`;

export class SessionManager extends EventEmitter<SessionHostEvents> {
  readonly maxViewers: number;
  private readonly ice: IceConfig;
  private readonly iceServers: IceServerProvider;
  private readonly restartHintAfterMs: number;
  private readonly paths: Record<string, number> = {};
  private readonly restartsRequested: Record<string, number> = {};
  private readonly livenessTimeoutMs: number;
  private readonly answerTimeoutMs: number;
  private readonly dtlsRole: "server" | "client";
  private readonly streams = new Map<string, StreamFanout>();
  private readonly sessions = new Map<string, Entry>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private created = 0;
  private readonly ended: SessionManagerStats["sessionsEnded"] = {
    shutdown: 0,
    timeout: 0,
    "ice-failed": 0,
    "source-lost": 0,
    replaced: 0,
    kicked: 0,
    bye: 0,
    "replaced-silently": 0,
  };
  private readonly refused: Record<string, number> = {};
  /** Counters of sessions that are gone, so totals never go down. */
  private readonly past: VideoSenderStats = {
    packetsSent: 0,
    bytesSent: 0,
    framesSent: 0,
    nacksReceived: 0,
    retransmittedByWerift: 0,
    retransmittedFromHistory: 0,
    nackMisses: 0,
    pliReceived: 0,
    firReceived: 0,
  };

  constructor(options: SessionManagerOptions) {
    super();
    this.maxViewers = options.maxViewers ?? 8;
    this.ice = options.ice ?? {};
    this.iceServers =
      options.iceServers ??
      new IceServerProvider({ servers: this.ice.iceServers ?? [], deviceId: "camgw" });
    this.restartHintAfterMs = options.restartHintAfterMs ?? 3000;
    this.livenessTimeoutMs = options.livenessTimeoutMs ?? 15_000;
    this.answerTimeoutMs = options.answerTimeoutMs ?? 1000;
    this.dtlsRole = options.dtlsRole ?? "server";
    for (const [id, source] of Object.entries(options.streams)) {
      const stream = new StreamFanout({
        id,
        source,
        maxPayloadSize: options.maxPayloadSize,
        historyPackets: options.historyPackets,
        keyFrameMinIntervalMs: options.keyFrameMinIntervalMs,
        keepWarm: options.keepWarm,
        profileLevelId: options.profileLevelIds?.[id],
      });
      stream.on("sourceLost", () => this.endStream(stream, "source-lost"));
      this.streams.set(id, stream);
    }
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Starts every stream's source now (for keepWarm). */
  async warmUp(): Promise<void> {
    await Promise.all([...this.streams.values()].map((s) => s.warmUp()));
  }

  async offer(request: OfferRequest): Promise<string> {
    try {
      return await this.negotiate(request);
    } catch (error) {
      // Labelled as the viewer is answered: a spec code, or internal.
      const code = error instanceof SignalingError ? error.code : "internal";
      this.refused[code] = (this.refused[code] ?? 0) + 1;
      throw error;
    }
  }

  addCandidate(viewerId: string, session: string, candidate: IceCandidate | null): boolean {
    const entry = this.sessions.get(key(viewerId, session));
    if (!entry) return false;
    entry.viewer.addRemoteCandidate(candidate);
    return true;
  }

  /** The ICE servers for one viewer, TURN credentials made for it now (any transport's answer). */
  iceServersFor(viewerId: string): ViewerIceServers {
    return this.iceServers.forViewer(viewerId);
  }

  /**
   * This host's addresses changed. werift gathers once per peer
   * connection, so a session whose path used a removed address cannot heal
   * by itself: its viewer is asked to restart ICE (a new offer gives the
   * session a new peer connection that gathers on the addresses there are
   * now). A relayed or reflexive path is asked too, its base may have been
   * the removed address. Returns how many viewers were asked.
   */
  networkChanged(removed: readonly string[]): number {
    this.iceServers.forgetTransports();
    if (removed.length === 0) return 0;
    let asked = 0;
    for (const entry of this.sessions.values()) {
      if (entry.viewer.state !== "connected") continue;
      const local = entry.viewer.pair?.local;
      if (local?.type === "host" && !removed.includes(local.address)) continue;
      this.requestRestart(entry, "address-changed");
      asked++;
    }
    return asked;
  }

  bye(viewerId: string, session: string): void {
    const entry = this.sessions.get(key(viewerId, session));
    if (!entry) return;
    this.ended.bye++;
    this.remove(entry);
    void entry.viewer.close();
  }

  /** Ends every session (bye reason shutdown), releases the sources; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const entries = [...this.sessions.values()];
    for (const entry of entries) this.finish(entry, "shutdown");
    await Promise.all(entries.map((e) => e.viewer.close()));
    await Promise.all([...this.streams.values()].map((s) => s.close()));
    this.stopSweep();
  }

  get stats(): SessionManagerStats {
    const total = { ...this.past };
    let connected = 0;
    for (const { viewer } of this.sessions.values()) {
      if (viewer.state === "connected") connected++;
      const video = viewer.video.stats;
      for (const k of Object.keys(total) as (keyof VideoSenderStats)[]) total[k] += video[k];
    }
    const streams = emptyFanoutStats();
    for (const s of this.streams.values()) {
      for (const k of Object.keys(streams) as (keyof StreamFanoutStats)[]) streams[k] += s.stats[k];
    }
    return {
      sessions: this.sessions.size,
      connectedSessions: connected,
      sessionsCreated: this.created,
      sessionsEnded: { ...this.ended },
      offersRefused: { ...this.refused },
      framesPacketized: streams.frames,
      packetsPacketized: streams.packets,
      packetsSent: total.packetsSent,
      bytesSent: total.bytesSent,
      keyFrameRequests: streams.keyFrameRequests,
      keyFramesRequestedFromSource: streams.keyFramesRequestedFromSource,
      nacksReceived: total.nacksReceived,
      packetsRetransmitted: total.retransmittedByWerift + total.retransmittedFromHistory,
      nackMisses: total.nackMisses,
      pliReceived: total.pliReceived,
      firReceived: total.firReceived,
      badFrames: streams.badFrames,
      connectionsByPath: { ...this.paths },
      iceRestartsRequested: { ...this.restartsRequested },
    };
  }

  private async negotiate(request: OfferRequest): Promise<string> {
    const { viewerId, session } = request;
    const context = { viewerId, session };
    if (this.closed) throw new SignalingError("internal", "the gateway is shutting down", context);
    // Checked in the spec's order (signaling-v1 "Messages", step 6): parse
    // (bad-request), the plan (unsupported), then the viewer limit (busy).
    const offer = parseOfferSdp(request.sdp);
    const plan = planOffer(offer, request.stream, this.streams.get(request.stream));
    if (!plan.accepted) {
      throw new SignalingError(plan.code, plan.message, { ...context, ...plan.context });
    }
    const existing = this.sessions.get(key(viewerId, session));
    const otherSessions = this.sessions.size - (existing ? 1 : 0);
    if (otherSessions >= this.maxViewers) {
      throw new SignalingError("busy", `the viewer limit (${this.maxViewers}) is reached`, {
        ...context,
        maxViewers: this.maxViewers,
      });
    }
    if (existing) {
      // A replacing offer (ICE restart, renegotiation) ends the old peer
      // connection without a bye (spec "Session rules").
      this.ended["replaced-silently"]++;
      this.remove(existing);
      void existing.viewer.close();
    }
    return this.answer(this.open(viewerId, session, plan.stream), plan);
  }

  /** Creates a session for a viewer of `stream` and wires it to the stream and to signaling. */
  private open(viewerId: string, session: string, stream: StreamFanout): Entry {
    // Fresh servers per session: its TURN credentials are made now.
    const servers = this.iceServers.forGateway();
    const viewer = new ViewerSession({
      viewerId,
      session,
      history: stream.history,
      ice: { ...this.ice, iceServers: servers.servers },
      dtlsRole: this.dtlsRole,
    });
    const entry: Entry = { viewerId, session, viewer, stream, hinted: false };
    this.sessions.set(key(viewerId, session), entry);
    this.created++;
    viewer.on("candidate", (c) => this.emit("candidate", viewerId, session, c));
    viewer.on("ended", (reason) => this.finish(entry, reason));
    viewer.on("relay", (transport) => {
      if (servers.racedTurnUrl) this.iceServers.noteTurnTransport(servers.racedTurnUrl, transport);
    });
    viewer.on("connected", () => {
      const pair = viewer.pair;
      const path = pair ? `${pair.local.type}-${pair.remote.type}` : "unknown";
      this.paths[path] = (this.paths[path] ?? 0) + 1;
      this.emit("connected", viewerId, session, pair ? describePair(pair) : "unknown pair");
    });
    viewer.video.on("keyFrameRequest", (kind) => stream.requestKeyFrame(kind));
    stream.attach(viewer.video);
    this.startSweep();
    return entry;
  }

  /** The session's answer within answerTimeoutMs; on any failure the session is freed. */
  private async answer(entry: Entry, plan: AcceptedOffer): Promise<string> {
    const { viewer } = entry;
    const context = { viewerId: entry.viewerId, session: entry.session };
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        viewer.answer(plan),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(
              new SignalingError(
                "internal",
                `no answer within ${this.answerTimeoutMs} ms`,
                context,
              ),
            );
          }, this.answerTimeoutMs);
        }),
      ]);
      // Candidates trickle after the answer: the caller's continuation (which
      // publishes the answer) runs before this macrotask.
      setImmediate(() => viewer.releaseCandidates());
      return answer;
    } catch (error) {
      if (this.sessions.get(key(entry.viewerId, entry.session)) === entry) this.remove(entry);
      void viewer.close();
      if (error instanceof CamgwError) throw error;
      throw new SignalingError("unsupported", "werift could not negotiate the offer", context, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The session ended by itself (or for shutdown): tell signaling, free it. */
  private finish(entry: Entry, reason: ByeReason): void {
    if (this.sessions.get(key(entry.viewerId, entry.session)) !== entry) return;
    this.ended[reason]++;
    this.remove(entry);
    void entry.viewer.close();
    this.emit("ended", entry.viewerId, entry.session, reason);
  }

  /** Asks the viewer (through signaling) for a new offer on this session. */
  private requestRestart(entry: Entry, reason: string): void {
    entry.hinted = true;
    this.restartsRequested[reason] = (this.restartsRequested[reason] ?? 0) + 1;
    this.emit("ice-restart", entry.viewerId, entry.session, reason);
  }

  private remove(entry: Entry): void {
    this.sessions.delete(key(entry.viewerId, entry.session));
    entry.stream.detach(entry.viewer.video);
    const video = entry.viewer.video.stats;
    for (const k of Object.keys(this.past) as (keyof VideoSenderStats)[]) this.past[k] += video[k];
    if (this.sessions.size === 0) this.stopSweep();
  }

  private endStream(stream: StreamFanout, reason: ByeReason): void {
    for (const entry of [...this.sessions.values()]) {
      if (entry.stream === stream) this.finish(entry, reason);
    }
  }

  /** One timer for all sessions, running only while there are any. */
  private startSweep(): void {
    if (this.sweepTimer) return;
    const shortest = Math.min(this.livenessTimeoutMs, this.restartHintAfterMs || Infinity);
    const every = Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
    this.sweepTimer = setInterval(() => {
      const now = performance.now();
      for (const entry of [...this.sessions.values()]) {
        if (entry.viewer.isSilentFor(this.livenessTimeoutMs, now)) {
          this.finish(entry, "timeout");
          continue;
        }
        if (this.restartHintAfterMs <= 0 || entry.viewer.state !== "connected") continue;
        // A viewer whose checks stopped may have moved (a phone between
        // networks) and still hear signaling: a restart brings it back
        // well before the liveness timeout would end the session.
        const silent = entry.viewer.isSilentFor(this.restartHintAfterMs, now);
        if (silent && !entry.hinted) this.requestRestart(entry, "consent-lost");
        else if (!silent) entry.hinted = false;
      }
    }, every);
  }

  private stopSweep(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}
