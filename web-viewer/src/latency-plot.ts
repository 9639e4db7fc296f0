/**
 * A small live plot of glass-to-glass latency: one line over the last
 * samples, a scale that grows to fit, and a label with the latest value.
 */
const PAD = 4;

export function drawLatencyPlot(canvas: HTMLCanvasElement, samples: readonly number[]): void {
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "rgba(0, 0, 0, 0.55)";
  ctx.fillRect(0, 0, width, height);
  if (samples.length < 2) return;
  // Round the scale up to 50 ms steps so it does not jitter every frame.
  const top = Math.max(50, Math.ceil(Math.max(...samples) / 50) * 50);
  const x = (i: number): number => PAD + ((width - 2 * PAD) * i) / (samples.length - 1);
  const y = (ms: number): number => height - PAD - ((height - 2 * PAD) * Math.max(0, ms)) / top;
  ctx.strokeStyle = "rgba(255, 255, 255, 0.25)";
  ctx.beginPath();
  for (let ms = 50; ms < top; ms += 50) {
    ctx.moveTo(PAD, y(ms));
    ctx.lineTo(width - PAD, y(ms));
  }
  ctx.stroke();
  ctx.strokeStyle = "#7ee0a1";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  samples.forEach((ms, i) => {
    if (i === 0) ctx.moveTo(x(i), y(ms));
    else ctx.lineTo(x(i), y(ms));
  });
  ctx.stroke();
  ctx.fillStyle = "#ffffff";
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(`${top} ms`, PAD + 2, PAD + 10);
}
