import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatMicros,
  parseDecimalMicros,
  perMinuteCost,
  secondsAffordable,
  toMinorUnits,
} from '../../src/billing/money.ts';

test('decimal text parses to micro-units without floating point', () => {
  const ok = (t: string) => {
    const r = parseDecimalMicros(t);
    assert.ok(r.ok, t);
    return r.value;
  };
  assert.equal(ok('0.0125'), 12_500);
  assert.equal(ok('12.50'), 12_500_000);
  assert.equal(ok('.5'), 500_000);
  assert.equal(ok('3'), 3_000_000);
  assert.equal(ok('-0.000001'), -1);
  // 0.1 + 0.2 would be 0.30000000000000004 in floating point; here it is exact.
  assert.equal(ok('0.1') + ok('0.2'), ok('0.3'));
  assert.equal(parseDecimalMicros('0.0000001').ok, false);
  assert.equal(parseDecimalMicros('1e3').ok, false);
  assert.equal(parseDecimalMicros('abc').ok, false);
  assert.equal(parseDecimalMicros('').ok, false);
});

test('micro-units format back to exact decimal text', () => {
  assert.equal(formatMicros(12_500), '0.0125');
  assert.equal(formatMicros(-3_000_000), '-3');
  assert.equal(formatMicros(0), '0');
  assert.equal(formatMicros(1_234_567_890), '1234.56789');
});

test('per-minute cost rounds up to a whole micro-unit and its inverse agrees', () => {
  assert.equal(perMinuteCost(20_000, 61), 20_334);
  assert.equal(perMinuteCost(60_000, 60), 60_000);
  assert.equal(perMinuteCost(0, 600), 0);
  for (const [rate, budget] of [
    [20_000, 100_000],
    [7, 1],
    [60_000, 59_999],
    [1_500_000, 10_000_000],
  ]) {
    const s = secondsAffordable(rate, budget);
    assert.ok(perMinuteCost(rate, s) <= budget);
    assert.ok(perMinuteCost(rate, s + 1) > budget);
  }
  assert.equal(secondsAffordable(0, 5), Infinity);
});

test('invoice rounding to the minor unit is half away from zero, per currency', () => {
  assert.equal(toMinorUnits(12_345, 'EUR'), 1); // 0.012345 -> 0.01
  assert.equal(toMinorUnits(15_000, 'EUR'), 2); // 0.015 -> 0.02
  assert.equal(toMinorUnits(-15_000, 'EUR'), -2);
  assert.equal(toMinorUnits(1_499_999, 'JPY'), 1);
  assert.equal(toMinorUnits(1_500_000, 'JPY'), 2);
  assert.equal(toMinorUnits(1_234_500, 'KWD'), 1235);
});

test('large products leave the safe range through BigInt, exactly', () => {
  // 1,000,000 units per minute for 4 hours: 1e12 x 14,400 = 1.44e16 micro-unit-seconds, past 2^53.
  assert.equal(perMinuteCost(1_000_000_000_000, 14_400), 240_000_000_000_000);
  // 999,999,999,999 x 14,401 = 14,400,999,999,985,599; / 60 = 240,016,666,666,426.65 -> rounded up
  assert.equal(perMinuteCost(999_999_999_999, 14_401), 240_016_666_666_427);
});
