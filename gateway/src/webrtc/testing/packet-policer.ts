/**
 * A token bucket over packets for tests that police a viewer's link in
 * process (no network lab): `perSecond` refill, `burst` deep. The returned
 * function says whether the next packet is dropped.
 */
export function packetPolicer(perSecond: number, burst: number): () => boolean {
  let tokens = burst;
  let last = performance.now();
  return () => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) * perSecond) / 1000);
    last = now;
    if (tokens < 1) return true;
    tokens -= 1;
    return false;
  };
}
