/**
 * Flood control for one connection: a token bucket (rate per second, burst) kept as two numbers on the
 * session, so idle connections cost nothing extra. A client that exceeds the bucket is throttled (its
 * frames are dropped with one `rate_limited` error per episode); one that keeps sending until the debt
 * reaches a second burst is disconnected.
 */
export type FloodVerdict = 'pass' | 'throttle' | 'notify' | 'disconnect';

export interface FloodLimits {
  rate: number;
  burst: number;
}

export interface FloodState {
  tokens: number;
  tokensAt: number;
  /** True once the client has been told it is throttled, until it recovers. */
  notified: boolean;
}

/** Takes one token; says what to do with the frame. */
export function admit(s: FloodState, limits: FloodLimits, now: number): FloodVerdict {
  s.tokens = Math.min(limits.burst, s.tokens + ((now - s.tokensAt) * limits.rate) / 1000);
  s.tokensAt = now;
  s.tokens -= 1;
  if (s.tokens >= 0) {
    s.notified = false;
    return 'pass';
  }
  if (s.tokens <= -limits.burst) return 'disconnect';
  if (s.notified) return 'throttle';
  s.notified = true;
  return 'notify';
}
