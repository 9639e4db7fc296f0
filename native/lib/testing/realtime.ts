/** CLOCK_REALTIME in µs, sub-ms resolution: the clock of captureTimeUs. */
export function realtimeUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
