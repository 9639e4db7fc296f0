import {
  DELTA_TICK_US,
  REFERENCE_TICK_US,
  serializeTransportFeedback,
  type FeedbackEntry,
} from "./transport-feedback.js";
import { SequenceUnwrapper } from "./sequence-unwrapper.js";

/**
 * The receiving end of transport-wide congestion control: records when
 * each transport-wide sequence number arrived and writes the feedback
 * messages (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1)
 * that the sender's estimator reads. As libwebrtc's receivers do, each
 * message covers every sequence number from the first one not yet
 * reported to the newest one received, so a gap is reported lost once and
 * a packet that arrives after its gap was reported is dropped.
 *
 * Deltas are kept relative to the quantized arrival of the previous packet
 * (not its exact time), so rounding never accumulates across a message,
 * and the first delta of a message is relative to its reference time,
 * itself the first arrival rounded down to 64 ms.
 */

/** Most sequence numbers in one message (libwebrtc keeps it under a few hundred too). */
const MAX_PACKETS_PER_MESSAGE = 1000;
/** A received delta must fit a signed 16-bit count of 250 us. */
const MAX_DELTA_TICKS = 0x7fff;

export class FeedbackRecorder {
  private readonly unwrapper = new SequenceUnwrapper();
  private readonly arrivals = new Map<number, number>();
  /** The first unwrapped sequence number not yet reported. */
  private nextToReport: number | undefined;
  private newest: number | undefined;
  private feedbackCount = 0;

  constructor(
    private readonly senderSsrc: number,
    private mediaSsrc = 0,
  ) {}

  /** Records a packet's arrival (microseconds on any monotonic clock). */
  received(sequence: number, arrivalUs: number, mediaSsrc?: number): void {
    const seq = this.unwrapper.unwrap(sequence);
    if (mediaSsrc !== undefined) this.mediaSsrc = mediaSsrc;
    if (this.nextToReport !== undefined && seq < this.nextToReport) return; // already reported lost
    if (this.arrivals.has(seq)) return; // a duplicate
    this.arrivals.set(seq, arrivalUs);
    this.nextToReport ??= seq;
    if (this.newest === undefined || seq > this.newest) this.newest = seq;
  }

  /** Packets waiting to be reported (received ones). */
  get pending(): number {
    return this.arrivals.size;
  }

  /** Feedback messages for everything not yet reported; empty when nothing arrived. */
  takeFeedback(): Buffer[] {
    const out: Buffer[] = [];
    while (this.nextToReport !== undefined && this.newest !== undefined) {
      if (this.nextToReport > this.newest) break;
      // A message starts at a received packet (the base's reference time needs one).
      while (!this.arrivals.has(this.nextToReport) && this.nextToReport < this.newest) {
        this.nextToReport++;
      }
      const firstArrival = this.arrivals.get(this.nextToReport);
      if (firstArrival === undefined) break;
      const referenceTicks = Math.floor(firstArrival / REFERENCE_TICK_US);
      let quantizedUs = referenceTicks * REFERENCE_TICK_US;
      const entries: FeedbackEntry[] = [];
      let seq = this.nextToReport;
      for (; seq <= this.newest && entries.length < MAX_PACKETS_PER_MESSAGE; seq++) {
        const arrival = this.arrivals.get(seq);
        if (arrival === undefined) {
          entries.push({ sequence: seq & 0xffff, deltaTicks: undefined });
          continue;
        }
        const ticks = Math.round((arrival - quantizedUs) / DELTA_TICK_US);
        if (Math.abs(ticks) > MAX_DELTA_TICKS) break; // the next message takes it
        quantizedUs += ticks * DELTA_TICK_US;
        entries.push({ sequence: seq & 0xffff, deltaTicks: ticks });
        this.arrivals.delete(seq);
      }
      // Trailing losses wait for the next message: a later packet may fill them.
      while (entries.length > 0 && entries[entries.length - 1]?.deltaTicks === undefined) {
        entries.pop();
        seq--;
      }
      out.push(
        serializeTransportFeedback({
          senderSsrc: this.senderSsrc,
          mediaSsrc: this.mediaSsrc,
          referenceTime: referenceTicks & 0xffffff,
          feedbackCount: this.feedbackCount,
          entries,
        }),
      );
      this.feedbackCount = (this.feedbackCount + 1) & 0xff;
      this.nextToReport = seq;
    }
    return out;
  }
}
