import { EventEmitter } from "node:events";
import type { RTCDataChannel } from "werift";
import type { BandwidthEstimate } from "../congestion/bandwidth-estimator.js";
import type { TraceEvent } from "../congestion/trace.js";
import type { SessionView } from "../control/control-services.js";
import { CamgwError, SignalingError } from "../errors.js";
import type { OpusSource } from "../media/audio-source.js";
import type { H264Source, SourceStatus } from "../media/source.js";
import type { OpusSink } from "../media/speaker.js";
import type {
  ByeReason,
  IceCandidate,
  OfferRequest,
  SessionHostEvents,
  SourceUpdate,
  ViewerIceServers,
} from "../signaling/session-host.js";
import type { IceConfig, IceServer } from "./ice-config.js";
import { IceServerProvider } from "./ice-server-provider.js";
import {
  countMediaSections,
  MAX_MEDIA_SECTIONS,
  tooManySections,
  planOffer,
  type AcceptedOffer,
  type PlanOptions,
} from "./offer-plan.js";
import { parseOfferSdp } from "./offer-sdp.js";
import { offerCodec, OutboundSession, type OutboundRequest } from "./outbound-session.js";
import { TalkFloor, talkerName } from "./receive/talk-floor.js";
import { MAX_REMOTE_CANDIDATES } from "./remote-candidates.js";
import { AudioFanout } from "./send/audio-fanout.js";
import type { BitratePolicyOptions } from "./send/bitrate-policy.js";
import type { DegradationMode } from "./send/degradation-policy.js";
import { emptyFanoutStats, StreamFanout, type StreamFanoutStats } from "./send/stream-fanout.js";
import type { RepairPolicyOptions } from "./send/repair-policy.js";
import type { VideoSenderOptions } from "./send/video-sender.js";
import { emptyVideoSenderStats, type VideoSenderStats } from "./send/video-sender-stats.js";
import { ViewerSession } from "./viewer-session.js";
import type { WireHeader } from "./werift/rtp-send.js";
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
  /**
   * Sessions allowed at once (default 8): connected ones, and negotiating
   * ones for their first `negotiationGraceMs` (see negotiate()).
   */
  maxViewers?: number;
  /** Sessions one viewer may hold at once, negotiating ones included (default 2). */
  maxSessionsPerViewer?: number;
  /** A session that has not connected (ICE + DTLS) this long after its offer ends with bye `timeout` (default 10 000 ms). */
  connectTimeoutMs?: number;
  /**
   * How long a negotiating session holds its slot against a new offer when
   * the device is full (default 3000 ms); an older one is ended for the new
   * offer (bye `timeout`).
   */
  negotiationGraceMs?: number;
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
  /** A PLI this soon after an IDR went out is served by it (default 150 ms; keyframe-requester.ts). */
  keyFrameInFlightMs?: number;
  /** End a session after this long without consent/RTCP/anything (default 15000 ms, spec). */
  livenessTimeoutMs?: number;
  /** Keep sources running with no viewer (default false: stop with the last viewer). */
  keepWarm?: boolean;
  /** Give up on an offer werift has not answered after this long (default 1000 ms, spec). */
  answerTimeoutMs?: number;
  /** DTLS role for actpass offers (default "server": answer setup:passive, see werift/dtls-role.ts). */
  dtlsRole?: "server" | "client";
  /**
   * Each stream's encoder follows its lowest viewer estimate within these
   * bounds (send/bitrate-policy.ts); absent, encoders keep their rate.
   */
  encoderBitrate?: BitratePolicyOptions;
  /**
   * With `encoderBitrate`: what steps down when the bitrate alone cannot
   * fit, and back up (send/degradation-policy.ts); absent, only the bitrate.
   */
  degradation?: DegradationMode;
  /**
   * With `encoderBitrate`: a viewer far below the others watches a second,
   * lower encoding of its stream (send/second-encoding.ts), where the
   * source can make one (default false).
   */
  lowEncoding?: boolean;
  /** Start, floor and ceiling of each viewer's bandwidth estimate, bit/s (docs/congestion.md). */
  bandwidth?: VideoSenderOptions["bandwidth"];
  /** Pacing over the estimate (default factor 2.5); false: packets leave as the encoder makes them. */
  pacing?: VideoSenderOptions["pacing"];
  /** playout-delay sent to viewers (default min 0, max 100 ms); false: none. */
  playoutDelay?: VideoSenderOptions["playoutDelay"];
  /** Limits on NACK repair (send/repair-policy.ts). */
  repair?: RepairPolicyOptions;
  /** Tests only: RTP packets to drop on the wire to a viewer (induced loss). */
  dropOnWire?: (viewerId: string, header: WireHeader) => boolean;
  /** Records what each viewer's estimator is told (congestion/trace.ts), e.g. to keep traces of lab runs. */
  congestionTrace?: (viewerId: string, event: TraceEvent) => void;
  /**
   * Sound: the microphone viewers may listen to, the speaker they may talk
   * into (each only where config allows it); neither by default.
   */
  audio?: { microphone?: OpusSource | undefined; speaker?: OpusSink | undefined };
  /** Handed each session's control DataChannel (docs/control.md); none: no DataChannel is answered. */
  control?: ControlChannelHandler;
  /** Problems worth a log line that end no session (a microphone that failed, a speaker). */
  warn?: (message: string) => void;
  /** Changes worth a log line (a stream stepping its size to fit the bitrate). */
  info?: (message: string) => void;
}

