/**
 * What /metrics shows of the WHEP endpoint (camgw_whep_*), beside the
 * session manager's sessions by transport: requests by method and refusals
 * by HTTP status, so a misconfigured player (401s, 415s) shows up.
 */
export interface WhepStatsSnapshot {
  /** WHEP sessions the endpoint keeps (a gauge). */
  sessions: number;
  requests: Record<string, number>;
  refused: Record<string, number>;
  created: number;
  deleted: number;
  trickled: number;
  iceRestarts: number;
}

export class WhepStats {
  created = 0;
  deleted = 0;
  trickled = 0;
  iceRestarts = 0;
  readonly #requests: Record<string, number> = {};
  readonly #refused: Record<string, number> = {};

  countRequest(method: string): void {
    // Only the methods WHEP knows, so junk methods cannot grow the label set.
    const known = ["POST", "PATCH", "DELETE", "OPTIONS", "HEAD", "GET"];
    const key = known.includes(method) ? method : "other";
    this.#requests[key] = (this.#requests[key] ?? 0) + 1;
  }

  countRefusal(status: number): void {
    const key = String(status);
    this.#refused[key] = (this.#refused[key] ?? 0) + 1;
  }

  snapshot(sessions: number): WhepStatsSnapshot {
    return {
      sessions,
      requests: { ...this.#requests },
      refused: { ...this.#refused },
      created: this.created,
      deleted: this.deleted,
      trickled: this.trickled,
      iceRestarts: this.iceRestarts,
    };
  }
}
