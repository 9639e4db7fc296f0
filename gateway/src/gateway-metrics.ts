/**
 * Everything /metrics shows, read from each part's own counters at scrape
 * time. A counter keeps its name all the way: the metric is
 * camgw_<part>_<the counter's name in snake_case>, with `_total` on counters
 * (sessionsCreated -> camgw_sessions_created_total, the dispatcher's
 * overflowed -> camgw_signaling_overflowed_total). Each table below must
 * describe every field of its part's stats, so a new counter cannot be left
 * out or renamed on the way.
 */
import type { ConnectionCapStats } from "./http/address-cap.js";
import type { Sample } from "./http/metrics.js";
import type { H264Source, SourceStats } from "./media/source.js";
import type { ProcessStats, ProcessStatsSnapshot } from "./process-stats.js";
import type { SignalingDispatcher } from "./signaling/dispatcher.js";
import type { MqttLink, MqttLinkStats } from "./signaling/mqtt-link.js";
import type { SignalingCounterSnapshot } from "./signaling/signaling-counters.js";
import type { VideoSenderStats } from "./webrtc/send/video-sender-stats.js";
import type { SessionManager, SessionManagerStats } from "./webrtc/session-manager.js";
import type { WhepEndpoint } from "./whep/whep-endpoint.js";
import type { WhepStatsSnapshot } from "./whep/whep-stats.js";
import type { WhipEgress, WhipEgressStats } from "./whip/whip-egress.js";
import type { SnapshotStats } from "./snapshot/snapshot-service.js";

interface MetricSpec {
  type: "counter" | "gauge";
  help: string;
  /** For a stat that is a record (by reason, by code): the label its keys go under. */
  label?: string;
}

/** One spec per field of T, optional fields included. */
type MetricTable<T> = { readonly [K in keyof T]-?: MetricSpec };

const counter = (help: string, label?: string): MetricSpec => ({
  type: "counter",
  help,
  ...(label ? { label } : {}),
});
const gauge = (help: string): MetricSpec => ({ type: "gauge", help });

/** The session manager's own stats; its per-viewer parts go through VIDEO_METRICS and estimates. */
const SESSION_METRICS: MetricTable<Omit<SessionManagerStats, "video" | "viewers">> = {
  sessions: gauge("Live viewer sessions, negotiating ones included"),
  connectedSessions: gauge("Viewer sessions with media flowing"),
  sessionsCreated: counter("Viewer sessions created"),
  sessionsEnded: counter("Viewer sessions ended, by reason", "reason"),
  offersRefused: counter("Offers refused, by error code", "code"),
  framesPacketized: counter("Access units packetized (once for all viewers)"),
  packetsPacketized: counter("RTP packets made (once for all viewers)"),
  packetsSent: counter("RTP packets sent to viewers"),
  bytesSent: counter("RTP bytes sent to viewers"),
  keyFrameRequests: counter("Key frame requests from viewers (PLI, FIR, join)"),
  keyFramesRequestedFromSource: counter("Key frames asked of the source after merging"),
  nacksReceived: counter("Generic NACKs received"),
  packetsRetransmitted: counter("Packets retransmitted for NACKs"),
  nackMisses: counter("NACKed packets no longer in the history"),
  pliReceived: counter("Picture loss indications received"),
  firReceived: counter("Full intra requests received"),
  badFrames: counter("Access units the payloader refused (malformed Annex-B)"),
  encoderTargetKbps: gauge(
    "Bitrate the encoder follows its viewers' estimates to, kbit/s (0: fixed)",
  ),
  lowEncoderTargetKbps: gauge(
    "Bitrate of the second, lower encoding for viewers far below the others, kbit/s (0: not running)",
  ),
  encoderFps: gauge(
    "Frames a second the encoder is given: the camera's, unless frame-rate steps lowered it to fit the bitrate",
  ),
  sessionsByTransport: {
    type: "gauge",
    help: "Live sessions by the transport they came through (mqtt, whep, whip)",
    label: "transport",
  },
  iceRestarts: counter("Offers that restarted ICE on a live session instead of replacing it"),
  candidatesRefused: counter(
    "Viewer ICE candidates not paired with (unreachable kind, over the cap)",
  ),
  connectionsByPath: counter(
    "Sessions connected, by ICE candidate pair (local type-remote type: host, srflx, prflx, relay)",
    "path",
  ),
  iceRestartsRequested: counter("Viewers asked to restart ICE, by reason", "reason"),
  renegotiations: counter("Offers answered on a live peer connection (no new ICE or DTLS)"),
  audioPacketsSent: counter("Opus RTP packets sent to listening viewers"),
  audioBytesSent: counter("Opus RTP bytes sent to listening viewers"),
  talkPacketsReceived: counter("Talk-back RTP packets received from viewers"),
  talkPacketsPlayed: counter("Talk-back packets queued for the speaker"),
  talkPacketsBusy: counter("Talk-back packets dropped: another viewer held the floor"),
};

