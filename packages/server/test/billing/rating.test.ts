/**
 * Hand-computed rating cases. Each expected amount is worked out in the comment next to it, in
 * micro-units (1 currency unit = 1,000,000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRater } from './memory-rater.ts';
import { DeckVersion, RateDeck, parseRateDeckCsv } from '../../src/billing/rate-deck.ts';
import { rateCall, rateReserved, type PoolSource } from '../../src/billing/rating.ts';
import { billableSeconds } from '../../src/billing/increments.ts';
import { GB_DECK_V1, GB_DECK_V2, call } from './fixtures.ts';

const T = Date.UTC(2026, 10, 10, 12, 0, 0);
const v1 = new DeckVersion('gb', 1, 0, parseRateDeckCsv(GB_DECK_V1));
const v2 = new DeckVersion('gb', 2, T, parseRateDeckCsv(GB_DECK_V2));
const deck = new RateDeck('gb', 'GB retail', 'sell');
deck.addVersion(v1);
deck.addVersion(v2);

/** A pool source offering `minutes` for class `cls` only. */
function pool(cls: string, minutes: number): PoolSource {
  return {
    poolFor: (_r, c) =>
      c === cls ? { key: { country: 'GB', cls: c, period: '2026-11' }, minutesAvailable: minutes } : null,
  };
}

test('billable seconds: first increment, then whole next increments', () => {
  assert.equal(billableSeconds(0, 60, 60), 0);
  assert.equal(billableSeconds(1, 60, 60), 60);
  assert.equal(billableSeconds(60, 60, 60), 60);
  assert.equal(billableSeconds(61, 60, 60), 120);
  assert.equal(billableSeconds(29, 30, 6), 30);
  assert.equal(billableSeconds(31, 30, 6), 36);
  assert.equal(billableSeconds(37, 30, 6), 42);
  assert.equal(billableSeconds(61, 1, 1), 61);
});

const cases: Array<{
  name: string;
  dest: string;
  seconds: number;
  pools?: PoolSource;
  at?: number;
  answered?: boolean;
  expect: Record<string, unknown>;
}> = [
  // 61 s on 60/60 -> 120 s = 2 min x 10,000 = 20,000 + fee 50,000
  {
    name: '60/60 domestic',
    dest: '+442071234567',
    seconds: 61,
    expect: {
      billableSeconds: 120,
      amount: 70_000,
      matchedPrefix: '44',
      connectionFeeCharged: true,
      reason: 'credits',
    },
  },
  // 31 s on 30/6 -> 36 s x 60,000 / 60 = 36,000 + fee 50,000
  {
    name: '30/6 mobile',
    dest: '+447700900123',
    seconds: 31,
    expect: { billableSeconds: 36, amount: 86_000, matchedPrefix: '447' },
  },
  // 10 s on 30/6 -> the first increment, 30 s = 30,000 + 50,000
  {
    name: '30/6 shorter than the first increment',
    dest: '+447700900123',
    seconds: 10,
    expect: { billableSeconds: 30, amount: 80_000 },
  },
  // 61 s on 1/1 at 20,000/min -> 1,220,000 / 60 = 20,333.33 -> rounded up 20,334 + fee 100,000
  {
    name: '1/1 international, rounding up to a whole micro-unit',
    dest: '+12125550100',
    seconds: 61,
    expect: { billableSeconds: 61, amount: 120_334 },
  },
  // 4479 (1/1, no fee) beats 447 (30/6, fee): 45 s x 30,000 / 60 = 22,500
  {
    name: 'longer prefix with its own increments and no fee wins',
    dest: '+447912345678',
    seconds: 45,
    expect: {
      billableSeconds: 45,
      amount: 22_500,
      matchedPrefix: '4479',
      connectionFeeCharged: false,
      firstIncrement: 1,
    },
  },
  // 150 s on 60/60 -> 180 s; pool has 2 min (120 s); credits pay 60 s = 10,000 + fee 50,000
  {
    name: 'split between pool and credits (fee charged once)',
    dest: '+442071234567',
    seconds: 150,
    pools: pool('domestic', 2),
    expect: {
      billableSeconds: 180,
      creditSeconds: 60,
      amount: 60_000,
      connectionFeeCharged: true,
      reason: 'pool_and_credits',
    },
  },
  // 150 s -> 180 s -> 3 pool minutes; no fee on a call wholly in the pool
  {
    name: 'wholly in the pool: no fee',
    dest: '+442071234567',
    seconds: 150,
    pools: pool('domestic', 10),
    expect: {
      billableSeconds: 180,
      creditSeconds: 0,
      amount: 0,
      connectionFeeCharged: false,
      reason: 'pool',
    },
  },
  // 61 s on 1/1 with 1 pool minute: pool draws 1 min (60 s), credits 1 s = 20,000/60 -> 334 + fee 100,000 (the pool is for international)
  {
    name: 'pool covering all but one second',
    dest: '+12125550100',
    seconds: 61,
    pools: pool('international', 1),
    expect: { creditSeconds: 1, amount: 100_334 },
  },
  // answered, lasted 0.4 s -> 0 whole seconds -> free, no fee
  {
    name: 'zero-second answered call is free',
    dest: '+442071234567',
    seconds: 0.4,
    expect: {
      durationSeconds: 0,
      billableSeconds: 0,
      amount: 0,
      reason: 'zero_duration',
      connectionFeeCharged: false,
    },
  },
  {
    name: 'unanswered call is free',
    dest: '+442071234567',
    seconds: 30,
    answered: false,
    expect: { amount: 0, reason: 'unanswered' },
  },
  {
    name: 'emergency short code is free',
    dest: '112',
    seconds: 600,
    expect: { amount: 0, cls: 'emergency', reason: 'emergency' },
  },
  {
    name: 'emergency deck row is free and draws nothing',
    dest: '+4499912',
    seconds: 600,
    pools: pool('emergency', 10),
    expect: { amount: 0, cls: 'emergency', pool: null },
  },
  {
    name: 'toll-free at rate 0 costs nothing',
    dest: '+448001234567',
    seconds: 300,
    expect: { billableSeconds: 300, amount: 0, cls: 'toll-free', reason: 'free_rate' },
  },
  // started 30 s before v2 took effect: v1 (10,000/min): 2 min = 20,000 + 50,000
  {
    name: 'a deck version taking effect during a call: the start decides (v1)',
    dest: '+442071234567',
    seconds: 120,
    at: T - 30_000,
    expect: { amount: 70_000, deck: { id: 'gb', version: 1, effectiveFrom: 0 } },
  },
  // started 1 s after: v2 (20,000/min): 40,000 + 50,000
  {
    name: 'a call started after the new version uses it (v2)',
    dest: '+442071234567',
    seconds: 120,
    at: T + 1000,
    expect: { amount: 90_000, deck: { id: 'gb', version: 2, effectiveFrom: T } },
  },
  {
    name: 'no matching prefix',
    dest: '+81312345678',
    seconds: 60,
    expect: { amount: 0, reason: 'no_rate', matchedPrefix: null },
  },
];

