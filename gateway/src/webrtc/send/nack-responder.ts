import type { PacketHistory } from "../../rtp/packet-history.js";
import { RepairPolicy, type RepairDecision, type RepairPolicyOptions } from "./repair-policy.js";

/**
 * Answers one viewer's generic NACKs (RFC 4585 section 6.2.1) from the
 * stream's shared history, within the limits of RepairPolicy. werift's own
 * answers are switched off (werift/sender-feedback.ts): every NACK comes
 * here, whatever the packet's age. The repairs it returns go through the
 * viewer's pacer ahead of media and leave as RTX (RFC 4588) where the viewer
 * negotiated it, as a plain resend otherwise (send/repair-packets.ts).
 */

export interface Repair {
  /** RTP sequence number of the original, as the viewer got it. */
  readonly sequence: number;
  /** The original packet, as the stream packetized it (shared, never mutated). */
  readonly packet: Buffer;
}

export interface NackAnswer {
  readonly repairs: readonly Repair[];
  /**
   * The viewer cannot complete a frame without a key frame: some of the
   * request could not be repaired within the budget (a key frame serves it
   * better), or it still asks for a packet that has been resent the most
   * times allowed or is too old to resend (repair has given up on it, and a
   * browser would wait up to 3 s before asking for a key frame itself:
   * libwebrtc's kMaxWaitForFrame).
   */
  readonly keyFrameNeeded: boolean;
}

export interface NackStats {
  nacksReceived: number;
  /** Sequence numbers the NACKs listed. */
  packetsNacked: number;
  /** Repairs queued for sending. */
  repairsQueued: number;
  /** NACKed packets never sent to this viewer, or no longer in the history. */
  nackMisses: number;
  /** NACKed packets not resent, by reason. */
  repairsSuppressed: Record<Exclude<RepairDecision, "resend" | "not-sent">, number>;
  /** Key frames asked for instead of repairs (over budget, or a packet given up). */
  keyFramesInsteadOfRepair: number;
  /** Second copies of repairs sent where loss is not congestion (handle's `twice`). */
  repairCopies: number;
}

/** Decisions that leave the viewer without the packet for good: only a key frame helps it on. */
const GIVEN_UP: ReadonlySet<RepairDecision> = new Set(["over-budget", "too-often", "too-old"]);

/** What a repair adds to the original: OSN, header extensions (mid, abs-send-time, transport-cc), SRTP and UDP/IP. */
const REPAIR_OVERHEAD_BYTES = 2 + 20 + 38;

export class NackResponder {
  readonly stats: NackStats = {
    nacksReceived: 0,
    packetsNacked: 0,
    repairsQueued: 0,
    nackMisses: 0,
    repairsSuppressed: {
      superseded: 0,
      "too-old": 0,
      "too-soon": 0,
      "too-often": 0,
      "over-budget": 0,
    },
    keyFramesInsteadOfRepair: 0,
    repairCopies: 0,
  };
  private readonly policy: RepairPolicy;
  /** What the viewer's sequence numbers are ahead of the history's (an encoding switch). */
  private offset = 0;

  constructor(
    private history: PacketHistory,
    options: RepairPolicyOptions = {},
  ) {
    this.policy = new RepairPolicy(options);
  }

  /**
   * The viewer now watches another encoding (stream-fanout.ts), from a key
   * frame on: its packets come from `history`, numbered `offset` ahead on
   * the wire. NACKs for packets from before the switch find them
   * superseded by that key frame (RepairPolicy), whatever the history holds.
   */
  useHistory(history: PacketHistory, offset: number): void {
    this.history = history;
    this.offset = offset;
  }

  /** A media packet went to the viewer. */
  sent(sequence: number, nowMs: number): void {
    this.policy.sent(sequence, nowMs);
  }

  /** A key frame is about to go to the viewer. */
  keyFrameStarted(): void {
    this.policy.keyFrameStarted();
  }

  /**
   * `twice`: send each repair twice (budget permitting). Where loss is
   * random rather than congestion, a retransmission is lost as often as
   * the original, and a browser asks again only a round trip later (100 ms
   * while it knows none), so its frame comes ~200 ms late: a freeze by
   * webrtc-stats' measure. Two copies make that loss's square. The copies
   * follow all the first ones and get only the budget those left.
   */
  handle(
    lost: readonly number[],
    nowMs: number,
    rttMs: number | undefined,
    targetBps: number,
    twice = false,
  ): NackAnswer {
    this.stats.nacksReceived++;
    this.stats.packetsNacked += lost.length;
    const repairs: Repair[] = [];
    let keyFrameNeeded = false;
    for (const lostSequence of lost) {
      const sequence = lostSequence & 0xffff;
      const entry = this.history.get((sequence - this.offset) & 0xffff);
      if (!entry) {
        this.stats.nackMisses++;
        continue;
      }
      const decision = this.policy.decide(
        sequence,
        entry.packet.length + REPAIR_OVERHEAD_BYTES,
        nowMs,
        rttMs,
        targetBps,
      );
      if (decision === "resend") {
        repairs.push({ sequence, packet: entry.packet });
      } else if (decision === "not-sent") {
        this.stats.nackMisses++;
      } else {
        this.stats.repairsSuppressed[decision]++;
        if (GIVEN_UP.has(decision)) keyFrameNeeded = true;
      }
    }
    // The copies after every first one: they take only what budget is left,
    // and a burst that takes one copy is less likely to take the other.
    if (twice) {
      const firsts = repairs.length;
      for (let i = 0; i < firsts; i++) {
        const repair = repairs[i];
        if (!repair) break;
        const size = repair.packet.length + REPAIR_OVERHEAD_BYTES;
        if (!this.policy.chargeCopy(size, nowMs, targetBps)) break;
        repairs.push(repair);
        this.stats.repairCopies++;
      }
    }
    this.stats.repairsQueued += repairs.length;
    if (keyFrameNeeded) this.stats.keyFramesInsteadOfRepair++;
    return { repairs, keyFrameNeeded };
  }
}
