/**
 * Rating: a call record becomes a charge, with every reason kept.
 *
 *   billable = first increment, then whole next increments covering the rest (0 s calls are free)
 *   pool     = min(pool minutes available, ceil(billable / 60)) whole minutes, drawn first
 *   credits  = the billable seconds the pool did not cover, at the rate per minute of the deck version in
 *              force when the call started (rounded up to a whole micro-unit), plus the connection fee
 *              once, only if credits pay any part of the call; a call wholly in the pool has no fee
 *   emergency and inbound calls are free and draw nothing.
 *
 * The functions here are pure: the pool balance is an input and the draw an output. Credit control
 * calls them inside its transactions (`rateReserved` at commit); bench/rating measures that same path.
 */
import type { CallRecord } from './call-record.ts';
import { isEmergencyShortCode, normaliseDestination, type DestinationClass } from './destination-class.ts';
import { billableSeconds, durationSeconds } from './increments.ts';
import { perMinuteCost, type Micros } from './money.ts';
import type { DeckVersion, RateRow } from './rate-deck.ts';
import type { Reservation } from './reservation.ts';

/** Which pool a call may draw: pools are per tenant, caller's country, destination class and month. */
export interface PoolKey {
  country: string;
  cls: DestinationClass;
  /** "YYYY-MM" in the tenant's time zone. */
  period: string;
}

/** Why a call costs what it costs. */
export type RatingReason =
  | 'inbound'
  | 'emergency'
  | 'unanswered'
  | 'zero_duration'
  | 'no_rate'
  | 'pool'
  | 'credits'
  | 'pool_and_credits'
  | 'free_rate';

/** A rated call: the charge and its explanation. Stored as JSON with the charge. */
export interface RatedCall {
  callId: string;
  tenantId: string;
  userId: string | null;
  direction: 'outbound' | 'inbound';
  destination: string;
  startedAt: number;
  durationSeconds: number;
  billableSeconds: number;
  cls: DestinationClass | null;
  deck: { id: string; version: number; effectiveFrom: number } | null;
  matchedPrefix: string | null;
  destinationName: string | null;
  ratePerMinute: Micros;
  connectionFee: Micros;
  firstIncrement: number;
  nextIncrement: number;
  /** Minutes drawn and the seconds they covered; null when no pool was drawn. */
  pool: (PoolKey & { minutes: number; seconds: number }) | null;
  creditSeconds: number;
  connectionFeeCharged: boolean;
  /** What credits pay, micro-units. */
  amount: Micros;
  reason: RatingReason;
  /** Seconds past the credit-control grant that were not charged (the call should have been cut). */
  overrunSeconds: number | undefined;
}

/** The part of rating that needs only a row, a duration and a pool: shared with credit control. */
export interface Charge {
  billableSeconds: number;
  poolMinutes: number;
  poolSeconds: number;
  creditSeconds: number;
  connectionFeeCharged: boolean;
  amount: Micros;
}

/** Prices `duration` seconds on `row` with `poolMinutes` available. */
export function charge(row: RateRow, duration: number, poolMinutes: number): Charge {
  const billable = billableSeconds(duration, row.firstIncrement, row.nextIncrement);
  if (billable === 0 || row.cls === 'emergency') {
    return {
      billableSeconds: billable,
      poolMinutes: 0,
      poolSeconds: 0,
      creditSeconds: 0,
      connectionFeeCharged: false,
      amount: 0,
    };
  }
  const minutes = poolMinutes > 0 ? Math.min(poolMinutes, Math.ceil(billable / 60)) : 0;
  const poolSeconds = Math.min(billable, minutes * 60);
  const creditSeconds = billable - poolSeconds;
  const paid = creditSeconds > 0;
  const amount = paid ? row.connectionFee + perMinuteCost(row.ratePerMinute, creditSeconds) : 0;
  return {
    billableSeconds: billable,
    poolMinutes: minutes,
    poolSeconds,
    creditSeconds,
    connectionFeeCharged: paid && row.connectionFee > 0,
    amount,
  };
}

/** Where rating finds pool balances. */
export interface PoolSource {
  /** The answer may be a scratch object reused by the next call: read it at once. */
  poolFor(record: CallRecord, cls: DestinationClass): { key: PoolKey; minutesAvailable: number } | null;
}

/** What `rateCall` needs besides the record. */
export interface RatingInput {
  /** The sell deck version in force at `record.startedAt` (null: no deck applies). */
  version: DeckVersion | null;
  /**
   * The pool a call of class `cls` would draw and its minutes available now; null when no plan includes
   * that class. Asked only once the destination's class is known.
   */
  pools: PoolSource | null;
  /** When set, only this many seconds are charged (the credit-control grant). */
  grantedSeconds?: number;
}