const SIGNALING_METRICS: MetricTable<SignalingCounterSnapshot> = {
  received: counter("Signaling messages received"),
  ignored: counter("Signaling messages of unknown type, ignored"),
  invalid: counter("Signaling messages refused as bad-request, by the spec step", "kind"),
  answers: counter("Answers sent"),
  errorReplies: counter("Error replies sent, by code", "code"),
  candidatesSent: counter("ICE candidates trickled to viewers, end-of-candidates included"),
  byesSent: counter("Byes sent to viewers (sessions the device ended)"),
  iceServersSent: counter("ICE-server lists sent to viewers"),
  snapshotsSent: counter("snapshot replies (JPEGs) sent to viewers"),
  iceRestartsSent: counter("Requests to viewers to restart ICE"),
  rateLimited: counter("Offers refused by the per-viewer rate limit"),
  dropped: counter(
    "Messages to viewers not sent (error-reply or ICE-server budget, transport failure)",
  ),
  overflowed: counter("Messages dropped unread: too many queued behind a viewer's slow offer"),
  hostErrors: counter("Session host failures (answered internal)"),
  unauthorized: counter("Messages from viewers that are not accounts (answered unauthorized)"),
};

const LINK_METRICS: MetricTable<MqttLinkStats> = {
  connects: counter("Connections to the broker"),
  connectFailures: counter("Broker connection attempts that failed, and connections lost"),
  retainedIgnored: counter("Retained messages on rx/ dropped unread"),
  statusRestored: counter(
    "Times the device restored its retained status after another client changed it",
  ),
};

const SOURCE_METRICS: MetricTable<SourceStats> = {
  framesDelivered: counter("Frames delivered to JavaScript"),
  framesCaptured: counter("Frames captured"),
  framesEncoded: counter("Frames encoded"),
  framesDropped: counter("Frames dropped before JavaScript"),
  framesDecimated: counter(
    "Camera frames not encoded to hold a lower frame rate (frame-rate steps)",
  ),
  encodeTimeMeanUs: gauge("Mean encode time per frame, microseconds"),
  queueDepth: gauge("Encoded frames waiting for JavaScript"),
  outages: counter("Times the source stopped being live (unavailable or recovering)"),
  outageMs: counter("Milliseconds the source was not live while wanted"),
  lastOutageMs: gauge("Length of the last outage, milliseconds"),
  reopens: counter("Camera or command reopened after it went away or failed"),
  reopenFailures: counter("Attempts to reopen that failed"),
  encoderRestarts: counter("Watchdog restarts of a stalled encoder"),
  stallRestarts: counter("Watchdog restarts of a camera or command that delivered nothing"),
  encoderFallbacks: counter(
    "Switches to the software encoder after the hardware one stalled again",
  ),
  givenUp: counter("Times the source was given up (viewers got bye source-lost)"),
  live: gauge("1 while the source is live or idle, 0 while unavailable or recovering"),
  softwareEncoder: gauge("1 while the open pipeline encodes with x264 (software), 0 otherwise"),
};

/**
 * The viewers' video senders, summed over present and past viewers, where
 * they add to the session totals above: repair (docs/congestion.md) and
 * pacing. Prefix video_.
 */
