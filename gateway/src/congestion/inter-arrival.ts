/**
 * Groups packets into send bursts and yields, for each completed pair of
 * groups, how much further apart they arrived than they were sent: the
 * one-way delay gradient that draft-ietf-rmcat-gcc-02 section 5.2 filters
 * (there: "d(i) = t(i) - t(i-1) - (T(i) - T(i-1))").
 *
 * A group is the packets sent within 5 ms of its first one (a video frame
 * leaves as such a burst); a packet that arrives within 5 ms of the group
 * and earlier than its send spacing predicts also joins it (the network
 * delivered a queue at once, e.g. Wi-Fi aggregation), for at most 100 ms.
 * libwebrtc's InterArrivalDelta uses the same rules.
 */

export interface GroupDelta {
  /** Send time difference between the groups' last packets, ms. */
  readonly sendDeltaMs: number;
  /** Arrival time difference between the groups' last packets, ms. */
  readonly arrivalDeltaMs: number;
  /** Arrival time of the newer group's last packet, ms (receiver clock). */
  readonly arrivalMs: number;
}

interface Group {
  firstSendMs: number;
  lastSendMs: number;
  firstArrivalMs: number;
  lastArrivalMs: number;
  /** Local time the group's last feedback came in, to spot receiver clock jumps. */
  lastLocalMs: number;
}

const SEND_GROUP_MS = 5;
const BURST_DELTA_MS = 5;
const MAX_BURST_MS = 100;
/** An arrival clock that moved this much more than ours reset the groups. */
const ARRIVAL_OFFSET_RESET_MS = 3000;
/** This many reordered groups in a row reset the groups. */
const REORDERED_RESET = 3;

export class InterArrival {
  private current: Group | undefined;
  private previous: Group | undefined;
  private reordered = 0;

  /**
   * Adds one received packet (in arrival order). Returns the delta between
   * the two previous groups once this packet starts a new group.
   */
  add(sendMs: number, arrivalMs: number, localMs: number): GroupDelta | undefined {
    const cur = this.current;
    if (!cur) {
      this.current = group(sendMs, arrivalMs, localMs);
      return undefined;
    }
    if (sendMs < cur.firstSendMs) return undefined; // reordered: older than the current group
    let result: GroupDelta | undefined;
    if (this.startsNewGroup(cur, sendMs, arrivalMs)) {
      const prev = this.previous;
      if (prev) {
        const sendDeltaMs = cur.lastSendMs - prev.lastSendMs;
        const arrivalDeltaMs = cur.lastArrivalMs - prev.lastArrivalMs;
        const localDeltaMs = cur.lastLocalMs - prev.lastLocalMs;
        if (arrivalDeltaMs - localDeltaMs >= ARRIVAL_OFFSET_RESET_MS) {
          this.reset();
          this.current = group(sendMs, arrivalMs, localMs);
          return undefined;
        }
        if (arrivalDeltaMs < 0) {
          // The groups were reordered on the way: skip this packet, and
          // start over if it keeps happening.
          if (++this.reordered >= REORDERED_RESET) this.reset();
          return undefined;
        }
        this.reordered = 0;
        result = { sendDeltaMs, arrivalDeltaMs, arrivalMs: cur.lastArrivalMs };
      }
      this.previous = cur;
      this.current = group(sendMs, arrivalMs, localMs);
      return result;
    }
    cur.lastSendMs = Math.max(cur.lastSendMs, sendMs);
    cur.lastArrivalMs = arrivalMs;
    cur.lastLocalMs = localMs;
    return undefined;
  }

  reset(): void {
    this.current = undefined;
    this.previous = undefined;
    this.reordered = 0;
  }

  private startsNewGroup(cur: Group, sendMs: number, arrivalMs: number): boolean {
    if (this.belongsToBurst(cur, sendMs, arrivalMs)) return false;
    return sendMs - cur.firstSendMs > SEND_GROUP_MS;
  }

  private belongsToBurst(cur: Group, sendMs: number, arrivalMs: number): boolean {
    const arrivalDelta = arrivalMs - cur.lastArrivalMs;
    const sendDelta = sendMs - cur.lastSendMs;
    if (sendDelta === 0) return true;
    const propagationDelta = arrivalDelta - sendDelta;
    return (
      propagationDelta < 0 &&
      arrivalDelta <= BURST_DELTA_MS &&
      arrivalMs - cur.firstArrivalMs < MAX_BURST_MS
    );
  }
}

function group(sendMs: number, arrivalMs: number, localMs: number): Group {
  return {
    firstSendMs: sendMs,
    lastSendMs: sendMs,
    firstArrivalMs: arrivalMs,
    lastArrivalMs: arrivalMs,
    lastLocalMs: localMs,
  };
}
