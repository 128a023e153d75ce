/**
 * What credit control needs from storage, behind one interface with a SQLite implementation (raw
 * better-sqlite3 statements prepared once) and a PostgreSQL one (pg pool, row locks).
 *
 * The money logic is not here: each mutating method takes a pure `decide` function, runs it on a
 * snapshot read inside one transaction that holds the tenant's account lock, and applies what it
 * returns in that same transaction. Every write to a tenant's balance, holds or pools takes that lock
 * first, so two concurrent calls of one tenant (in one process or several) are serialised and the
 * balance can never go below zero. If `decide` throws, nothing is written.
 */
import type { AuditRow } from '../audit/audit-log.ts';
import type { DestinationClass } from './destination-class.ts';
import { BillingError, type RefusalCode } from './errors.ts';
import { MAX_BALANCE, type Micros } from './money.ts';
import type { PoolKey, RatedCall } from './rating.ts';
import type { Reservation, ReservationState } from './reservation.ts';

export interface AccountState {
  balance: Micros;
  held: Micros;
}

/** A pool's size (from the tenant's licences), use and holds for one month. */
export interface PoolState {
  includedMinutes: number;
  usedMinutes: number;
  heldMinutes: number;
}

/** A plan as credit control sees it. */
export interface PlanGrant {
  id: string;
  services: readonly string[];
  allowedClasses: readonly DestinationClass[];
  sellDeckId: string | null;
}

/** Facts about a caller read before the transaction (they are not money). */
export interface CallContext {
  tenant: {
    id: string;
    country: string;
    timeZone: string;
    premiumEnabled: boolean;
    sellDeckId: string | null;
  };
  /** The user's assigned plans, oldest assignment first. */
  plans: PlanGrant[];
  /**
   * Set when the context came from the store's cache instead of a fresh read: pass it to `open`, which
   * answers `{ stale: true }` (writing nothing) if anything changed in the database since, so that the
   * caller reads the context afresh and decides again. Absent on a fresh read.
   */
  stamp?: number;
}

export interface OpenSnapshot {
  account: AccountState;
  pool: PoolState | null;
}
export type OpenDecision = { refuse: RefusalCode; message: string } | { reservation: Reservation };
/** `open` with a cached context's stamp that is no longer current: nothing was decided or written. */
export interface StaleContext {
  stale: true;
}

export interface ReservationSnapshot {
  reservation: Reservation;
  account: AccountState;
  /** The reservation's pool now. */
  pool: PoolState | null;
}
/** What closing a reservation needs: the reservation as it is now (holds included). */
export interface CloseSnapshot {
  reservation: Reservation;
}
export type ExtendDecision =
  | { refuse: RefusalCode; message: string }
  | { grantedSeconds: number; addPoolMinutes: number; addCredits: Micros; expiresAt: number };

export interface CloseDecision {
  state: Exclude<ReservationState, 'held'>;
  at: number;
  /** Credits charged (<= held credits). */
  charge: Micros;
  /** Pool minutes drawn (<= held minutes). */
  drawMinutes: number;
  callId: string | null;
  rated: RatedCall | null;
  /** Ledger entry id for a charge > 0. */
  ledgerId: string | null;
}

export interface LedgerEntry {
  seq: number;
  id: string;
  tenantId: string;
  kind: 'top_up' | 'call' | 'adjustment';
  amount: Micros;
  balanceAfter: Micros;
  reference: string | null;
  note: string | null;
  at: number;
}

/** A top-up or adjustment as the store writes it to the ledger. */
export interface CreditEntry {
  id: string;
  kind: 'top_up' | 'adjustment';
  amount: Micros;
  reference: string | null;
  note: string | null;
  at: number;
}

/** An Idempotency-Key and the fingerprint of the request that carried it (see idempotency.ts). */
export interface IdempotencyClaim {
  key: string;
  fingerprint: string;
}

/** What a credit writes beside its ledger entry, in the same transaction. */
export interface CreditEffects {
  audit: AuditRow;
  idempotency?: IdempotencyClaim;
  /** Approves this pending top-up request of the tenant (`conflict` unless it is pending). */
  approve?: { requestId: string; decidedBy: string | null; note: string | null };
}

export interface WalletView {
  tenantId: string;
  balance: Micros;
  held: Micros;
  available: Micros;
  premiumEnabled: boolean;
  sellDeckId: string | null;
}

