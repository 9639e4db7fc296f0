/**
 * A small live plot of glass-to-glass latency: one line over the last
 * samples, oldest on the left, newest on the right; the vertical scale (ms)
 * grows in 50 ms steps to fit, with its top and 0 labelled and a faint line
 * every 50 ms. The caption and the axis legend are HTML beside the canvas
 * (tile-view.ts), so screen readers and small screens get them too.
 */
const PAD = 6;
const STEP_MS = 50;

/** The top of the scale: the largest sample rounded up to 50 ms, so it does not jitter every frame. */
export function plotScaleMs(samples: readonly number[]): number {
  return Math.max(STEP_MS, Math.ceil(Math.max(0, ...samples) / STEP_MS) * STEP_MS);
}

export function drawLatencyPlot(canvas: HTMLCanvasElement, samples: readonly number[]): void {
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "rgba(0, 0, 0, 0.55)";
  ctx.fillRect(0, 0, width, height);
  const top = plotScaleMs(samples);
  const bottom = height - PAD;
  const y = (ms: number): number => bottom - ((bottom - PAD) * Math.max(0, ms)) / top;
  // Axis: labels at the top of the scale and at 0, grid lines every 50 ms.
  ctx.fillStyle = "#ffffff";
  ctx.font = "11px system-ui, sans-serif";
  const topLabel = `${top} ms`;
  const left = Math.ceil(ctx.measureText(topLabel).width) + 2 * PAD;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.fillText(topLabel, left - PAD, y(top) + 4);
  ctx.fillText("0", left - PAD, y(0) - 2);
  ctx.strokeStyle = "rgba(255, 255, 255, 0.25)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let ms = 0; ms <= top; ms += STEP_MS) {
    ctx.moveTo(left, y(ms));
    ctx.lineTo(width - PAD, y(ms));
  }
  ctx.stroke();
  if (samples.length < 2) return;
  const x = (i: number): number => left + ((width - PAD - left) * i) / (samples.length - 1);
  ctx.strokeStyle = "#7ee0a1";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  samples.forEach((ms, i) => {
    if (i === 0) ctx.moveTo(x(i), y(ms));
    else ctx.lineTo(x(i), y(ms));
  });
  ctx.stroke();
}
