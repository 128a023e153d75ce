/**
 * A credit-control reservation: what one call holds of its tenant's pool and credit.
 *
 *              extend (next slice)
 *               +------+
 *               v      |
 *   open ---> held ----+----> committed   (commit: the real duration is charged, the rest released)
 *               |
 *               +-----------> released    (release: the call never connected or was abandoned)
 *               |
 *               +-----------> expired     (the timeout: no sign of the call for a grace, no commit)
 *
 * Only `held` reservations hold anything; the three end states are final.
 */
import type { PoolKey } from './rating.ts';
import type { RateRow } from './rate-deck.ts';
import type { Micros } from './money.ts';
import { BillingError } from './errors.ts';

export type ReservationState = 'held' | 'committed' | 'released' | 'expired';

const TRANSITIONS: Record<ReservationState, readonly ReservationState[]> = {
  held: ['held', 'committed', 'released', 'expired'],
  committed: [],
  released: [],
  expired: [],
};

/** Throws `reservation_closed` unless `from -> to` is a legal move. */
export function assertTransition(id: string, from: ReservationState, to: ReservationState): void {
  if (!TRANSITIONS[from].includes(to))
    throw new BillingError('reservation_closed', `reservation ${id} is ${from}; it cannot become ${to}`);
}

export interface Reservation {
  id: string;
  tenantId: string;
  userId: string;
  callId: string | null;
  destination: string;
  state: ReservationState;
  /** The pool it draws, or null when no plan includes the class. */
  pool: PoolKey | null;
  deckId: string;
  deckVersion: number;
  deckEffectiveFrom: number;
  /** The row quoted at authorisation; commit charges with it. */
  rate: RateRow;
  /** Seconds of call the holds pay for, counted from answer; the call must end by then. */
  grantedSeconds: number;
  heldPoolMinutes: number;
  heldCredits: Micros;
  createdAt: number;
  /**
   * After this instant a still-held reservation is released by the sweeper: a grace after the call's
   * last sign of life (authorise, keepalive, extend).
   */
  expiresAt: number;
  closedAt: number | null;
}