/** One connected viewer's sending state, as /metrics may show it per viewer. */
export interface ViewerSenderState {
  readonly viewerId: string;
  readonly session: string;
  readonly stream: string;
  readonly estimate: BandwidthEstimate;
  /** How long the oldest packet in the viewer's pacer has waited, ms. */
  readonly pacerQueueMs: number;
  readonly pacingBps: number;
  /** The encoding the viewer is sent: the stream's main one or its lower one. */
  readonly encoding: "main" | "low";
}

/** What takes a session's control channel (webrtc/data-channel.ts serveControl). */
export type ControlChannelHandler = (
  channel: RTCDataChannel,
  session: ViewerSession,
  view: SessionView,
) => void;

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
  /** Repairs sent, as RTX or as the original packet. */
  packetsRetransmitted: number;
  nackMisses: number;
  pliReceived: number;
  firReceived: number;
  badFrames: number;
  /** What the encoders are asked for, kbit/s, summed over streams that follow their viewers (0: none does). */
  encoderTargetKbps: number;
  /** What the second, lower encoders are asked for, kbit/s, summed over streams where one runs (0: none). */
  lowEncoderTargetKbps: number;
  /** Frames a second the main encoders are given, the lowest over streams (frame-rate steps; 0: no stream). */
  encoderFps: number;
  /** Live sessions by the transport they came through (mqtt, whep, whip). */
  sessionsByTransport: Record<string, number>;
  /** Offers that restarted ICE on a live session rather than replacing it. */
  iceRestarts: number;
  /** Every viewer sender's counters, summed over present and past viewers. */
  video: VideoSenderStats;
  /** Each connected viewer's estimate and pacer. */
  viewers: ViewerSenderState[];
  /** Viewer candidates not paired with: unreachable kinds, or over the per-session cap. */
  candidatesRefused: number;
  /** Sessions that connected, by path: "<local type>-<remote type>" of the nominated pair. */
  connectionsByPath: Record<string, number>;
  /** Viewers asked to restart ICE, by reason (address-changed, consent-lost). */
  iceRestartsRequested: Record<string, number>;
  /** Offers answered on a live peer connection (no new ICE or DTLS). */
  renegotiations: number;
  audioPacketsSent: number;
  audioBytesSent: number;
  talkPacketsReceived: number;
  talkPacketsPlayed: number;
  /** Talk-back dropped because another viewer held the floor. */
  talkPacketsBusy: number;
}

