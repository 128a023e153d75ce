/**
 * Time that moves when a test says so, for presence: the SIP stack's FakeClock runs the grace and expiry
 * timers (no test sleeps for them), and `now` reads wall time from the same clock (expiries on the wire
 * are absolute instants).
 */
import { FakeClock } from '@parley/sip';

export interface FakeTime {
  clock: FakeClock;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Moves time forward, running every timer that falls due. */
  advance(ms: number): void;
}

/** Wall time that stands still at `start` except when advanced: for unit tests of one service. */
export function fakeTime(start = Date.now()): FakeTime {
  const clock = new FakeClock();
  return { clock, now: () => start + clock.now(), advance: (ms) => clock.advance(ms) };
}

/**
 * Wall time that runs with the real clock, plus everything advanced: for tests of a running server,
 * where changes made milliseconds apart must still get increasing `since` instants. Timers still run
 * only when advanced.
 */
export function advancingTime(): FakeTime {
  const clock = new FakeClock();
  return { clock, now: () => Date.now() + clock.now(), advance: (ms) => clock.advance(ms) };
}
