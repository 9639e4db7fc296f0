/**
 * Each frame's capture time on this page's clock, for glass-to-glass
 * latency where the picture carries no stamp (a real camera).
 *
 * The camera sends its capture time in the abs-capture-time RTP header
 * extension (webrtc.org/experiments/rtp-hdrext/abs-capture-time), which
 * Chromium exposes on RTCRtpReceiver.getSynchronizationSources() as
 * `captureTimestamp` (ms on the NTP epoch, the camera's clock) with the
 * `rtpTimestamp` of the same frame. camgw's RTP timestamps are capture
 * times on the 90 kHz clock, so one such pair places every frame:
 * capture(rtp) = captureTimestamp + (rtp - rtpTimestamp) / 90.
 *
 * The camera's clock is not ours. RTCP sender reports (RFC 3550 section
 * 6.4.1) carry the camera's wallclock when each left (camgw stamps them
 * when sent); their arrival minus that time is the clock offset plus the
 * one-way delay, and its minimum over recent reports is the best estimate
 * (Chromium's remote-outbound-rtp stats: `timestamp` is the arrival,
 * `remoteTimestamp` the report's NTP time). The latency this gives leaves
 * out one one-way delay of a report (about half the RTT: well under a
 * millisecond on a LAN). With no report yet, no latency is given.
 */

/** 1900-01-01 to 1970-01-01, ms: NTP epoch to Unix epoch. */
export const NTP_TO_UNIX_MS = 2_208_988_800_000;

/** Sender reports kept for the minimum (one every 0.5-1.5 s: a minute's worth). */
const REPORTS_KEPT = 60;

export interface CaptureSource {
  readonly captureTimestamp?: number;
  readonly rtpTimestamp: number;
}

export class CaptureClock {
  #reference: { captureUnixMs: number; rtpTimestamp: number } | undefined;
  readonly #offsets: number[] = [];
  #lastReportRemoteMs: number | undefined;

  /** A synchronization source entry (getSynchronizationSources()). */
  observeSource(source: CaptureSource): void {
    if (typeof source.captureTimestamp !== "number" || !Number.isFinite(source.captureTimestamp))
      return;
    this.#reference = {
      captureUnixMs: source.captureTimestamp - NTP_TO_UNIX_MS,
      rtpTimestamp: source.rtpTimestamp >>> 0,
    };
  }

  /** A sender report: when it arrived here and the NTP time it carried, both ms since the Unix epoch. */
  observeSenderReport(arrivedUnixMs: number, remoteUnixMs: number): void {
    if (!Number.isFinite(arrivedUnixMs) || !Number.isFinite(remoteUnixMs)) return;
    if (remoteUnixMs === this.#lastReportRemoteMs) return; // the same report, seen again
    this.#lastReportRemoteMs = remoteUnixMs;
    this.#offsets.push(arrivedUnixMs - remoteUnixMs);
    if (this.#offsets.length > REPORTS_KEPT) this.#offsets.shift();
  }

  /** This page's clock minus the camera's (plus a one-way delay), ms; undefined before a report. */
  get offsetMs(): number | undefined {
    return this.#offsets.length === 0 ? undefined : Math.min(...this.#offsets);
  }

  /** The capture time of the frame with this RTP timestamp, ms since the Unix epoch on this page's clock. */
  captureUnixMs(rtpTimestamp: number): number | undefined {
    const ref = this.#reference;
    const offset = this.offsetMs;
    if (!ref || offset === undefined) return undefined;
    // Signed 32-bit difference: frames either side of the reference, across a wrap.
    const ticks = ((rtpTimestamp >>> 0) - ref.rtpTimestamp) | 0;
    return ref.captureUnixMs + ticks / 90 + offset;
  }

  reset(): void {
    this.#reference = undefined;
    this.#offsets.length = 0;
    this.#lastReportRemoteMs = undefined;
  }
}
