/**
 * Waiting for what the server shows (presence, bindings) where no event reaches the test: `read` is
 * polled every 100 ms until `ok` holds, for 10 s at most, and the failure says what it last read.
 */
export async function until<T>(
  what: string,
  read: () => Promise<T> | T,
  ok: (v: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const last = await read();
    if (ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
