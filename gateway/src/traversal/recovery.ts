/**
 * Recovery in the network lab (docs/signaling.md, "Recovery"): the virtual
 * board behind a home router (eim), a `camgw probe` viewer behind another,
 * STUN and a plain turn: URL from the lab's coturn, the viewer's servers
 * given by the gateway. While it plays, the network is disturbed: the
 * board's address changes (a DHCP renew to a new lease), its internet link
 * is cut for 5 s, or the broker is down for 5 s (stopped, then started). The viewer must get
 * video again by itself. Used by recovery.e2e.test.ts (which asserts) and
 * recovery-bench.ts (which prints how long it took).
 */
import { startNetLab, type NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import type { ProbeEvent, ProbeReport } from "../probe/probe.js";
import type { RecoveryMethod } from "../probe/recovering-viewer.js";
import { viewersConnected } from "./lab-gateway.js";

/** The lab the recovery scenarios run in. */
export function startRecoveryLab(): Promise<NetLab> {
  return startNetLab({ boardNat: "eim", viewerNats: ["eim"] });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long a link or the broker stays away in the drop scenarios. */
export const DROP_MS = 5000;

export interface Disturbance {
  /** A name for ids and tables ("link-drop"). */
  name: string;
  /** What it does, as a person would say it. */
  what: string;
  /** Disturbs the lab; resolves when the network is back (the new address in place, the link up). */
  run(lab: NetLab): Promise<void>;
}

export const ADDRESS_CHANGE: Disturbance = {
  name: "address-change",
  what: "board address change",
  run: async (lab) => {
    await lab.renewAddress("board");
  },
};

export const LINK_DROP: Disturbance = {
  name: "link-drop",
  what: `board link down ${DROP_MS / 1000} s`,
  run: async (lab) => {
    await lab.linkDown("board");
    await sleep(DROP_MS);
    await lab.linkUp("board");
  },
};

/**
 * The broker stops and comes back: signaling reconnects, media (which
 * never passes through it) should not notice. A 5 s cut of the broker's
 * link instead would not even be seen: MQTT's TCP connections ride it
 * out (keepalive 15 s).
 */
export const BROKER_OUTAGE: Disturbance = {
  name: "broker-outage",
  what: `broker down ${DROP_MS / 1000} s`,
  run: (lab) => lab.restartBroker(DROP_MS),
};

export const DISTURBANCES: readonly Disturbance[] = [ADDRESS_CHANGE, LINK_DROP, BROKER_OUTAGE];

/** Video plays on this long after it came back, before the watch ends (its report says the rest). */
const PLAY_ON_MS = 3000;
/**
 * With no outage under way this long after the network is back, the video
 * went on through it: the probe's stall detector (4 s without a frame, as
 * the web viewer) would have said otherwise by now.
 */
const QUIET_MS = 5000;
/** The longest the viewer may take to its first frame once ICE connected. */
const PLAYING_WITHIN_MS = 20_000;
/** The longest watch. */
const WATCH_S = 40;

type Timed<E extends ProbeEvent["event"]> = Extract<ProbeEvent, { event: E }> & { at: number };

export interface RecoveryWatch {
  report: ProbeReport;
  /** The gateway's log. */
  log: string;
  /** Every event the probe reported, in order. */
  events: (ProbeEvent & { at: number })[];
  /** Date.now() when the disturbance began, and when the network was back. */
  disturbedAt: number;
  backAt: number;
  /** The probe's first `recovered` event after the disturbance began, or null (none was needed, or video never came back). */
  recovered: Timed<"recovered"> | null;
}

/**
 * A gateway on the lab's board and a viewer that plays; once it plays for
 * 2 s, `disturbance` runs. The watch ends once video came back after it and
 * played on PLAY_ON_MS more, once QUIET_MS passed after the network was
 * back with no outage under way, or after WATCH_S at the latest.
 */
export async function watchThrough(
  lab: NetLab,
  deviceId: string,
  disturbance: Disturbance,
): Promise<RecoveryWatch> {
  const ice = lab.gatewayIce(["stun", "turn"]);
  const gateway = await lab.startGateway({
    env: ice.env,
    args: [...ice.args, "--device-id", deviceId],
  });
  try {
    const stop = new AbortController();
    const events: (ProbeEvent & { at: number })[] = [];
    const watching = lab.probe("viewer1", {
      deviceId,
      seconds: WATCH_S,
      args: ["--no-decode"],
      signal: stop.signal,
      onEvent: (event) => events.push(event),
    });
    const probe = { ended: false };
    void watching.then(
      () => (probe.ended = true),
      () => (probe.ended = true),
    );
    await viewersConnected(gateway, 1);
    // A playing viewer: its first frame, not only ICE (a busy machine can
    // take seconds from one to the other), then 2 s of video.
    const deadline = Date.now() + PLAYING_WITHIN_MS;
    while (!events.some((e) => e.event === "playing")) {
      if (probe.ended || Date.now() > deadline) {
        stop.abort();
        const report = await watching;
        throw new Error(
          `the viewer did not play within ${PLAYING_WITHIN_MS} ms: ${JSON.stringify({ report, events })}\n${gateway.output()}`,
        );
      }
      await sleep(100);
    }
    await sleep(2000);
    const disturbedAt = Date.now();
    await disturbance.run(lab);
    const backAt = Date.now();
    const since = (): (ProbeEvent & { at: number })[] => events.filter((e) => e.at >= disturbedAt);
    for (;;) {
      const after = since();
      const recovered = after.find((e) => e.event === "recovered");
      if (recovered && Date.now() - recovered.at >= PLAY_ON_MS) break;
      const outage = after.some((e) => ["stalled", "ice-restart", "new-session"].includes(e.event));
      if (!outage && Date.now() - backAt >= QUIET_MS) break;
      if (probe.ended) break;
      await sleep(100);
    }
    stop.abort();
    const report = await watching;
    const recovered =
      events.find((e): e is Timed<"recovered"> => e.event === "recovered" && e.at >= disturbedAt) ??
      null;
    return { report, log: gateway.output(), events, disturbedAt, backAt, recovered };
  } finally {
    await gateway.stop();
  }
}

/** One run of a disturbance as the bench prints it. */
export interface RecoveryFigures {
  /** Network back -> the first new frame at the viewer, ms; null: video went on throughout, or never came back (see method). */
  backToFrameMs: number | null;
  /** The longest the picture stood still around the disturbance, ms (0: no freeze). */
  freezeMs: number;
  /** How video came back: ICE restart, new session, or "none needed". */
  method: RecoveryMethod | "none needed" | "not recovered";
  /** What started the recovery ("stalled", "device: address-changed", ...). */
  trigger: string | null;
  /** Restarts and new sessions it took. */
  attempts: number;
  /** Video did not come back: why, as the probe tells (its end, or its last attempt's reason). */
  why: string | null;
}

/** What one watch says about the recovery it saw. */
export function recoveryFigures(watch: RecoveryWatch): RecoveryFigures {
  const { report, recovered, disturbedAt, backAt } = watch;
  const offerAt = watch.events.find((e) => e.event === "offer")?.at ?? 0;
  // Freezes that were still going on when the disturbance began, or began after it.
  const freezes = report.freezeList
    .filter((f) => offerAt + f.atMs + f.durationMs >= disturbedAt)
    .map((f) => f.durationMs);
  const freezeMs = Math.round(Math.max(0, ...freezes));
  // report.recoveries is in the order of the `recovered` events.
  const before = watch.events.filter((e) => e.event === "recovered" && e.at < disturbedAt).length;
  const recovery = recovered ? report.recoveries[before] : undefined;
  if (recovered) {
    return {
      backToFrameMs: Math.max(0, recovered.at - backAt),
      freezeMs: Math.max(freezeMs, recovered.gapMs),
      method: recovered.method,
      trigger: recovery?.trigger ?? null,
      attempts: recovery?.attempts ?? 1,
      why: null,
    };
  }
  const attempts = watch.events.filter(
    (e) =>
      e.at >= disturbedAt &&
      (e.event === "stalled" || e.event === "ice-restart" || e.event === "new-session"),
  );
  // No stall, restart or new session: a short freeze at most, and video went on.
  const wentOn = report.video && report.ended === null && attempts.length === 0;
  const last = attempts.at(-1);
  return {
    backToFrameMs: null,
    freezeMs,
    method: wentOn ? "none needed" : "not recovered",
    trigger: null,
    attempts: attempts.filter((e) => e.event !== "stalled").length,
    why: wentOn
      ? null
      : (report.ended ?? (last && "reason" in last ? `${last.event}: ${last.reason}` : "no video")),
  };
}
