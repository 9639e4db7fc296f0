/**
 * Counters of device-side signaling, for /metrics: what came in, what was
 * refused and why, what went out, what was dropped.
 */
import type { ErrorCode } from "./messages.js";

/** Which spec step refused a message: 1 payload (size/JSON/object), 2 header (v/type), 4 fields. */
export type InvalidKind = "payload" | "header" | "fields";
export type ReplyKind = ErrorCode | "answer";

export interface SignalingCounterSnapshot {
  /** Messages received on rx/+ for this device. */
  received: number;
  /** Messages of a type the device does not know (spec step 3). */
  ignored: number;
  invalid: Record<InvalidKind, number>;
  /** Answers and error replies sent, by code. */
  replies: Partial<Record<ReplyKind, number>>;
  candidatesSent: number;
  byesSent: number;
  /** Offers refused by the per-viewer offer rate limit (answered busy). */
  rateLimited: number;
  /** Replies not sent: over the per-viewer error-reply budget, or publish failed. */
  dropped: number;
  /** Messages dropped unread: the viewer already had too many waiting behind a slow offer. */
  overflowed: number;
  /** The session host threw where it should not (bye). */
  hostErrors: number;
  /** Successful connections to the broker, the first included. */
  connects: number;
}

export class SignalingCounters {
  received = 0;
  ignored = 0;
  candidatesSent = 0;
  byesSent = 0;
  rateLimited = 0;
  dropped = 0;
  overflowed = 0;
  hostErrors = 0;
  connects = 0;
  readonly #invalid: Record<InvalidKind, number> = { payload: 0, header: 0, fields: 0 };
  readonly #replies = new Map<ReplyKind, number>();

  countInvalid(kind: InvalidKind): void {
    this.#invalid[kind] += 1;
  }

  countReply(kind: ReplyKind): void {
    this.#replies.set(kind, (this.#replies.get(kind) ?? 0) + 1);
  }

  snapshot(): SignalingCounterSnapshot {
    return {
      received: this.received,
      ignored: this.ignored,
      invalid: { ...this.#invalid },
      replies: Object.fromEntries(this.#replies),
      candidatesSent: this.candidatesSent,
      byesSent: this.byesSent,
      rateLimited: this.rateLimited,
      dropped: this.dropped,
      overflowed: this.overflowed,
      hostErrors: this.hostErrors,
      connects: this.connects,
    };
  }
}
