import { EventEmitter } from "node:events";
import type { OpusSink } from "../../media/speaker.js";

/**
 * Who may talk into the one speaker: the floor, walkie-talkie style. The
 * first viewer whose talk-back packets arrive holds it; the others' packets
 * are dropped (and counted) until the holder has sent nothing for `holdMs`
 * (they let go of push-to-talk), and then the next one to talk gets it.
 * Mixing would need decoding every talker (the native playback takes one
 * Opus stream); and "last one wins" would let anyone cut a person off in
 * the middle of a sentence.
 *
 * The speaker is opened with the first packet of a talkspurt and closed
 * after `idleCloseMs` of silence, so the sound card is free the rest of the
 * time. A new holder starts a fresh jitter buffer: its RTP timestamps are
 * another sender's clock.
 */

/** A session's name on the floor. */
export const talkerName = (viewerId: string, session: string): string => `${viewerId}/${session}`;

export interface TalkFloorOptions {
  /** The floor is free after this long without packets from its holder (default 500 ms). */
  holdMs?: number;
  /** The speaker closes after this long without any accepted packet (default 5000 ms). */
  idleCloseMs?: number;
  now?: () => number;
}

export interface TalkFloorEvents {
  /** The floor changed hands: the new holder's id, or null when it became free. */
  floor: [string | null];
  /** A talker's packet was dropped because someone else holds the floor (at most once per talkspurt). */
  busy: [talker: string, holder: string];
  /** The speaker failed to open or failed while playing. */
  error: [Error];
}

export interface TalkFloorStats {
  packetsPlayed: number;
  /** Dropped while another viewer held the floor. */
  packetsBusy: number;
  /** Refused by the speaker (late, not Opus) or while it could not be opened. */
  packetsRefused: number;
  floorChanges: number;
}

export class TalkFloor extends EventEmitter<TalkFloorEvents> {
  readonly stats: TalkFloorStats = {
    packetsPlayed: 0,
    packetsBusy: 0,
    packetsRefused: 0,
    floorChanges: 0,
  };
  private readonly holdMs: number;
  private readonly idleCloseMs: number;
  private readonly now: () => number;
  private holder: string | undefined;
  private lastAcceptedAt = -Infinity;
  /** Talkers already told they are waiting, until they pause. */
  private readonly waiting = new Map<string, number>();
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly speaker: OpusSink,
    options: TalkFloorOptions = {},
  ) {
    super();
    this.holdMs = options.holdMs ?? 500;
    this.idleCloseMs = options.idleCloseMs ?? 5000;
    this.now = options.now ?? (() => performance.now());
    speaker.on("error", (err) => this.emit("error", err));
  }

  /** Who holds the floor now (undefined: free). */
  get currentHolder(): string | undefined {
    this.expire(this.now());
    return this.holder;
  }

  /** One talk-back packet from `talker`; true when it went to the speaker. */
  push(talker: string, payload: Uint8Array, rtpTimestamp: number): boolean {
    if (this.closed) return false;
    const now = this.now();
    this.expire(now);
    if (this.holder !== undefined && this.holder !== talker) {
      this.stats.packetsBusy++;
      const told = this.waiting.get(talker);
      if (told === undefined || now - told > this.holdMs) this.emit("busy", talker, this.holder);
      this.waiting.set(talker, now);
      return false;
    }
    if (this.holder === undefined && !this.take(talker)) {
      this.stats.packetsRefused++;
      return false;
    }
    this.lastAcceptedAt = now;
    this.armIdleClose();
    if (this.speaker.push(payload, rtpTimestamp)) {
      this.stats.packetsPlayed++;
      return true;
    }
    this.stats.packetsRefused++;
    return false;
  }

  /** A talker left (its session ended or stopped talking back): it lets go at once. */
  leave(talker: string): void {
    this.waiting.delete(talker);
    if (this.holder === talker) this.release();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.holder = undefined;
    this.speaker.stop();
    this.removeAllListeners();
  }

  private expire(now: number): void {
    if (this.holder !== undefined && now - this.lastAcceptedAt > this.holdMs) this.release();
  }

  private take(talker: string): boolean {
    try {
      // A fresh playout timeline for the new holder (its own RTP clock).
      this.speaker.stop();
      this.speaker.start();
    } catch (err) {
      this.emit("error", err instanceof Error ? err : new Error(String(err)));
      return false;
    }
    this.holder = talker;
    this.waiting.delete(talker);
    this.stats.floorChanges++;
    this.emit("floor", talker);
    return true;
  }

  private release(): void {
    this.holder = undefined;
    this.emit("floor", null);
  }

  private armIdleClose(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.closed) return;
      this.expire(this.now());
      if (this.holder === undefined) this.speaker.stop();
    }, this.idleCloseMs);
    this.idleTimer.unref();
  }
}