interface Entry {
  readonly viewerId: string;
  readonly session: string;
  readonly viewer: ViewerSession;
  readonly stream: StreamFanout;
  /** The transport the session came through (OfferRequest.transport), for stats. */
  readonly transport: string;
  /** Set for an outbound session (openOutbound): its end goes there, not to signaling. */
  readonly outbound?: OutboundSession;
  /** When the offer that made it arrived (performance.now()). */
  readonly openedAt: number;
  /** An ice-restart was asked for this silence; reset when the viewer is heard again. */
  hinted: boolean;
}

const key = (viewerId: string, session: string): string => `${viewerId}\u0000${session}`;

export class SessionManager extends EventEmitter<SessionHostEvents> {
  readonly maxViewers: number;
  readonly maxSessionsPerViewer: number;
  private readonly connectTimeoutMs: number;
  private readonly negotiationGraceMs: number;
  private candidatesRefused = 0;
  private readonly ice: IceConfig;
  private readonly iceServers: IceServerProvider;
  private readonly restartHintAfterMs: number;
  private readonly paths: Record<string, number> = {};
  private readonly restartsRequested: Record<string, number> = {};
  private readonly livenessTimeoutMs: number;
  private readonly answerTimeoutMs: number;
  private readonly dtlsRole: "server" | "client";
  private readonly streams = new Map<string, StreamFanout>();
  private readonly microphone: AudioFanout | undefined;
  private readonly floor: TalkFloor | undefined;
  private readonly control: ControlChannelHandler | undefined;
  private renegotiated = 0;
  private readonly pastAudio = { packetsSent: 0, bytesSent: 0, packetsReceived: 0 };
  private readonly sessions = new Map<string, Entry>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private created = 0;
  private iceRestarts = 0;
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
  private readonly past: VideoSenderStats = emptyVideoSenderStats();
  private readonly videoOptions: Omit<
    VideoSenderOptions,
    "history" | "streamBps" | "dropOnWire" | "trace"
  >;
  private readonly congestionTrace: SessionManagerOptions["congestionTrace"];
  private readonly dropOnWire: SessionManagerOptions["dropOnWire"];

