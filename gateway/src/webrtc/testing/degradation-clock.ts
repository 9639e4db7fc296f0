/**
 * A DegradationPolicy (send/degradation-policy.ts) on a clock a test moves,
 * fed estimates as transport-cc feedback brings them (one every 100 ms);
 * `asked` lists the steps it asked for as "WxH@fps".
 */
import {
  DegradationPolicy,
  type DegradationAbilities,
  type DegradationMode,
} from "../send/degradation-policy.js";

export interface PolicyUnderTest {
  policy: DegradationPolicy;
  asked: string[];
  /** Feeds `kbps` every 100 ms for `forMs`, and once more at the end. */
  feed: (kbps: number, forMs: number) => void;
  /** The clock, ms. */
  at: () => number;
}

export function policyOnClock(options: {
  mode: DegradationMode;
  base: { width: number; height: number; fps: number };
  maxKbps: number;
  can: DegradationAbilities;
}): PolicyUnderTest {
  let now = 0;
  const asked: string[] = [];
  const policy = new DegradationPolicy(
    options,
    (q) => asked.push(`${q.width}x${q.height}@${q.fps}`),
    () => now,
  );
  const feed = (kbps: number, forMs: number): void => {
    for (let t = 0; t < forMs; t += 100) {
      policy.update(kbps);
      now += 100;
    }
    policy.update(kbps);
  };
  return { policy, asked, feed, at: () => now };
}