const VIDEO_METRICS: MetricTable<
  Pick<
    VideoSenderStats,
    | "packetsNacked"
    | "rtxSent"
    | "resentWithoutRtx"
    | "repairBytesSent"
    | "repairsSuperseded"
    | "repairsTooOld"
    | "repairsTooSoon"
    | "repairsTooOften"
    | "repairsOverBudget"
    | "keyFramesInsteadOfRepair"
    | "keyFrameRequestsHeld"
    | "framesSkipped"
    | "packetsSuperseded"
    | "paddingBytesSent"
    | "probesSent"
    | "pacerQueueDelayMaxMs"
    | "transportFeedbackReceived"
    | "transportFeedbackMalformed"
    | "rembReceived"
    | "encodingSwitches"
  >
> = {
  packetsNacked: counter("Sequence numbers NACKs listed"),
  rtxSent: counter("Repairs sent as RTX (RFC 4588)"),
  resentWithoutRtx: counter("Repairs sent as the original packet (viewers without RTX)"),
  repairBytesSent: counter("Bytes of repair sent"),
  repairsSuperseded: counter("NACKed packets not resent: a key frame made them useless"),
  repairsTooOld: counter("NACKed packets not resent: older than the viewer can use"),
  repairsTooSoon: counter("NACKed packets not resent: resent less than an RTT ago"),
  repairsTooOften: counter("NACKed packets not resent: resent the most times allowed"),
  repairsOverBudget: counter("NACKed packets not resent: over the repair budget"),
  keyFramesInsteadOfRepair: counter("Key frames asked for because repair was over budget"),
  keyFrameRequestsHeld: counter(
    "Key frame requests held while a viewer's path drained its queue after a cut",
  ),
  framesSkipped: counter(
    "Frames not sent to a viewer waiting for a key frame while its path drained",
  ),
  packetsSuperseded: counter("Queued packets dropped for a key frame behind them"),
  paddingBytesSent: counter("Padding bytes sent while probing the bandwidth"),
  probesSent: counter("Bandwidth probes sent"),
  pacerQueueDelayMaxMs: gauge("Longest a media packet waited in a pacer, ms"),
  transportFeedbackReceived: counter("transport-cc feedback packets received"),
  transportFeedbackMalformed: counter("transport-cc feedback packets refused as malformed"),
  rembReceived: counter("REMB messages received"),
  encodingSwitches: counter("Viewers moved between a stream's main and lower encodings"),
};

const WHEP_METRICS: MetricTable<WhepStatsSnapshot> = {
  sessions: gauge("WHEP sessions (HTTP resources) live"),
  requests: counter("WHEP requests, by method", "method"),
  refused: counter("WHEP requests refused, by HTTP status", "status"),
  created: counter("WHEP sessions created (201)"),
  deleted: counter("WHEP sessions ended by DELETE"),
  trickled: counter("WHEP trickle PATCHes applied"),
  iceRestarts: counter("WHEP ICE restarts answered"),
};

const WHIP_METRICS: MetricTable<WhipEgressStats> = {
  attempts: counter("WHIP egress attempts (POSTs of an offer)"),
  connects: counter("WHIP egress pushes that connected"),
  failures: counter("WHIP egress attempts that failed and pushes that ended"),
};

const SNAPSHOT_METRICS: MetricTable<SnapshotStats> = {
  taken: counter("Snapshots (JPEGs) made, for HTTP, signaling and the gateway itself"),
  refused: counter("Snapshots refused or failed, by reason", "code"),
  coldStarts: counter("Snapshots that started the camera (nobody watched)"),
};

/** The web ports' and the embedded broker's connection caps (http/address-cap.ts). */
const CONNECTION_METRICS: MetricTable<ConnectionCapStats> = {
  refused: counter(
    "Connections closed at once, unserved, by the cap that refused them (per-address, full)",
    "reason",
  ),
};

/** The gateway process itself (process-stats.ts). Prefix process_. */
const PROCESS_METRICS: MetricTable<ProcessStatsSnapshot> = {
  residentBytes: gauge("Resident set size, bytes"),
  heapUsedBytes: gauge("V8 heap in use, bytes"),
  externalBytes: gauge("Memory outside the V8 heap held by JS objects (Buffers), bytes"),
  openFds: gauge("Open file descriptors (-1: no /proc)"),
  threads: gauge("Threads of the process (-1: no /proc)"),
  eventLoopLagP50Seconds: gauge("Median event-loop delay since the previous scrape, seconds"),
  eventLoopLagP99Seconds: gauge(
    "99th percentile event-loop delay since the previous scrape, seconds",
  ),
  eventLoopLagMaxSeconds: gauge("Longest event-loop delay since the previous scrape, seconds"),
  activeResources: {
    type: "gauge",
    help: "Live libuv handles and requests, by type (Timeout, TCPSocketWrap, UDPSocketWrap, ...)",
    label: "type",
  },
};