  constructor(options: SessionManagerOptions) {
    super();
    this.maxViewers = options.maxViewers ?? 8;
    this.maxSessionsPerViewer = options.maxSessionsPerViewer ?? 2;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.negotiationGraceMs = options.negotiationGraceMs ?? 3000;
    this.ice = options.ice ?? {};
    this.iceServers =
      options.iceServers ??
      new IceServerProvider({ servers: this.ice.iceServers ?? [], deviceId: "camgw" });
    this.restartHintAfterMs = options.restartHintAfterMs ?? 3000;
    this.livenessTimeoutMs = options.livenessTimeoutMs ?? 15_000;
    this.answerTimeoutMs = options.answerTimeoutMs ?? 1000;
    this.dtlsRole = options.dtlsRole ?? "server";
    this.videoOptions = {
      bandwidth: options.bandwidth,
      pacing: options.pacing,
      playoutDelay: options.playoutDelay,
      repair: options.repair,
    };
    this.dropOnWire = options.dropOnWire;
    this.congestionTrace = options.congestionTrace;
    for (const [id, source] of Object.entries(options.streams)) {
      const stream = new StreamFanout({
        id,
        source,
        maxPayloadSize: options.maxPayloadSize,
        historyPackets: options.historyPackets,
        keyFrameInFlightMs: options.keyFrameInFlightMs,
        ...(options.encoderBitrate
          ? {
              bitrate: options.encoderBitrate,
              degradation: options.degradation,
              lowEncoding: options.lowEncoding,
            }
          : {}),
        keepWarm: options.keepWarm,
        profileLevelId: options.profileLevelIds?.[id],
      });
      // Sessions outlive a camera that recovers: its viewers are told, and
      // only a source given up for good (source-timeout) ends them.
      stream.on("state", (status) => this.tellViewers(stream, status));
      stream.on("sourceLost", () => this.endStream(stream, "source-lost"));
      stream.on("resized", (size, error) => {
        const to = `${size.width}x${size.height}`;
        if (error)
          options.warn?.(`stream ${id}: cannot step to ${to} to fit the bitrate: ${error.message}`);
        else options.info?.(`stream ${id}: encoding at ${to} to fit the bitrate`);
      });
      stream.on("frameRate", (fps, error) => {
        if (error) options.warn?.(`stream ${id}: cannot encode at ${fps} fps: ${error.message}`);
        else options.info?.(`stream ${id}: encoding at ${fps} fps to fit the bitrate`);
      });
      stream.on("lowEncoding", (low) => {
        if (low)
          options.info?.(
            `stream ${id}: a second encoding at ${low.width}x${low.height} (${low.encoder}) for a viewer far below the others`,
          );
        else options.info?.(`stream ${id}: second encoding stopped (nobody needs it)`);
      });
      stream.on("viewerMoved", (sink, layer) => {
        for (const entry of this.sessions.values()) {
          if (entry.viewer.video !== sink) continue;
          options.info?.(
            `stream ${id}: viewer ${entry.viewerId} (session ${entry.session}) now watches the ${layer} encoding`,
          );
        }
      });
      stream.on("lowEncodingFailed", (error) =>
        options.warn?.(`stream ${id}: no second encoding: ${error.message}`),
      );
      this.streams.set(id, stream);
    }
    const warn = options.warn ?? (() => undefined);
    const { microphone, speaker } = options.audio ?? {};
    if (microphone) {
      this.microphone = new AudioFanout({ source: microphone, keepWarm: options.keepWarm });
      this.microphone.on("error", (err) => warn(`microphone: ${err.message}`));
    }
    if (speaker) {
      this.floor = new TalkFloor(speaker);
      this.floor.on("error", (err) => warn(`speaker: ${err.message}`));
      this.floor.on("busy", (talker) => {
        for (const entry of this.sessions.values()) {
          if (talkerName(entry.viewerId, entry.session) === talker) entry.viewer.emit("talkBusy");
        }
      });
    }
    this.control = options.control;
  }

