/**
 * Turns wrapping sequence numbers (16-bit RTP and transport-wide ones,
 * 24-bit feedback reference times) into ever-growing integers: each value
 * is placed at the unwrapped number nearest to the previous one (RFC 3550
 * appendix A.1 reasons the same way), so reordering by less than half the
 * space never looks like a wrap.
 */
export class SequenceUnwrapper {
  private last: number | undefined;
  private readonly size: number;

  constructor(bits = 16) {
    this.size = 2 ** bits;
  }

  /** The unwrapped value of `value`, which becomes the new reference. */
  unwrap(value: number): number {
    this.last = this.peek(value);
    return this.last;
  }

  /** The unwrapped value of `value` without moving the reference. */
  peek(value: number): number {
    if (this.last === undefined) return value;
    let delta = (value - this.last) % this.size;
    if (delta < 0) delta += this.size;
    if (delta >= this.size / 2) delta -= this.size;
    return this.last + delta;
  }
}
