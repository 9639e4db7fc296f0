/**
 * The audio/video timing probe for tests and benches: injects
 * av-probe-page.ts (bundled by esbuild) into a viewer page and reduces what
 * it measured to figures. Same machine, same clock, so both latencies are
 * glass-to-glass: the tone burst's whole second (or the frame's stamp) to
 * the moment this page plays it out.
 */
import { build } from "esbuild";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { REPO_ROOT } from "../../../gateway/src/testing/gateway-process.js";
import { percentile } from "../../src/latency-series.js";
import type { AvSample } from "./av-probe-page.js";

export type { AvSample } from "./av-probe-page.js";

let bundled: Promise<string> | undefined;

function probeScript(): Promise<string> {
  bundled ??= build({
    entryPoints: [join(REPO_ROOT, "web-viewer", "test", "harness", "av-probe-page.ts")],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    target: ["es2022"],
    logLevel: "warning",
  }).then((b) => b.outputFiles[0]?.text ?? "");
  return bundled;
}

/**
 * For openViewer's `beforeLoad` (the probe needs it): keeps every
 * RTCPeerConnection the page makes in window.camgwAvPeers, so the probe can
 * read the audio renderer's output delay from its stats. Serialised by
 * playwright into the page: it may use nothing from this module.
 */
export function recordPeerConnections(): void {
  const peers: RTCPeerConnection[] = [];
  (window as { camgwAvPeers?: RTCPeerConnection[] }).camgwAvPeers = peers;
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      peers.push(this);
    }
  };
}

/** Adds window.camgwAvProbe to the page (once per page load). */
export async function injectAvProbe(page: Page): Promise<void> {
  await page.addScriptTag({ content: await probeScript() });
}

/** Listens to and watches `deviceId`'s tile for `ms` (a few bursts: one a second). */
export function measureAv(page: Page, deviceId: string, ms: number): Promise<AvSample> {
  return page.evaluate(
    ({ deviceId, ms }) => {
      const probe = window.camgwAvProbe;
      if (!probe) throw new Error("no camgwAvProbe: call injectAvProbe first");
      return probe.measure(deviceId, ms);
    },
    { deviceId, ms },
  );
}

export interface AvFigures {
  /** Median glass-to-glass of the bursts heard, ms. */
  audioMs: number;
  /** Median glass-to-glass of the stamped frames shown in the same time, ms. */
  videoMs: number;
  /**
   * Median over the bursts of: the burst's latency minus the median latency
   * of the frames shown within half a second of it (positive: the sound
   * comes after the picture). Paired per burst, as lip sync moves both.
   */
  offsetMs: number;
  /** The per-burst offsets. */
  offsetsMs: number[];
  bursts: number;
  frames: number;
}

export function median(values: readonly number[]): number | null {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** A/V offset of each burst heard with frames shown around it (within 500 ms). */
export function burstOffsets(sample: AvSample): number[] {
  const offsets: number[] = [];
  for (const burst of sample.bursts) {
    const near = sample.videoLatencyMs.filter(
      (_, i) => Math.abs((sample.videoWallMs[i] ?? -Infinity) - burst.wallMs) <= 500,
    );
    const video = median(near);
    if (video !== null) offsets.push(burst.latencyMs - video);
  }
  return offsets;
}

/** The sample's figures, or null when no burst was heard with frames around it. */
export function avFigures(sample: AvSample): AvFigures | null {
  const audioMs = median(sample.bursts.map((b) => b.latencyMs));
  const videoMs = median(sample.videoLatencyMs);
  const offsetsMs = burstOffsets(sample);
  const offsetMs = median(offsetsMs);
  if (audioMs === null || videoMs === null || offsetMs === null) return null;
  return {
    audioMs,
    videoMs,
    offsetMs,
    offsetsMs,
    bursts: sample.bursts.length,
    frames: sample.videoLatencyMs.length,
  };
}
