/**
 * Sign-in throttling that slows guessing without letting a guesser lock the real user out.
 *
 * - Per (account, source address) pair, growing delays rather than a lock (OWASP Authentication Cheat
 *   Sheet, "Protect against automated attacks"; NIST SP 800-63B 5.2.2): the first `freeFailures`
 *   failures cost nothing, then each further failure makes that pair wait `delayBaseMs`, doubling per
 *   failure up to `delayMaxMs`, before its next attempt. A success clears the pair. Failures from one
 *   address never slow the same account from another address, so an attacker cannot deny the real user,
 *   and an office behind one NAT address is slowed only on the account being mistyped.
 * - Per source address, a cap against spraying many accounts: `maxPerAddress` failures in `windowMs`,
 *   then that address waits until the oldest failure ages out.
 *
 * A refused (throttled) attempt checks no password and counts as nothing. In memory per process (one
 * server per data folder); several nodes would share it through the same interface on Redis.
 */
import { FailureThrottle } from './throttle.ts';

export interface SignInThrottleLimits {
  freeFailures: number;
  delayBaseMs: number;
  delayMaxMs: number;
  maxPerAddress: number;
  windowMs: number;
}

interface PairState {
  failures: number;
  /** The next attempt of this pair is allowed from this instant. */
  allowedAt: number;
  lastFailure: number;
}

const MAX_PAIRS = 100_000;

export class SignInThrottle {
  private readonly pairs = new Map<string, PairState>();
  private readonly perAddress: FailureThrottle;

  constructor(
    private readonly limits: SignInThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.perAddress = new FailureThrottle(limits.maxPerAddress, limits.windowMs, now);
  }

  /** Seconds before `account` may be tried again from `address`, or 0. */
  retryAfter(account: string, address: string): number {
    const pair = this.pair(account, address);
    const pairWait = pair ? Math.max(0, pair.allowedAt - this.now()) : 0;
    return Math.max(pairWait > 0 ? Math.ceil(pairWait / 1000) : 0, this.perAddress.retryAfter(address));
  }

  fail(account: string, address: string): void {
    const key = pairKey(account, address);
    const now = this.now();
    const state = this.pair(account, address) ?? { failures: 0, allowedAt: now, lastFailure: now };
    state.failures += 1;
    state.lastFailure = now;
    const over = state.failures - this.limits.freeFailures;
    state.allowedAt = over > 0 ? now + this.delayMs(over) : now;
    this.pairs.delete(key); // re-inserted last: the map stays in least-recently-failed order
    this.pairs.set(key, state);
    if (this.pairs.size > MAX_PAIRS) this.evictOldest();
    this.perAddress.fail(address);
  }

  succeed(account: string, address: string): void {
    this.pairs.delete(pairKey(account, address));
  }

  /** The delay after the n-th failure past the free ones: base, 2 x base, 4 x base, ... up to max. */
  private delayMs(over: number): number {
    return Math.min(this.limits.delayMaxMs, this.limits.delayBaseMs * 2 ** Math.min(over - 1, 40));
  }

  /** The pair's state, forgotten once it has been quiet for the window after its delay ran out. */
  private pair(account: string, address: string): PairState | undefined {
    const key = pairKey(account, address);
    const state = this.pairs.get(key);
    if (state && this.now() >= state.allowedAt + this.limits.windowMs) {
      this.pairs.delete(key);
      return undefined;
    }
    return state;
  }

  private evictOldest(): void {
    for (const key of this.pairs.keys()) {
      this.pairs.delete(key);
      if (this.pairs.size <= MAX_PAIRS * 0.9) return;
    }
  }
}

const pairKey = (account: string, address: string) => `${account.toLowerCase()}\u0000${address}`;