  /** What offers may get besides video. */
  private get planOptions(): PlanOptions {
    return {
      audio: { listen: this.microphone !== undefined, talk: this.floor !== undefined },
      dataChannel: this.control !== undefined,
    };
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Keeps a stream's source running with nobody watching (snapshots) until
   * the returned function is called; null for an unknown stream.
   */
  holdStream(id: string): (() => void) | null {
    return this.streams.get(id)?.hold() ?? null;
  }

  /** Starts every stream's source now (for keepWarm). */
  async warmUp(): Promise<void> {
    await Promise.all([
      ...[...this.streams.values()].map((s) => s.warmUp()),
      this.microphone?.warmUp(),
    ]);
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

  /**
   * Adds a viewer's candidate; false when the session does not exist. One
   * the device cannot pair with is counted and dropped; past the
   * per-session cap the viewer is told (bad-request).
   */
  addCandidate(viewerId: string, session: string, candidate: IceCandidate | null): boolean {
    const entry = this.sessions.get(key(viewerId, session));
    if (!entry) return false;
    const result = entry.viewer.addRemoteCandidate(candidate);
    if (result !== "added") this.candidatesRefused++;
    if (result === "over-limit") {
      throw new SignalingError(
        "bad-request",
        `more than ${MAX_REMOTE_CANDIDATES} candidates for this session; the rest are ignored`,
        { viewerId, session },
      );
    }
    return true;
  }

  /** Ends every session of a viewer (e.g. its account was removed); returns how many. */
  endViewer(viewerId: string, reason: ByeReason): number {
    let ended = 0;
    for (const entry of [...this.sessions.values()]) {
      if (entry.viewerId !== viewerId) continue;
      this.finish(entry, reason);
      ended++;
    }
    return ended;
  }

  /** The ICE servers for one viewer, TURN credentials made for it now (any transport's answer). */
  iceServersFor(viewerId: string): ViewerIceServers {
    return this.iceServers.forViewer(viewerId);
  }

  /**
   * This host's addresses changed. werift gathers once per ICE generation,
   * so a session whose path used a removed address cannot heal by itself:
   * its viewer is asked to restart ICE. Its restart offer is answered in
   * place (offerChange says ice-restart, renegotiation.ts: a new ICE
   * generation that gathers on the addresses there are now, the same DTLS
   * association), or, from a viewer that
   * offers from a new peer connection, by a replacing session. A relayed
   * or reflexive path is asked too, its base may have been the removed
   * address. Outbound sessions (WHIP) have nobody to ask: the liveness
   * timeout ends them and the egress reconnects. Returns how many viewers
   * were asked.
   */
  networkChanged(removed: readonly string[]): number {
    this.iceServers.forgetTransports();
    if (removed.length === 0) return 0;
    let asked = 0;
    for (const entry of this.sessions.values()) {
      if (entry.outbound || entry.viewer.state !== "connected") continue;
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
    entry.outbound?.markClosed();
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
    await this.microphone?.close();
    this.floor?.close();
    this.stopSweep();
  }

  get stats(): SessionManagerStats {
    const total = { ...this.past };
    const audio = { ...this.pastAudio };
    let connected = 0;
    const byTransport: Record<string, number> = {};
    const viewers: ViewerSenderState[] = [];
    for (const entry of this.sessions.values()) {
      const { viewer, transport } = entry;
      byTransport[transport] = (byTransport[transport] ?? 0) + 1;
      if (viewer.state === "connected") {
        connected++;
        viewers.push({
          viewerId: entry.viewerId,
          session: entry.session,
          stream: entry.stream.id,
          estimate: viewer.video.estimate,
          pacerQueueMs: viewer.video.pacerQueueMs,
          pacingBps: viewer.video.pacingBps,
          encoding: entry.stream.encodingOf(viewer.video),
        });
      }
      addSenderStats(total, viewer.video.stats);
      const a = viewer.audioStats;
      for (const k of Object.keys(audio) as (keyof typeof audio)[]) audio[k] += a?.[k] ?? 0;
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
      packetsRetransmitted: total.rtxSent + total.resentWithoutRtx,
      nackMisses: total.nackMisses,
      pliReceived: total.pliReceived,
      firReceived: total.firReceived,
      badFrames: streams.badFrames,
      encoderTargetKbps: [...this.streams.values()].reduce(
        (sum, st) => sum + (st.encoderTargetKbps ?? 0),
        0,
      ),
      lowEncoderTargetKbps: [...this.streams.values()].reduce(
        (sum, st) => sum + (st.lowEncoderTargetKbps ?? 0),
        0,
      ),
      encoderFps: this.streams.size
        ? Math.min(...[...this.streams.values()].map((st) => st.encoderFps))
        : 0,
      sessionsByTransport: byTransport,
      iceRestarts: this.iceRestarts,
      video: total,
      viewers,
      candidatesRefused: this.candidatesRefused,
      connectionsByPath: { ...this.paths },
      iceRestartsRequested: { ...this.restartsRequested },
      renegotiations: this.renegotiated,
      audioPacketsSent: audio.packetsSent,
      audioBytesSent: audio.bytesSent,
      talkPacketsReceived: audio.packetsReceived,
      talkPacketsPlayed: this.floor?.stats.packetsPlayed ?? 0,
      talkPacketsBusy: this.floor?.stats.packetsBusy ?? 0,
    };
  }

  private async negotiate(request: OfferRequest): Promise<string> {
    const { viewerId, session } = request;
    const context = { viewerId, session };
    if (this.closed) throw new SignalingError("internal", "the gateway is shutting down", context);
    // Checked in the spec's order (signaling-v1 "Messages", step 6): parse
    // (bad-request), the plan (unsupported), then the viewer limit (busy).
    // One exception, before parsing: an offer of more media sections than
    // the plan takes is unsupported whatever its lines hold, and is refused
    // without the cost of reading them (docs/signaling.md, "Floods").
    const sections = countMediaSections(request.sdp);
    if (sections > MAX_MEDIA_SECTIONS) {
      throw new SignalingError("unsupported", tooManySections(sections), {
        ...context,
        sections,
      });
    }
    const offer = parseOfferSdp(request.sdp);
    const plan = planOffer(
      offer,
      request.stream,
      this.streams.get(request.stream),
      this.planOptions,
    );
    if (!plan.accepted) {
      throw new SignalingError(plan.code, plan.message, { ...context, ...plan.context });
    }
    const existing = this.sessions.get(key(viewerId, session));
    // One decision (renegotiation.ts, via the session): an ICE restart or a
    // renegotiation is answered on the same peer connection, anything else
    // replaces it (docs/signaling.md "Renegotiation and ICE restarts").
    const change = existing?.stream === plan.stream ? existing.viewer.offerChange(plan) : undefined;
    if (existing && change && change.kind !== "replacement") {
      return this.answerInPlace(existing, plan, change.kind);
    }
    this.admit(viewerId, existing);
    if (existing) {
      // A replacing offer ends the old peer connection without a bye (spec
      // "Session rules").
      this.ended["replaced-silently"]++;
      this.remove(existing);
      void existing.viewer.close();
    }
    const entry = this.open(viewerId, session, plan.stream, request.transport ?? "direct");
    return this.answer(entry, plan);
  }

  /**
   * Opens an outbound session on `stream` (WHIP egress, RFC 9725): one more
   * sink on the stream's fan-out, like a viewer, but we offer and a media
   * server answers. It keeps the stream running, shares its encoder, key
   * frame requests and liveness rule with the viewers, and does not count
   * against maxViewers. Resolves once the offer is ready (OutboundSession.offer).
   */
  async openOutbound(request: OutboundRequest): Promise<OutboundSession> {
    const { viewerId, session } = request;
    const context = { viewerId, session };
    if (this.closed) throw new SignalingError("internal", "the gateway is shutting down", context);
    const stream = this.streams.get(request.stream);
    if (!stream) {
      throw new SignalingError("unsupported", `no stream named "${request.stream}"`, context);
    }
    if (this.sessions.has(key(viewerId, session))) {
      throw new SignalingError("bad-request", "that outbound session exists already", context);
    }
    const outbound = new OutboundSession(viewerId, session, () => this.bye(viewerId, session));
    const entry = this.open(viewerId, session, stream, request.transport, {
      outbound,
      ...(request.iceServers ? { iceServers: request.iceServers } : {}),
    });
    try {
      outbound.bind(entry.viewer, await entry.viewer.offer(offerCodec(stream.profileLevelId)));
    } catch (error) {
      if (this.sessions.get(key(viewerId, session)) === entry) this.remove(entry);
      void entry.viewer.close();
      throw new SignalingError("internal", "werift could not make an offer", context, {
        cause: error,
      });
    }
    return outbound;
  }

  /**
   * The limits, after the plan (spec step 6: busy comes last). A viewer may
   * hold `maxSessionsPerViewer` sessions. The device holds `maxViewers`:
   * connected sessions count, and negotiating ones for their first
   * `negotiationGraceMs`; when that leaves no room but an older negotiating
   * session would, the oldest such one ends (bye `timeout`) for the new
   * offer. So offers that never do ICE cannot hold the device's slots
   * (issue 10), and two viewers that offer at once do not push each other
   * out. A replacing offer never counts twice.
   */
  private admit(viewerId: string, existing: Entry | undefined): void {
    const now = performance.now();
    // Outbound sessions (WHIP egress) are not viewers of this gateway.
    const others = [...this.sessions.values()].filter((e) => e !== existing && !e.outbound);
    const own = others.filter((e) => e.viewerId === viewerId).length;
    if (own >= this.maxSessionsPerViewer) {
      throw new SignalingError(
        "busy",
        `this viewer has ${own} sessions already (at most ${this.maxSessionsPerViewer})`,
        { viewerId, maxSessionsPerViewer: this.maxSessionsPerViewer },
      );
    }
    const holding = others.filter(
      (e) => e.viewer.state === "connected" || now - e.openedAt < this.negotiationGraceMs,
    );
    if (holding.length >= this.maxViewers) {
      throw new SignalingError("busy", `the viewer limit (${this.maxViewers}) is reached`, {
        viewerId,
        maxViewers: this.maxViewers,
      });
    }
    const stalled = others
      .filter((e) => !holding.includes(e))
      .sort((a, b) => a.openedAt - b.openedAt);
    const excess = holding.length + stalled.length + 1 - this.maxViewers;
    for (const entry of stalled.slice(0, Math.max(0, excess))) this.finish(entry, "timeout");
  }

  /** Creates a session for a viewer of `stream` and wires it to the stream and to signaling. */
  private open(
    viewerId: string,
    session: string,
    stream: StreamFanout,
    transport: string,
    outbound?: { outbound: OutboundSession; iceServers?: IceServer[] },
  ): Entry {
    const drop = this.dropOnWire;
    const trace = this.congestionTrace;
    // Fresh servers per session: its TURN credentials are made now. An
    // outbound session adds the media server's own (its Link headers).
    const servers = this.iceServers.forGateway();
    const viewer: ViewerSession = new ViewerSession({
      viewerId,
      session,
      video: {
        ...this.videoOptions,
        history: stream.history,
        streamBps: (): number => stream.bitrateBpsFor(viewer.video),
        ...(drop ? { dropOnWire: (header: WireHeader) => drop(viewerId, header) } : {}),
        ...(trace ? { trace: (event: TraceEvent) => trace(viewerId, event) } : {}),
      },
      ice: { ...this.ice, iceServers: [...servers.servers, ...(outbound?.iceServers ?? [])] },
      dtlsRole: this.dtlsRole,
      // Sound is for viewers; an outbound session (WHIP egress) offers video only.
      ...(outbound ? {} : { audio: { fanout: this.microphone, floor: this.floor } }),
    });
    const entry: Entry = {
      viewerId,
      session,
      viewer,
      stream,
      transport,
      openedAt: performance.now(),
      hinted: false,
      ...(outbound ? { outbound: outbound.outbound } : {}),
    };
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
    viewer.video.on("keyFrameRequest", (kind) =>
      stream.requestKeyFrame(
        kind,
        viewer.video.roundTripTimeMs,
        viewer.video.estimate.targetBps,
        viewer.video,
      ),
    );
    viewer.video.on("estimate", (estimate) => stream.updateEstimate(viewer.video, estimate));
    const control = this.control;
    if (control) viewer.on("control", (channel) => control(channel, viewer, this.view(entry)));
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
      // publishes the answer) runs before this macrotask. So does the state
      // of a camera that is away as the viewer joins.
      setImmediate(() => {
        viewer.releaseCandidates();
        const status = entry.stream.status;
        if (
          status.state !== "live" &&
          this.sessions.get(key(entry.viewerId, entry.session)) === entry
        )
          this.emit("source", entry.viewerId, entry.session, updateOf(entry.stream, status));
      });
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

  /** A session as its control channel sees it. */
  private view(entry: Entry): SessionView {
    const { viewer, stream } = entry;
    return {
      viewerId: entry.viewerId,
      session: entry.session,
      requestKeyFrame: () =>
        stream.requestKeyFrame("pli", viewer.video.roundTripTimeMs, undefined, viewer.video),
      stats: () => ({
        state: viewer.state,
        negotiations: viewer.negotiations,
        video: viewer.video.stats,
        ...(viewer.audio
          ? { audio: { direction: viewer.audio.direction, ...viewer.audioStats } }
          : {}),
        ...(this.floor ? { talkFloor: this.floorState(entry) } : {}),
      }),
    };
  }

  /** Who holds the talk floor, from this session's point of view. */
  private floorState(entry: Entry): "free" | "you" | "another viewer" {
    const holder = this.floor?.currentHolder;
    if (holder === undefined) return "free";
    return holder === talkerName(entry.viewerId, entry.session) ? "you" : "another viewer";
  }

  /**
   * An ICE restart or a renegotiation answered on the session's own peer
   * connection, within answerTimeoutMs. A failure leaves the session as it
   * was: it keeps its last ICE generation (consent freshness ends it if that
   * is gone, draft-ietf-wish-whep section 4.3.3), and werift has applied
   * nothing it could not parse; the viewer gets the error and may start over.
   */
  private async answerInPlace(
    entry: Entry,
    plan: AcceptedOffer,
    kind: "ice-restart" | "renegotiation",
  ): Promise<string> {
    const context = { viewerId: entry.viewerId, session: entry.session };
    const restart = kind === "ice-restart";
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        restart ? entry.viewer.restartIce(plan) : entry.viewer.renegotiate(plan),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const what = restart ? "ICE restart answer" : "renegotiated answer";
            reject(
              new SignalingError(
                "internal",
                `no ${what} within ${this.answerTimeoutMs} ms`,
                context,
              ),
            );
          }, this.answerTimeoutMs);
        }),
      ]);
      if (restart) {
        this.iceRestarts++;
        // The new generation's candidates trickle after the answer, as for the first.
        setImmediate(() => entry.viewer.releaseCandidates());
      } else {
        this.renegotiated++;
      }
      return answer;
    } catch (error) {
      if (error instanceof CamgwError) throw error;
      throw restart
        ? new SignalingError("internal", "werift could not restart ICE", context, { cause: error })
        : new SignalingError("unsupported", "werift could not renegotiate the offer", context, {
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
    if (entry.outbound) entry.outbound.end(reason);
    else this.emit("ended", entry.viewerId, entry.session, reason);
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
    addSenderStats(this.past, entry.viewer.video.stats);
    const audio = entry.viewer.audioStats;
    for (const k of Object.keys(this.pastAudio) as (keyof typeof this.pastAudio)[]) {
      this.pastAudio[k] += audio?.[k] ?? 0;
    }
    if (this.sessions.size === 0) this.stopSweep();
  }

  private tellViewers(stream: StreamFanout, status: SourceStatus): void {
    const update = updateOf(stream, status);
    for (const entry of this.sessions.values()) {
      if (entry.stream === stream) this.emit("source", entry.viewerId, entry.session, update);
    }
  }

  private endStream(stream: StreamFanout, reason: ByeReason): void {
    for (const entry of [...this.sessions.values()]) {
      if (entry.stream === stream) this.finish(entry, reason);
    }
  }

  /**
   * One timer for all sessions, running only while there are any: ends
   * sessions silent for the liveness timeout, and sessions that have not
   * connected within connectTimeoutMs of their offer.
   */
  private startSweep(): void {
    if (this.sweepTimer) return;
    const shortest = Math.min(
      this.livenessTimeoutMs,
      this.connectTimeoutMs,
      this.restartHintAfterMs || Infinity,
    );
    const every = Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
    this.sweepTimer = setInterval(() => {
      const now = performance.now();
      for (const entry of [...this.sessions.values()]) {
        const unconnected =
          entry.viewer.state !== "connected" && now - entry.openedAt > this.connectTimeoutMs;
        if (unconnected || entry.viewer.isSilentFor(this.livenessTimeoutMs, now)) {
          this.finish(entry, "timeout");
          continue;
        }
        if (this.restartHintAfterMs <= 0 || entry.outbound || entry.viewer.state !== "connected")
          continue;
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

/** Adds a viewer's counters to a total (the one maximum among them taken as such). */
function addSenderStats(total: VideoSenderStats, add: VideoSenderStats): void {
  for (const k of Object.keys(total) as (keyof VideoSenderStats)[]) {
    total[k] = k === "pacerQueueDelayMaxMs" ? Math.max(total[k], add[k]) : total[k] + add[k];
  }
}

function updateOf(stream: StreamFanout, status: SourceStatus): SourceUpdate {
  return status.reason === undefined
    ? { stream: stream.id, state: status.state }
    : { stream: stream.id, state: status.state, reason: status.reason };
}