export interface MetricParts {
  sessions: SessionManager;
  /** Null until signaling starts. */
  dispatcher: SignalingDispatcher | null;
  link: MqttLink | null;
  source: H264Source;
  /** Null until signaling starts. */
  whep?: WhepEndpoint | null;
  /** Set when whip-url is. */
  whip?: WhipEgress | null;
  snapshots?: { readonly stats: SnapshotStats };
  /** The connection caps of the web ports and of the embedded broker (absent: not shown). */
  connections?: { http: ConnectionCapStats; broker: ConnectionCapStats | null };
  /** The process's own figures (absent: not shown). */
  process?: ProcessStats | null;
}

export function gatewayMetrics(parts: MetricParts): Sample[] {
  const { sessions, dispatcher, link, source, whep, whip, snapshots, process, connections } = parts;
  const stats = sessions.stats;
  const out = samples("", SESSION_METRICS, stats);
  out.push(...samples("video_", VIDEO_METRICS, stats.video));
  if (stats.viewers.length > 0) {
    // The lowest: what an encoder serving every viewer could send (docs/congestion.md).
    const lowest = Math.min(...stats.viewers.map((v) => v.estimate.targetBps));
    out.push(
      metric("video_lowest_estimate_bps", gauge("Lowest viewer bandwidth estimate, bit/s"), lowest),
      metric(
        "video_viewers_on_low_encoding",
        gauge("Viewers sent the second, lower encoding"),
        stats.viewers.filter((v) => v.encoding === "low").length,
      ),
    );
  }
  if (dispatcher) out.push(...samples("signaling_", SIGNALING_METRICS, dispatcher.metrics()));
  if (link) {
    out.push(
      ...samples("signaling_", LINK_METRICS, link.stats),
      metric("signaling_connected", gauge("1 while connected to the broker"), +link.connected),
    );
  }
  if (whep) out.push(...samples("whep_", WHEP_METRICS, whep.stats.snapshot(whep.sessionCount)));
  if (whip) {
    out.push(
      ...samples("whip_", WHIP_METRICS, whip.stats),
      metric("whip_pushing", gauge("1 while the WHIP egress pushes"), +(whip.state === "pushing")),
    );
  }
  if (snapshots) out.push(...samples("snapshot_", SNAPSHOT_METRICS, snapshots.stats));
  out.push(metric("source_running", gauge("1 while the source streams"), +source.running));
  const sourceStats = source.stats?.();
  if (sourceStats) out.push(...samples("source_", SOURCE_METRICS, sourceStats));
  if (connections) {
    out.push(...samples("http_connections_", CONNECTION_METRICS, connections.http));
    if (connections.broker) {
      out.push(...samples("broker_connections_", CONNECTION_METRICS, connections.broker));
    }
  }
  if (process) out.push(...samples("process_", PROCESS_METRICS, process.snapshot()));
  return out;
}

/** The samples of one part's stats: numbers as they are, records one sample per key. */
function samples<T extends object>(prefix: string, table: MetricTable<T>, stats: T): Sample[] {
  const out: Sample[] = [];
  for (const key of Object.keys(table) as (keyof T & string)[]) {
    const spec = table[key];
    const name = `${prefix}${snakeCase(key)}`;
    const value: unknown = stats[key];
    if (typeof value === "number") {
      out.push(metric(name, spec, value));
    } else if (typeof value === "object" && value !== null && spec.label !== undefined) {
      const label = spec.label;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v === "number") out.push(metric(name, spec, v, { [label]: k }));
      }
    }
  }
  return out;
}

function metric(
  name: string,
  spec: MetricSpec,
  value: number,
  labels?: Record<string, string>,
): Sample {
  return {
    name: `camgw_${name}${spec.type === "counter" ? "_total" : ""}`,
    help: spec.help,
    type: spec.type,
    value,
    ...(labels ? { labels } : {}),
  };
}

/** keyFramesRequestedFromSource -> key_frames_requested_from_source. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
