import { unixUsFromNtp } from "../rtp/ntp.js";

/**
 * The offset between the camera's clock and this probe's, from RTCP sender
 * reports (RFC 3550 section 6.4.1), so that a frame's capture time (the
 * camera's clock, from abs-capture-time) can be compared with when it was
 * decoded here. camgw stamps each report with its send time; arrival minus
 * that time is the offset plus the report's one-way delay, and the minimum
 * over recent reports keeps the delay to the path's own (well under a
 * millisecond on a LAN; about half the RTT otherwise, by which the latency
 * then reads short).
 */

const KEPT = 60;

export class ClockOffset {
  private readonly samples: number[] = [];

  /** A sender report: its NTP timestamp and when it arrived (µs since the Unix epoch, our clock). */
  senderReport(ntpTimestamp: bigint, receivedAtUs: number): void {
    this.samples.push(receivedAtUs - unixUsFromNtp(ntpTimestamp));
    if (this.samples.length > KEPT) this.samples.shift();
  }

  /** Our clock minus the camera's (plus the path's one-way delay), µs; undefined before a report. */
  get offsetUs(): number | undefined {
    return this.samples.length === 0 ? undefined : Math.min(...this.samples);
  }

  /** A camera-clock time on our clock. */
  toLocalUs(remoteUs: number): number | undefined {
    const offset = this.offsetUs;
    return offset === undefined ? undefined : remoteUs + offset;
  }
}
