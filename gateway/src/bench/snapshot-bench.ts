import { percentile, round } from "../probe/stats.js";
import { startGateway, type GatewayProcess } from "../testing/gateway-process.js";

/**
 * `make bench`, snapshots: `GET /api/snapshot.jpg` on the virtual board
 * (1280x720@30, the Pi 4 profile: M2M encoder, JPEG from the raw frame),
 * request to last byte, on loopback. Cold: nobody watches and the camera is
 * off (the linger has run out), so the snapshot starts it; warm: right after
 * another snapshot (0.55 s later, within a client's allowance), the camera
 * still running. Figures only.
 */

const LINGER_S = 1;

async function timed(gw: GatewayProcess, query: string): Promise<{ ms: number; ageMs: number }> {
  const t0 = performance.now();
  const res = await fetch(`${gw.httpUrl}api/snapshot.jpg${query}`, {
    headers: { Authorization: `Bearer ${gw.owner.token}` },
  });
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`snapshot answered ${res.status}`);
  return { ms, ageMs: Number(res.headers.get("x-camgw-frame-age-ms")) };
}

function line(label: string, samples: { ms: number; ageMs: number }[]): string {
  const ms = samples.map((s) => s.ms);
  const age = samples.map((s) => s.ageMs);
  return `${label.padEnd(26)} median ${round(percentile(ms, 50))} ms, p90 ${round(percentile(ms, 90))} ms (n=${ms.length}); frame age at the answer median ${round(percentile(age, 50))} ms`;
}

export async function snapshotBench(): Promise<void> {
  const gw = await startGateway({
    args: ["--device-id", "bench", "--snapshot-linger", String(LINGER_S)],
  });
  try {
    for (const [label, query] of [
      ["1280x720", ""],
      ["?width=640", "?width=640"],
    ] as const) {
      const cold: { ms: number; ageMs: number }[] = [];
      const warm: { ms: number; ageMs: number }[] = [];
      for (let i = 0; i < 6; i++) {
        // Past the linger: the camera has stopped again.
        await new Promise((r) => setTimeout(r, LINGER_S * 1000 + 700));
        cold.push(await timed(gw, query));
        for (let j = 0; j < 4; j++) {
          // Within a client's allowance (2 a second; snapshot-route.ts).
          await new Promise((r) => setTimeout(r, 550));
          warm.push(await timed(gw, query));
        }
      }
      console.log(line(`cold (camera off) ${label}`, cold));
      console.log(line(`warm ${label}`, warm));
    }
  } finally {
    await gw.stop();
  }
}