/** Rates one record. Pure: the pool draw is in the result, the caller applies it. */
export function rateCall(record: CallRecord, input: RatingInput): RatedCall {
  const digits = normaliseDestination(record.destination);
  const version = input.version;
  const row = digits !== null && version ? version.match(digits) : null;
  const emergency = digits !== null && isEmergencyShortCode(digits);
  return rateWithRow(
    record,
    row,
    version && row ? version.info : null,
    input.pools,
    input.grantedSeconds,
    emergency,
  );
}

/**
 * Rates one record against an already matched row (credit control stores the row it quoted, so commit
 * charges exactly what authorisation promised). `row` null means no rate applies.
 * Written to allocate one result object (and one pool object when a pool is drawn): rating runs in
 * bulk over millions of records.
 */
export function rateWithRow(
  record: CallRecord,
  row: RateRow | null,
  deck: RatedCall['deck'],
  pools: PoolSource | null,
  grantedSeconds?: number,
  emergencyShortCode = false,
): RatedCall {
  const duration = durationSeconds(record.answeredAt, record.endedAt);
  let cls: DestinationClass | null = row ? row.cls : null;
  let reason: RatingReason = 'no_rate';
  let billable = 0;
  let pool: RatedCall['pool'] = null;
  let creditSeconds = 0;
  let feeCharged = false;
  let amount = 0;
  let overrun: number | undefined;
  if (record.direction === 'inbound') reason = 'inbound';
  else if (emergencyShortCode || cls === 'emergency') {
    reason = 'emergency';
    cls = 'emergency';
  } else if (row) {
    let charged = duration;
    if (grantedSeconds !== undefined && duration > grantedSeconds) {
      charged = grantedSeconds;
      overrun = duration - grantedSeconds;
    }
    if (charged === 0 && overrun === undefined)
      reason = record.answeredAt === null ? 'unanswered' : 'zero_duration';
    else {
      const source = pools ? pools.poolFor(record, row.cls) : null;
      const c = charge(row, charged, source ? source.minutesAvailable : 0);
      billable = c.billableSeconds;
      creditSeconds = c.creditSeconds;
      feeCharged = c.connectionFeeCharged;
      amount = c.amount;
      if (c.poolMinutes > 0 && source) {
        const k = source.key;
        pool = {
          country: k.country,
          cls: k.cls,
          period: k.period,
          minutes: c.poolMinutes,
          seconds: c.poolSeconds,
        };
      }
      reason =
        c.poolMinutes > 0 && c.creditSeconds > 0
          ? 'pool_and_credits'
          : c.poolMinutes > 0
            ? 'pool'
            : c.amount > 0
              ? 'credits'
              : 'free_rate';
    }
  }
  return {
    callId: record.id,
    tenantId: record.tenantId,
    userId: record.userId,
    direction: record.direction,
    destination: record.destination,
    startedAt: record.startedAt,
    durationSeconds: duration,
    billableSeconds: billable,
    cls,
    deck: row ? deck : null,
    matchedPrefix: row ? row.prefix : null,
    destinationName: row ? row.destination : null,
    ratePerMinute: row ? row.ratePerMinute : 0,
    connectionFee: row ? row.connectionFee : 0,
    firstIncrement: row ? row.firstIncrement : 0,
    nextIncrement: row ? row.nextIncrement : 0,
    pool,
    creditSeconds,
    connectionFeeCharged: feeCharged,
    amount,
    reason,
    overrunSeconds: overrun,
  };
}

/** What of a reservation rating a finished call reads. */
export type ReservedQuote = Pick<
  Reservation,
  'rate' | 'deckId' | 'deckVersion' | 'deckEffectiveFrom' | 'pool' | 'heldPoolMinutes' | 'grantedSeconds'
>;

/**
 * Rates a finished call the way credit control's commit charges it: with the row quoted at
 * authorisation (never a newer deck version), drawing only the pool minutes the reservation holds, and
 * charging at most the granted seconds.
 */
export function rateReserved(record: CallRecord, r: ReservedQuote): RatedCall {
  const pools: PoolSource | null =
    r.pool && r.heldPoolMinutes > 0
      ? { poolFor: () => ({ key: r.pool as PoolKey, minutesAvailable: r.heldPoolMinutes }) }
      : null;
  return rateWithRow(
    record,
    r.rate,
    { id: r.deckId, version: r.deckVersion, effectiveFrom: r.deckEffectiveFrom },
    pools,
    r.grantedSeconds,
  );
}
