/**
 * Money on the billing path: integer micro-units (millionths of the operator's currency), held in JS
 * numbers that must stay safe integers. Nothing here ever goes through floating point: decimal text is
 * parsed digit by digit, and products that could pass 2^53 are computed with BigInt.
 *
 * Rounding happens in two documented places only:
 * - a price for part of a minute (`perMinuteCost`) rounds UP to the next whole micro-unit, so a charge is
 *   never below the deck's rate; the difference is at most one millionth of the currency per call;
 * - rounding to the currency's minor unit (cents) happens only on invoice lines (`toMinorUnits`), half
 *   away from zero, once per line, never per call.
 */
import { BillingError } from './errors.ts';

/** An amount in millionths of the currency. Always a safe integer. */
export type Micros = number;

export const MICROS_PER_UNIT = 1_000_000;

/**
 * Largest amount one request may move (a top-up, a top-up request, an adjustment either way):
 * 9,999,999.999999 currency units. The HTTP schemas refuse more digits before anything is parsed.
 */
export const MAX_REQUEST_AMOUNT: Micros = 10_000_000 * MICROS_PER_UNIT - 1;

/**
 * Largest balance a wallet may hold: one billion currency units (10^15 micro-units). Every sum the
 * billing path forms stays a safe integer below it (2^53 is about 9 x 10^15, so even a balance at the cap
 * plus the largest request is exact), and the store refuses a credit that would pass it (`balance_limit`).
 */
export const MAX_BALANCE: Micros = 1_000_000_000 * MICROS_PER_UNIT;

/** Throws (a bug, not an expected condition) when `n` is not a safe integer. */
export function assertMicros(n: number, what = 'amount'): Micros {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} ${n} is not a safe integer of micro-units`);
  return n;
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d*))?$|^([+-])?\.(\d+)$/;

/**
 * Parses decimal text ("0.0125", "-3", "12.50") into micro-units without floating point.
 * More than six decimals would need sub-micro precision, so it is refused rather than rounded.
 * Returns a coded error message instead of throwing so the deck importer can collect every problem.
 */
export function parseDecimalMicros(
  text: string,
): { ok: true; value: Micros } | { ok: false; reason: string } {
  const s = text.trim();
  const m = DECIMAL.exec(s);
  if (!m) return { ok: false, reason: `"${text}" is not a decimal number` };
  const sign = m[1] ?? m[4];
  const whole = m[2] ?? '0';
  const frac = m[3] ?? m[5] ?? '';
  if (frac.length > 6) return { ok: false, reason: `"${text}" has more than 6 decimal places` };
  const digits = whole.replace(/^0+(?=\d)/, '') + frac.padEnd(6, '0');
  if (digits.length > 15) return { ok: false, reason: `"${text}" is too large` };
  const value = Number(digits) * (sign === '-' ? -1 : 1);
  return { ok: true, value: value === 0 ? 0 : value };
}

/** Parses decimal text into micro-units, throwing `validation` coded errors. */
export function decimalToMicros(text: string): Micros {
  const r = parseDecimalMicros(text);
  if (!r.ok) throw new BillingError('invalid_amount', r.reason);
  return r.value;
}

/** Formats micro-units as exact decimal text: 12500 -> "0.0125", -3000000 -> "-3". */
export function formatMicros(micros: Micros): string {
  assertMicros(micros);
  const neg = micros < 0;
  const abs = String(Math.abs(micros)).padStart(7, '0');
  const whole = abs.slice(0, -6);
  const frac = abs.slice(-6).replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/**
 * The price of `seconds` at `ratePerMinute` micro-units per minute, rounded up to a whole micro-unit.
 * Integer arithmetic; BigInt only when the product could leave the safe range.
 */
export function perMinuteCost(ratePerMinute: Micros, seconds: number): Micros {
  if (seconds <= 0 || ratePerMinute === 0) return 0;
  const product = ratePerMinute * seconds;
  if (Number.isSafeInteger(product + 59)) return Math.floor((product + 59) / 60);
  const big = (BigInt(ratePerMinute) * BigInt(seconds) + 59n) / 60n;
  return assertMicros(Number(big), 'cost');
}

/**
 * The most whole seconds that `budget` micro-units buy at `ratePerMinute` (the inverse of
 * `perMinuteCost`: perMinuteCost(rate, result) <= budget < perMinuteCost(rate, result + 1)).
 * Infinity when the rate is zero.
 */
export function secondsAffordable(ratePerMinute: Micros, budget: Micros): number {
  if (budget < 0) return 0;
  if (ratePerMinute === 0) return Infinity;
  const product = budget * 60;
  if (Number.isSafeInteger(product)) return Math.floor(product / ratePerMinute);
  return Number((BigInt(budget) * 60n) / BigInt(ratePerMinute));
}

/** ISO 4217 currencies whose minor unit is not two decimals (the common exceptions). */
const MINOR_DIGITS: Record<string, number> = {
  BHD: 3,
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  IQD: 3,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  PYG: 0,
  RWF: 0,
  TND: 3,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
};

/** Decimal places of a currency's minor unit (2 unless listed otherwise). */
export function minorUnitDigits(currency: string): number {
  return MINOR_DIGITS[currency.toUpperCase()] ?? 2;
}

/**
 * Rounds micro-units to the currency's minor unit, half away from zero, returning whole minor units
 * (cents). The invoice rule: applied once per invoice line, to the sum of that line's exact charges.
 */
export function toMinorUnits(micros: Micros, currency: string): number {
  assertMicros(micros);
  const step = 10 ** (6 - minorUnitDigits(currency));
  const abs = Math.abs(micros);
  const q = Math.floor(abs / step);
  const rounded = abs - q * step >= step / 2 ? q + 1 : q;
  return micros < 0 ? -rounded : rounded;
}

/** A three-letter currency code. */
export function isCurrencyCode(s: string): boolean {
  return /^[A-Z]{3}$/.test(s);
}
