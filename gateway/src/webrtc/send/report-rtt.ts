/**
 * Round-trip time from RTCP (RFC 3550 section 6.4.1): a receiver report
 * block echoes the middle 32 bits of our last sender report's NTP time
 * (LSR) and how long it held it (DLSR, 1/65536 s), so RTT = now - (when
 * that report left) - DLSR. Measured on our own monotonic clock, by
 * remembering when each report left, rather than from NTP arithmetic.
 */

/** Sender reports remembered (one every 0.5-1.5 s in werift: ~10 s worth). */
const KEPT = 16;

export class ReportRtt {
  private readonly sent = new Map<number, number>();

  /** A sender report with this compact NTP time left at `atMs`. */
  senderReportSent(compactNtp: number, atMs: number): void {
    this.sent.set(compactNtp >>> 0, atMs);
    while (this.sent.size > KEPT) {
      const oldest = this.sent.keys().next().value;
      if (oldest === undefined) break;
      this.sent.delete(oldest);
    }
  }

  /** The RTT a report block gives, ms; undefined when it echoes no report of ours. */
  receiverReport(
    lastSenderReport: number,
    delaySinceLastSenderReport: number,
    nowMs: number,
  ): number | undefined {
    if (lastSenderReport === 0) return undefined;
    const sentAt = this.sent.get(lastSenderReport >>> 0);
    if (sentAt === undefined) return undefined;
    const rtt = nowMs - sentAt - (delaySinceLastSenderReport / 65536) * 1000;
    return Math.max(0, rtt);
  }
}
