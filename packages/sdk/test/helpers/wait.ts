/** Polls a condition until it holds, within a bound (tests wait for what a user would see). */
export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves with the first value `get` returns, within a bound. */
export async function waitFor<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  let v: T | undefined;
  await waitUntil(() => (v = get()) !== undefined, timeoutMs, what);
  return v!;
}
