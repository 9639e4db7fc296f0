/**
 * Bytes over a sliding time window, as a rate: what a sender sent or
 * queued over the last second, say. Samples are kept in arrival order and
 * dropped once they leave the window.
 */
export class RateWindow {
  private readonly times: number[] = [];
  private readonly sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  constructor(readonly windowMs = 1000) {}

  add(bytes: number, nowMs: number): void {
    this.times.push(nowMs);
    this.sizes.push(bytes);
    this.bytes += bytes;
    this.prune(nowMs);
  }

  /** Bits per second over the window ending at `nowMs`. */
  rateBps(nowMs: number): number {
    this.prune(nowMs);
    return (this.bytes * 8 * 1000) / this.windowMs;
  }

  private prune(nowMs: number): void {
    while (this.head < this.times.length && (this.times[this.head] ?? 0) <= nowMs - this.windowMs) {
      this.bytes -= this.sizes[this.head] ?? 0;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.sizes.splice(0, this.head);
      this.head = 0;
    }
  }
}