export interface CreditStore {
  /**
   * The tenant's facts and the user's plans; null when the user is not in the tenant. May answer from a
   * cache (the answer then carries a `stamp`) unless `fresh` is set.
   */
  callContext(tenantId: string, userId: string, fresh?: boolean): Promise<CallContext | null>;
  /**
   * Locks the account, reads the pool (if any), decides, and inserts the reservation with its holds.
   * With `stamp` (from a cached context) it first checks that nothing changed since the context was
   * read, and answers `{ stale: true }` without deciding if something did.
   */
  open(
    tenantId: string,
    pool: PoolKey | null,
    decide: (s: OpenSnapshot) => OpenDecision,
    stamp?: number,
  ): Promise<OpenDecision | StaleContext>;
  /**
   * The account and pool as they are now, read without a lock or a write (an account never written
   * reads as zero): what a preview decides on.
   */
  peek(tenantId: string, pool: PoolKey | null): Promise<OpenSnapshot>;
  /** Locks the reservation's account, decides the next slice and adds its holds. */
  extend(
    reservationId: string,
    decide: (s: ReservationSnapshot) => ExtendDecision,
  ): Promise<{ reservation: Reservation; decision: ExtendDecision }>;
  /** Locks, decides and closes a reservation: charges, draws, releases the rest, records the rated call. */
  close(
    reservationId: string,
    decide: (s: CloseSnapshot) => CloseDecision,
  ): Promise<{ reservation: Reservation; decision: CloseDecision }>;
  /** Stores a rated call that charges nothing and holds nothing (inbound, emergency, unanswered). */
  saveUncharged(rated: RatedCall, at: number): Promise<void>;
  /** Ids of held reservations whose expiry is at or before `now`. */
  dueReservations(now: number, limit: number): Promise<string[]>;
  reservation(id: string): Promise<Reservation | null>;
  /**
   * Moves a held reservation's expiry to `expiresAt` if that is later; false (nothing written) when the
   * reservation is missing or no longer held. Takes the account lock, like every change of a reservation.
   */
  touch(id: string, expiresAt: number): Promise<boolean>;

  /**
   * Adds `amount` (negative for a debit adjustment) to the balance, refusing to go below the holds or
   * past the largest balance, and writes `effects` in the same transaction: the audit entry always, the
   * request's Idempotency-Key answer and a top-up request's approval when given. With a key already
   * answered for the tenant it moves nothing and returns that first answer's ledger entry (or throws
   * `idempotency_key_reused` when the fingerprints differ); the check runs under the account lock, so
   * concurrent retries cannot both move money.
   */
  credit(tenantId: string, entry: CreditEntry, effects: CreditEffects): Promise<LedgerEntry>;
  /** Deletes Idempotency-Key answers stored before `before` (ms); returns how many. */
  purgeIdempotency(before: number): Promise<number>;
  wallet(tenantId: string): Promise<WalletView>;
  ledger(tenantId: string, opts: { limit: number; beforeSeq?: number }): Promise<LedgerEntry[]>;
  setAccountOptions(
    tenantId: string,
    opts: { premiumEnabled?: boolean; sellDeckId?: string | null },
    at: number,
  ): Promise<void>;
  /** A pool's state for display; null when the tenant has no inclusion for it. */
  poolState(tenantId: string, key: PoolKey): Promise<PoolState | null>;
}

/**
 * The rule both stores apply to a top-up or adjustment inside their transaction, on the locked account:
 * never below what running calls hold, never above the largest balance (so no view or sum ever leaves the
 * safe integers).
 */
export function assertCreditFits(a: AccountState, amount: Micros): void {
  if (a.balance + amount < a.held)
    throw new BillingError(
      'insufficient_funds',
      'the adjustment would take the balance below what calls hold',
    );
  if (a.balance + amount > MAX_BALANCE)
    throw new BillingError(
      'balance_limit',
      `the balance would pass ${MAX_BALANCE / 1_000_000} (the largest a wallet holds)`,
    );
}

/** The stored answer under a claimed key: the first request's ledger entry id, or a refusal. */
export function replayOf(
  stored: { fingerprint: string; result: string } | undefined,
  claim: IdempotencyClaim | undefined,
): string | null {
  if (!stored || !claim) return null;
  if (stored.fingerprint !== claim.fingerprint)
    throw new BillingError(
      'idempotency_key_reused',
      'this Idempotency-Key was used for a different request: send a new key for a new request',
    );
  return stored.result;
}
