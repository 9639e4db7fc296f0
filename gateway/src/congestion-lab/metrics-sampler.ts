/**
 * Samples a lab gateway's /metrics once a second from inside its namespace
 * (where it listens): what it sent, what the encoder is asked for and the
 * lowest viewer estimate. One long-lived node process in the namespace, not
 * one per sample: the lab machine is shared and a spawn a second would
 * cost more than what it measures.
 */
import type { ChildProcess } from "node:child_process";
import type { NetLab } from "../../../firmware-sim/src/net/net-lab.js";
import type { GatewayProcess } from "../testing/gateway-process.js";

/** One scrape of /metrics. */
export interface GatewaySample {
  /** When it was taken, ms since the epoch. */
  at: number;
  /** camgw_bytes_sent_total: RTP bytes sent to all viewers. */
  bytesSent: number;
  /** camgw_frames_packetized_total: frames out of the encoder. */
  frames: number;
  /** camgw_encoder_target_kbps (0 when the bitrate is fixed). */
  encoderTargetKbps: number;
  /** camgw_video_lowest_estimate_bps (NaN without a viewer estimate). */
  lowestEstimateBps: number;
  /** camgw_low_encoder_target_kbps: the second, lower encoding's (0 while it does not run). */
  lowEncoderTargetKbps: number;
  /** camgw_video_viewers_on_low_encoding (null without a viewer estimate). */
  viewersOnLowEncoding: number | null;
}

const METRICS = {
  bytesSent: "camgw_bytes_sent_total",
  frames: "camgw_frames_packetized_total",
  encoderTargetKbps: "camgw_encoder_target_kbps",
  lowestEstimateBps: "camgw_video_lowest_estimate_bps",
  lowEncoderTargetKbps: "camgw_low_encoder_target_kbps",
  viewersOnLowEncoding: "camgw_video_viewers_on_low_encoding",
} as const;

/** The script the sampler runs in the namespace: one JSON line per scrape. */
function samplerScript(url: string, periodMs: number): string {
  return `
const names = ${JSON.stringify(METRICS)};
const scrape = async () => {
  try {
    const text = await (await fetch(${JSON.stringify(url)})).text();
    const out = { at: Date.now() };
    for (const [key, name] of Object.entries(names)) {
      const m = new RegExp("^" + name + " ([0-9.eE+-]+)$", "m").exec(text);
      out[key] = m ? Number(m[1]) : null;
    }
    process.stdout.write(JSON.stringify(out) + "\\n");
  } catch (e) {
    process.stderr.write(String(e) + "\\n");
  }
};
setInterval(scrape, ${periodMs});
scrape();
`;
}

export class MetricsSampler {
  readonly samples: GatewaySample[] = [];
  readonly #child: ChildProcess;
  #buffer = "";

  constructor(lab: NetLab, gateway: GatewayProcess, site = "board", periodMs = 1000) {
    const url = new URL("/metrics", gateway.httpUrl).toString();
    this.#child = lab.spawn(site, process.execPath, ["-e", samplerScript(url, periodMs)], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    this.#child.stdout?.on("data", (chunk: Buffer) => {
      this.#buffer += chunk.toString();
      const lines = this.#buffer.split("\n");
      this.#buffer = lines.pop() ?? "";
      for (const line of lines) {
        const raw = JSON.parse(line) as Record<keyof GatewaySample, number | null>;
        this.samples.push({
          at: raw.at ?? Date.now(),
          bytesSent: raw.bytesSent ?? Number.NaN,
          frames: raw.frames ?? Number.NaN,
          encoderTargetKbps: raw.encoderTargetKbps ?? Number.NaN,
          lowestEstimateBps: raw.lowestEstimateBps ?? Number.NaN,
          lowEncoderTargetKbps: raw.lowEncoderTargetKbps ?? Number.NaN,
          viewersOnLowEncoding: raw.viewersOnLowEncoding,
        });
      }
    });
  }

  /** Stops sampling; safe to call twice. */
  async close(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    await exited;
  }
}
