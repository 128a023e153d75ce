/**
 * Per-source token buckets: at most `rate` messages per second on average with bursts of `burst`,
 * per source address. Memory is bounded: idle buckets are swept, and past `maxSources` the oldest
 * entries are dropped (a flood from many addresses then only resets buckets, it cannot grow memory).
 */
import type { Clock } from './clock.ts';

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;
  constructor(
    private readonly clock: Clock,
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxSources = 100_000,
  ) {}

  /** Takes one token for `source`; false when the source is over its rate. */
  take(source: string): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(source);
    if (!b) {
      if (this.buckets.size >= this.maxSources) this.sweep(now, true);
      b = { tokens: this.burst, at: now };
      this.buckets.set(source, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    }
    if (now - this.lastSweep > 10_000) this.sweep(now, false);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number, force: boolean): void {
    this.lastSweep = now;
    const full = (this.burst / this.rate) * 1000;
    for (const [k, b] of this.buckets) {
      if (now - b.at >= full) this.buckets.delete(k);
    }
    if (force && this.buckets.size >= this.maxSources) {
      let n = Math.ceil(this.maxSources / 10);
      for (const k of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(k);
      }
    }
  }
}
