/** Row <-> domain mapping shared by the credit stores. */
import type { AuditRow } from '../../audit/audit-log.ts';
import type { BillingReservationsTable } from '../tables.ts';
import type { DestinationClass } from '../destination-class.ts';
import type { LedgerEntry, PlanGrant } from '../credit-store.ts';
import type { RateRow } from '../rate-deck.ts';
import type { Reservation, ReservationState } from '../reservation.ts';

/** A reservation row as both engines return it. */
export type ReservationRow = BillingReservationsTable;

export function toReservation(r: ReservationRow): Reservation {
  const { deckEffectiveFrom, ...rate } = JSON.parse(r.rate) as RateRow & { deckEffectiveFrom: number };
  return {
    id: r.id,
    tenantId: r.tenant_id,
    userId: r.user_id,
    callId: r.call_id,
    destination: r.destination,
    state: r.state as ReservationState,
    pool:
      r.pool_country !== null && r.pool_class !== null && r.pool_period !== null
        ? { country: r.pool_country, cls: r.pool_class as DestinationClass, period: r.pool_period }
        : null,
    deckId: r.deck_id,
    deckVersion: Number(r.deck_version),
    deckEffectiveFrom,
    rate,
    grantedSeconds: Number(r.granted_seconds),
    heldPoolMinutes: Number(r.held_pool_minutes),
    heldCredits: Number(r.held_credit_micros),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    closedAt: r.closed_at === null ? null : Number(r.closed_at),
  };
}

/**
 * The stored form of a quoted rate row. Rows are immutable objects of a deck version, quoted again and
 * again, so the text is kept with the row instead of being built for every reservation.
 */
const rateTexts = new WeakMap<RateRow, { from: number; text: string }>();
function rateText(rate: RateRow, deckEffectiveFrom: number): string {
  let t = rateTexts.get(rate);
  if (!t || t.from !== deckEffectiveFrom) {
    t = { from: deckEffectiveFrom, text: JSON.stringify({ ...rate, deckEffectiveFrom }) };
    rateTexts.set(rate, t);
  }
  return t.text;
}

/** Insert parameters in column order (see INSERT_RESERVATION_COLUMNS). */
export function reservationParams(r: Reservation): unknown[] {
  return [
    r.id,
    r.tenantId,
    r.userId,
    r.callId,
    r.destination,
    r.state,
    r.pool?.country ?? null,
    r.pool?.cls ?? null,
    r.pool?.period ?? null,
    r.deckId,
    r.deckVersion,
    r.rate.prefix,
    rateText(r.rate, r.deckEffectiveFrom),
    r.grantedSeconds,
    r.heldPoolMinutes,
    r.heldCredits,
    r.createdAt,
    r.expiresAt,
    r.closedAt,
  ];
}

export const RESERVATION_COLUMNS =
  'id, tenant_id, user_id, call_id, destination, state, pool_country, pool_class, pool_period, deck_id, deck_version, prefix, rate, granted_seconds, held_pool_minutes, held_credit_micros, created_at, expires_at, closed_at';

export interface PlanRow {
  id: string;
  services: string;
  allowed_classes: string;
  sell_deck_id: string | null;
}

/** Parsed JSON lists by their text: plans are few and read on every authorisation. */
const lists = new Map<string, readonly string[]>();
function list(text: string): readonly string[] {
  let v = lists.get(text);
  if (!v) {
    if (lists.size > 10_000) lists.clear();
    v = Object.freeze(JSON.parse(text) as string[]);
    lists.set(text, v);
  }
  return v;
}

export function toPlanGrant(p: PlanRow): PlanGrant {
  return {
    id: p.id,
    services: list(p.services),
    allowedClasses: list(p.allowed_classes) as readonly DestinationClass[],
    sellDeckId: p.sell_deck_id,
  };
}

export interface LedgerRow {
  seq: number;
  id: string;
  tenant_id: string;
  kind: string;
  amount_micros: number;
  balance_after_micros: number;
  reference: string | null;
  note: string | null;
  at: number;
}

export function toLedgerEntry(r: LedgerRow): LedgerEntry {
  return {
    seq: Number(r.seq),
    id: r.id,
    tenantId: r.tenant_id,
    kind: r.kind as LedgerEntry['kind'],
    amount: Number(r.amount_micros),
    balanceAfter: Number(r.balance_after_micros),
    reference: r.reference,
    note: r.note,
    at: Number(r.at),
  };
}

/** Included minutes of a pool: seats held times minutes per licence, over the tenant's plans. */
export const INCLUDED_SQL = (p: (n: number) => string) =>
  `select coalesce(sum(l.seats * m.minutes), 0) as included from billing_licences l join billing_plan_minutes m on m.plan_id = l.plan_id where l.tenant_id = ${p(1)} and m.country = ${p(2)} and m.class = ${p(3)}`;

/** The audit_log columns a credit store writes in its own transaction, and their values in order. */
export const AUDIT_COLUMNS =
  'id, tenant_id, actor_id, actor_address, action, target, detail, source_address, at';
export const auditParams = (a: AuditRow): unknown[] => [
  a.id,
  a.tenant_id,
  a.actor_id,
  a.actor_address,
  a.action,
  a.target,
  a.detail,
  a.source_address,
  a.at,
];
