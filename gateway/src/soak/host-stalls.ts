import type { Disruption } from "./recovery-budget.js";

/**
 * Moments the machine did not run the soak's own, nearly idle, process: a
 * timer due every 50 ms that comes 300 ms late or more. The machine the
 * soak runs on is shared (a load of 10+ on 2 cores is common), and a viewer
 * that freezes while nothing got the CPU tells nothing about the gateway;
 * such a stall is a disruption like a fault (recovery-budget.ts, "host").
 * A gateway that blocks its own event loop does not stall this process, so
 * its viewers' freezes stay unexplained and fail the soak.
 */
const TICK_MS = 50;
const LATE_MS = 300;

export class HostStalls {
  #last = Date.now();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(onStall: (stall: Disruption) => void) {
    this.#timer = setInterval(() => {
      const now = Date.now();
      const gap = now - this.#last;
      if (gap >= TICK_MS + LATE_MS)
        onStall({ kind: "host", label: `host stalled ${gap} ms`, startAt: this.#last, endAt: now });
      this.#last = now;
    }, TICK_MS);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
