/**
 * Per-user send throttle: a token bucket per user (rate per second, burst), in memory per process, so a
 * flooding sender gets `rate_limited` (429 with Retry-After) whichever socket or HTTP client it uses.
 * Buckets that have refilled are forgotten, so idle users cost nothing.
 */
import { ParleyError } from '@parley/protocol';

export class SendThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a token for `userId` or throws rate_limited. */
  take(userId: string): void {
    const now = this.now();
    const b = this.buckets.get(userId) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.rate) / 1000);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(userId, b);
      throw new ParleyError('rate_limited', 'sending too fast; slow down', {
        retryAfter: Math.max(1, Math.ceil((1 - b.tokens) / this.rate)),
      });
    }
    b.tokens -= 1;
    this.buckets.set(userId, b);
    if (this.buckets.size > 50_000) this.sweep(now);
  }

  private sweep(now: number): void {
    for (const [k, b] of this.buckets)
      if (b.tokens + ((now - b.at) * this.rate) / 1000 >= this.burst) this.buckets.delete(k);
  }
}
