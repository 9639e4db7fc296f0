/**
 * Counters of the signaling dispatcher, for /metrics: what came in, what was
 * refused and why, what went out, what was dropped. /metrics shows each under
 * its own name (camgw_signaling_<name in snake_case>, gateway-metrics.ts).
 */
import type { ErrorCode } from "./message-types.js";

/** Which spec step refused a message: 1 payload (size/JSON/object), 2 header (v/type), 4 fields. */
export type InvalidKind = "payload" | "header" | "fields";

export interface SignalingCounterSnapshot {
  /** Messages delivered by the transports (MQTT: rx/+ of this device). */
  received: number;
  /** Messages of a type the device does not know (spec step 3). */
  ignored: number;
  /** Messages refused with bad-request, by the spec step that refused them. */
  invalid: Record<InvalidKind, number>;
  /** Answers sent. */
  answers: number;
  /** Error replies sent, by the spec's error code. */
  errorReplies: Partial<Record<ErrorCode, number>>;
  candidatesSent: number;
  byesSent: number;
  /** ICE-server lists sent (replies to viewers' requests). */
  iceServersSent: number;
  /** Snapshot replies sent (`snapshot` requests answered with a JPEG). */
  snapshotsSent: number;
  /** Requests to viewers to restart ICE (the device's path broke). */
  iceRestartsSent: number;
  /** Offers refused by the per-viewer offer rate limit (answered busy). */
  rateLimited: number;
  /**
   * Messages to viewers not sent: over the per-viewer error-reply budget, the
   * transport could not send, or the host spoke of a viewer the dispatcher no
   * longer knows (it has no session left).
   */
  dropped: number;
  /** Messages dropped unread: the viewer already had too many waiting behind a slow offer. */
  overflowed: number;
  /** The session host threw where it should not (the viewer got `internal`, or nothing on bye). */
  hostErrors: number;
  /** Valid messages from viewers the app does not admit (answered unauthorized, byes ignored). */
  unauthorized: number;
}

export class SignalingCounters {
  received = 0;
  ignored = 0;
  answers = 0;
  candidatesSent = 0;
  byesSent = 0;
  iceServersSent = 0;
  snapshotsSent = 0;
  iceRestartsSent = 0;
  rateLimited = 0;
  dropped = 0;
  overflowed = 0;
  hostErrors = 0;
  unauthorized = 0;
  readonly #invalid: Record<InvalidKind, number> = { payload: 0, header: 0, fields: 0 };
  readonly #errorReplies = new Map<ErrorCode, number>();

  countInvalid(kind: InvalidKind): void {
    this.#invalid[kind] += 1;
  }

  countErrorReply(code: ErrorCode): void {
    this.#errorReplies.set(code, (this.#errorReplies.get(code) ?? 0) + 1);
  }

  snapshot(): SignalingCounterSnapshot {
    return {
      received: this.received,
      ignored: this.ignored,
      invalid: { ...this.#invalid },
      answers: this.answers,
      errorReplies: Object.fromEntries(this.#errorReplies),
      candidatesSent: this.candidatesSent,
      byesSent: this.byesSent,
      iceServersSent: this.iceServersSent,
      snapshotsSent: this.snapshotsSent,
      iceRestartsSent: this.iceRestartsSent,
      rateLimited: this.rateLimited,
      dropped: this.dropped,
      overflowed: this.overflowed,
      hostErrors: this.hostErrors,
      unauthorized: this.unauthorized,
    };
  }
}
