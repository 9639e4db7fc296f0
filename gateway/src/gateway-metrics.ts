import type { Sample } from "./http/metrics.js";
import type { H264Source } from "./media/source.js";
import { V4l2Source } from "./media/v4l2-source.js";
import type { DeviceSignaling } from "./signaling/device-signaling.js";
import type { SessionManager } from "./webrtc/session-manager.js";

const counter = (
  name: string,
  help: string,
  value: number,
  labels?: Record<string, string>,
): Sample => ({
  name: `camgw_${name}`,
  help,
  type: "counter",
  value,
  ...(labels ? { labels } : {}),
});

const gauge = (name: string, help: string, value: number): Sample => ({
  name: `camgw_${name}`,
  help,
  type: "gauge",
  value,
});

/** Everything /metrics shows, read from each part's own counters at scrape time. */
export function gatewayMetrics(
  sessions: SessionManager,
  signaling: DeviceSignaling | null,
  source: H264Source,
): Sample[] {
  const s = sessions.stats;
  const out: Sample[] = [
    gauge("sessions", "Live viewer sessions, negotiating ones included", s.sessions),
    gauge("sessions_connected", "Viewer sessions with media flowing", s.connectedSessions),
    counter("sessions_created_total", "Viewer sessions created", s.sessionsCreated),
    ...Object.entries(s.sessionsEnded).map(([reason, n]) =>
      counter("sessions_ended_total", "Viewer sessions ended, by reason", n, { reason }),
    ),
    ...Object.entries(s.offersRefused).map(([code, n]) =>
      counter("offers_refused_total", "Offers refused, by error code", n, { code }),
    ),
    counter(
      "frames_packetized_total",
      "Access units packetized (once for all viewers)",
      s.framesPacketized,
    ),
    counter("rtp_packets_sent_total", "RTP packets sent to viewers", s.packetsSent),
    counter("rtp_bytes_sent_total", "RTP bytes sent to viewers", s.bytesSent),
    counter(
      "keyframe_requests_total",
      "Key frame requests from viewers (PLI, FIR, join)",
      s.keyFrameRequests,
    ),
    counter(
      "keyframes_requested_total",
      "Key frames asked of the source after merging",
      s.keyFramesRequestedFromSource,
    ),
    counter("nacks_received_total", "Generic NACKs received", s.nacksReceived),
    counter("rtp_retransmitted_total", "Packets retransmitted for NACKs", s.packetsRetransmitted),
    counter("nack_misses_total", "NACKed packets no longer in the history", s.nackMisses),
    gauge("source_running", "1 while the source streams", source.running ? 1 : 0),
  ];
  if (signaling) {
    const m = signaling.metrics();
    out.push(
      counter("signaling_received_total", "Signaling messages received", m.received),
      counter("signaling_ignored_total", "Signaling messages of unknown type, ignored", m.ignored),
      ...Object.entries(m.invalid).map(([kind, n]) =>
        counter("signaling_invalid_total", "Invalid signaling messages, by kind", n, { kind }),
      ),
      ...Object.entries(m.replies).map(([code, n]) =>
        counter("signaling_error_replies_total", "Error replies sent, by code", n, { code }),
      ),
      counter(
        "signaling_rate_limited_total",
        "Messages refused by the per-viewer rate limit",
        m.rateLimited,
      ),
      counter("signaling_dropped_total", "Messages dropped without a reply", m.dropped),
      counter("signaling_connects_total", "Connections to the broker", m.connects),
      gauge("signaling_connected", "1 while connected to the broker", signaling.connected ? 1 : 0),
    );
  }
  if (source instanceof V4l2Source) {
    const p = source.stats();
    if (p) {
      out.push(
        counter("capture_frames_total", "Frames captured", p.framesCaptured),
        counter("encoded_frames_total", "Frames encoded", p.framesEncoded),
        counter("delivered_frames_total", "Frames delivered to JavaScript", p.framesDelivered),
        counter("dropped_frames_total", "Frames dropped before JavaScript", p.framesDropped),
        gauge(
          "encode_time_mean_us",
          "Mean encode time per frame, microseconds",
          p.encodeTimeMeanUs,
        ),
        gauge("native_queue_depth", "Encoded frames waiting for JavaScript", p.queueDepth),
      );
    }
  }
  return out;
}
