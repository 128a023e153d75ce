/**
 * Failed attempts counted per key in a sliding window; past the limit, attempts are refused with the
 * seconds until the oldest failure ages out. The sign-in throttle's per-source-address cap.
 * In memory per process; a multi-node deployment puts it on Redis through the same interface.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds to wait before another attempt is allowed for `key`, or 0. */
  retryAfter(key: string): number {
    const list = this.prune(key);
    if (list.length < this.limit) return 0;
    return Math.max(1, Math.ceil((list[0]! + this.windowMs - this.now()) / 1000));
  }

  fail(key: string): void {
    const list = this.prune(key);
    list.push(this.now());
    this.failures.set(key, list);
    if (this.failures.size > 100_000) this.sweep();
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private prune(key: string): number[] {
    const list = this.failures.get(key) ?? [];
    const cutoff = this.now() - this.windowMs;
    while (list.length && list[0]! <= cutoff) list.shift();
    if (!list.length) this.failures.delete(key);
    return list;
  }

  private sweep(): void {
    for (const key of [...this.failures.keys()]) this.prune(key);
  }
}
