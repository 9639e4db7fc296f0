/**
 * Token buckets per key (a viewerId): `burst` tokens, refilled at `perSecond`.
 * Signaling uses them so one viewer's flood of offers or junk cannot starve
 * the others or make the device amplify it with replies.
 */
export interface RateLimit {
  burst: number;
  perSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class KeyedRateLimiter {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #sinceSweep = 0;

  constructor(limit: RateLimit, now: () => number = () => performance.now()) {
    if (!(limit.burst >= 1) || !(limit.perSecond > 0)) {
      throw new RangeError(
        `rate limit needs burst >= 1 and perSecond > 0, got ${JSON.stringify(limit)}`,
      );
    }
    this.#limit = limit;
    this.#now = now;
  }

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const now = this.#now();
    const bucket = this.#refill(key, now);
    this.#sweep(now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Keys tracked now (full buckets are forgotten over time). */
  get size(): number {
    return this.#buckets.size;
  }

  #refill(key: string, now: number): Bucket {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.#limit.burst, at: now };
      this.#buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = (now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.#limit.burst, bucket.tokens + elapsed * this.#limit.perSecond);
    bucket.at = now;
    return bucket;
  }

  /** Forgets buckets that have refilled completely, so random viewer ids do not grow the map forever. */
  #sweep(now: number): void {
    if (++this.#sinceSweep < 256) return;
    this.#sinceSweep = 0;
    const fullAfterMs = (this.#limit.burst / this.#limit.perSecond) * 1000;
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at >= fullAfterMs) this.#buckets.delete(key);
    }
  }
}
