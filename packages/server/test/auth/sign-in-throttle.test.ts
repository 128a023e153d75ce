/** The sign-in throttle on a fake clock: growing delays per (account, address) pair, the per-address cap. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignInThrottle } from '../../src/auth/sign-in-throttle.ts';

function throttle() {
  let now = 1_000_000;
  const t = new SignInThrottle(
    { freeFailures: 2, delayBaseMs: 1000, delayMaxMs: 8000, maxPerAddress: 50, windowMs: 60_000 },
    () => now,
  );
  return { t, advance: (ms: number) => (now += ms) };
}

test('free failures cost nothing; then each failure doubles the wait, up to the cap', () => {
  const { t, advance } = throttle();
  t.fail('alice', '10.0.0.1');
  t.fail('alice', '10.0.0.1');
  assert.equal(t.retryAfter('alice', '10.0.0.1'), 0);
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    t.fail('alice', '10.0.0.1');
    const w = t.retryAfter('alice', '10.0.0.1');
    waits.push(w);
    advance(w * 1000);
    assert.equal(t.retryAfter('alice', '10.0.0.1'), 0, 'the wait runs out');
  }
  assert.deepEqual(waits, [1, 2, 4, 8, 8, 8]);
});

test('another address, and another account, are never slowed by a guessing pair', () => {
  const { t } = throttle();
  for (let i = 0; i < 10; i++) t.fail('alice', '10.0.0.1');
  assert.ok(t.retryAfter('alice', '10.0.0.1') > 0);
  assert.equal(t.retryAfter('alice', '10.0.0.2'), 0);
  assert.equal(t.retryAfter('bob', '10.0.0.1'), 0);
});

test('a success clears the pair; a quiet window forgets it', () => {
  const { t, advance } = throttle();
  for (let i = 0; i < 4; i++) t.fail('alice', '10.0.0.1');
  t.succeed('alice', '10.0.0.1');
  t.fail('alice', '10.0.0.1');
  assert.equal(t.retryAfter('alice', '10.0.0.1'), 0, 'counting starts again after a success');
  for (let i = 0; i < 4; i++) t.fail('bob', '10.0.0.1');
  advance(4000 + 60_000);
  t.fail('bob', '10.0.0.1');
  assert.equal(t.retryAfter('bob', '10.0.0.1'), 0, 'forgotten after the window');
});

test('the per-address cap stops one address spraying many accounts', () => {
  const { t, advance } = throttle();
  for (let i = 0; i < 50; i++) t.fail(`user${i}`, '10.0.0.9');
  assert.equal(t.retryAfter('someone-new', '10.0.0.9'), 60);
  assert.equal(t.retryAfter('someone-new', '10.0.0.10'), 0);
  advance(60_000);
  assert.equal(t.retryAfter('someone-new', '10.0.0.9'), 0);
});
