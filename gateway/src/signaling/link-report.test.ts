import { describe, expect, it } from "vitest";
import { BrokerError, type BrokerErrorCode } from "../errors.js";
import { OutageReport } from "./link-report.js";
import type { LinkRetry } from "./mqtt-link.js";

/** An OutageReport on a clock the test moves by hand. */
function report(): { report: OutageReport; advance: (ms: number) => void } {
  let now = 1_000_000;
  return {
    report: new OutageReport({ now: () => now }),
    advance: (ms) => {
      now += ms;
    },
  };
}

function retry(attempt: number, code: BrokerErrorCode = "unreachable", delayMs = 500): LinkRetry {
  const message =
    code === "unreachable"
      ? "MQTT broker mqtt://127.0.0.1:1/: connect ECONNREFUSED 127.0.0.1:1"
      : "MQTT broker mqtt://127.0.0.1:1/ refused the connection: not authorized (CONNACK 5)";
  return { error: new BrokerError(code, message), fatal: code !== "unreachable", attempt, delayMs };
}

describe("OutageReport", () => {
  it("says what is wrong once, with what to check, then stays quiet between reminders", () => {
    const { report: r, advance } = report();
    expect(r.failed(retry(1))).toBe(
      "MQTT broker mqtt://127.0.0.1:1/: connect ECONNREFUSED 127.0.0.1:1 (is the broker running, and is --broker right?); retrying in the background, next attempt in 0.5 s",
    );
    for (let attempt = 2; attempt <= 5; attempt++) {
      advance(1000);
      expect(r.failed(retry(attempt))).toBeNull();
    }
  });

  it("reminds at growing intervals with the count, up to one line per ten minutes", () => {
    const { report: r, advance } = report();
    r.failed(retry(1));
    // A broker down for two hours, retried every 30 s once the backoff is at its ceiling.
    const lines: { atS: number; line: string }[] = [];
    for (let attempt = 2, atS = 30; atS <= 7200; attempt++, atS += 30) {
      advance(30_000);
      const line = r.failed(retry(attempt, "unreachable", 30_000));
      if (line) lines.push({ atS, line });
    }
    expect(lines[0]?.line).toBe(
      "still no broker after 2 failed attempts in 30 s: MQTT broker mqtt://127.0.0.1:1/: connect ECONNREFUSED 127.0.0.1:1; next attempt in 30 s",
    );
    const gaps = lines.slice(1).map((l, i) => l.atS - (lines[i]?.atS ?? 0));
    // 10 s, 20 s, 40 s... as far as 30 s steps resolve them, then every 10 minutes.
    expect(gaps.slice(0, 5)).toEqual([30, 60, 90, 180, 330]);
    expect(new Set(gaps.slice(6))).toEqual(new Set([600]));
    expect(lines.length).toBeLessThan(20);
  });

  it("reports a different problem at once", () => {
    const { report: r, advance } = report();
    r.failed(retry(1));
    advance(1000);
    expect(r.failed(retry(2, "refused"))).toMatch(
      /^MQTT broker .* refused the connection: not authorized \(CONNACK 5\) \(check --broker-username and --broker-password, and the broker's ACL\)/,
    );
  });

  it("says when the broker is back, and starts afresh for the next outage", () => {
    const { report: r, advance } = report();
    expect(r.recovered()).toBeNull();
    r.failed(retry(1));
    advance(90_000);
    r.failed(retry(7));
    expect(r.recovered()).toBe("back after 7 failed attempts in 2 min");
    expect(r.recovered()).toBeNull();
    expect(r.failed(retry(1))).toMatch(/retrying in the background/);
  });
});
