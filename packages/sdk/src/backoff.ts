/**
 * Reconnect delays: exponential from `baseMs` to `maxMs`, with "full jitter" (a random point in the
 * upper half of the window), so clients cut off together do not all come back in the same instant.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 250, maxMs: 30_000 };

/** The delay before attempt number `attempt` (0 for the first retry). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxMs, o.baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