for (const c of cases) {
  test(`rating: ${c.name}`, () => {
    const startedAt = c.at ?? T - 3_600_000;
    const r = call(c.dest, c.seconds, { startedAt, answeredAt: c.answered === false ? null : startedAt });
    const rated = rateCall(r, { version: deck.versionAt(startedAt), pools: c.pools ?? null });
    for (const [k, v] of Object.entries(c.expect))
      assert.deepEqual(rated[k as keyof typeof rated], v, `${k}`);
  });
}

test('rating: inbound calls draw nothing', () => {
  const r = call('+442071234567', 600, { direction: 'inbound' });
  const rated = rateCall(r, { version: v1, pools: pool('domestic', 10) });
  assert.equal(rated.amount, 0);
  assert.equal(rated.pool, null);
  assert.equal(rated.reason, 'inbound');
});

test('rating: a call past its credit-control grant is charged for the grant only', () => {
  const r = call('+12125550100', 130);
  const rated = rateCall(r, { version: v1, pools: null, grantedSeconds: 120 });
  // 120 s x 20,000 / 60 = 40,000 + 100,000
  assert.equal(rated.amount, 140_000);
  assert.equal(rated.overrunSeconds, 10);
});

test('commit rating (rateReserved): the quoted row, only the held pool minutes, at most the grant', () => {
  // Quoted under v1 (UK fixed at 0.01/min); v2 (0.02/min) is in force when the call starts.
  const quoted = v1.match('442071234567')!;
  const r = call('+442071234567', 150, { startedAt: T + 1000 });
  const reservation = {
    rate: quoted,
    deckId: 'gb',
    deckVersion: 1,
    deckEffectiveFrom: 0,
    pool: { country: 'GB', cls: 'domestic' as const, period: '2026-11' },
    heldPoolMinutes: 2,
    grantedSeconds: 300,
  };
  const rated = rateReserved(r, reservation);
  // 150 s bills 180 s (60/60): 2 held minutes cover 120 s, credits pay 60 s at v1 (10,000) + 50,000 fee.
  assert.deepEqual(rated.deck, { id: 'gb', version: 1, effectiveFrom: 0 });
  assert.deepEqual(rated.pool, {
    country: 'GB',
    cls: 'domestic',
    period: '2026-11',
    minutes: 2,
    seconds: 120,
  });
  assert.equal(rated.amount, 60_000);
  assert.equal(rated.reason, 'pool_and_credits');
  // Past the grant: charged for the grant only, the rest reported as overrun.
  const long = rateReserved(call('+442071234567', 400), { ...reservation, heldPoolMinutes: 0 });
  assert.equal(long.amount, 50_000 + 50_000);
  assert.equal(long.overrunSeconds, 100);
  assert.equal(long.pool, null);
});

test('pools renew each calendar month in the tenant time zone', () => {
  const rater = new MemoryRater(
    new Map([['t1', { country: 'US', timeZone: 'America/Los_Angeles', sellDeck: deck }]]),
  );
  rater.include('t1', 'US', 'domestic', 1);
  // 31 Jan 23:30 in Los Angeles = 1 Feb 07:30 UTC: still January's pool.
  const jan = Date.UTC(2026, 1, 1, 7, 30);
  const a = rater.rate(call('+442071234567', 60, { startedAt: jan, answeredAt: jan }));
  assert.equal(a.pool?.period, '2026-01');
  assert.equal(a.pool?.minutes, 1);
  assert.equal(a.amount, 0);
  // January's single minute is gone: the next January call pays (10,000 + 50,000 fee; v1 in force).
  const b = rater.rate(call('+442071234567', 60, { startedAt: jan + 60_000, answeredAt: jan + 60_000 }));
  assert.equal(b.pool, null);
  assert.equal(b.amount, 60_000);
  // 1 Feb 00:30 in Los Angeles (08:30 UTC): February's pool is fresh.
  const feb = Date.UTC(2026, 1, 1, 8, 30);
  const c = rater.rate(call('+442071234567', 60, { startedAt: feb, answeredAt: feb }));
  assert.equal(c.pool?.period, '2026-02');
  assert.equal(c.amount, 0);
});
