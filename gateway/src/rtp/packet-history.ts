/**
 * Recently sent RTP packets by sequence number, for answering generic NACKs
 * (RFC 4585 section 6.2.1). One history serves every viewer: the fan-out
 * sends the same packets (same sequence numbers) to all of them.
 *
 * Sized by packet count: at 2 Mbit/s and ~1.2 kB packets a stream sends
 * ~210 packets/s, so the default 1024 covers ~4.9 s there and still 1 s at
 * ~9.8 Mbit/s, well past one RTT of any viewer worth repairing.
 */
export const DEFAULT_HISTORY_PACKETS = 1024;

export interface HistoryEntry {
  readonly sequence: number;
  readonly packet: Buffer;
  readonly captureTimeUs: number;
}

export class PacketHistory {
  readonly capacity: number;
  private readonly slots: (HistoryEntry | undefined)[];

  constructor(capacity = DEFAULT_HISTORY_PACKETS) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 32_768) {
      throw new RangeError(`RTP history size must be an integer 1..32768 packets, not ${capacity}`);
    }
    this.capacity = capacity;
    this.slots = new Array<HistoryEntry | undefined>(capacity).fill(undefined);
  }

  /** Records consecutive packets starting at `firstSequence`. */
  add(firstSequence: number, packets: readonly Buffer[], captureTimeUs: number): void {
    packets.forEach((packet, i) => {
      const sequence = (firstSequence + i) & 0xffff;
      this.slots[sequence % this.capacity] = { sequence, packet, captureTimeUs };
    });
  }

  /** The packet with this sequence number, if it is still held. */
  get(sequence: number): HistoryEntry | undefined {
    const entry = this.slots[sequence % this.capacity];
    return entry?.sequence === sequence ? entry : undefined;
  }

  clear(): void {
    this.slots.fill(undefined);
  }
}
