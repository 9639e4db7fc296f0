/**
 * Polls `check` until it is true, or throws after timeoutMs: tests wait for
 * what happens, never assert how long it took.
 */
export async function waitFor(
  check: () => boolean,
  timeoutMs = 5000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
