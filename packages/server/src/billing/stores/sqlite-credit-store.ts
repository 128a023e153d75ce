/**
 * The SQLite credit store: raw better-sqlite3 statements, prepared once, each operation one
 * `BEGIN IMMEDIATE` transaction (the write lock is taken at the start, so concurrent processes on the
 * same file serialise instead of failing at commit). In WAL mode with synchronous=NORMAL a committed
 * transaction survives a process kill (kill -9); a power loss may lose the last transactions.
 *
 * The handle is shared with kysely, whose transactions are asynchronous: while one of those is open on
 * the connection, our synchronous transactions wait (they would otherwise run inside it).
 */
import type SQLite from 'better-sqlite3';
import { BillingError } from '../errors.ts';
import { isUniqueViolation } from '../../storage/db.ts';
import type {
  AccountState,
  CallContext,
  CloseDecision,
  CreditStore,
  ExtendDecision,
  LedgerEntry,
  OpenDecision,
  OpenSnapshot,
  PoolState,
  ReservationSnapshot,
  WalletView,
} from '../credit-store.ts';
import type { PoolKey } from '../rating.ts';
import { assertTransition, type Reservation } from '../reservation.ts';
import {
  INCLUDED_SQL,
  RESERVATION_COLUMNS,
  reservationParams,
  toLedgerEntry,
  toPlanGrant,
  toReservation,
  type LedgerRow,
  type PlanRow,
  type ReservationRow,
} from './rows.ts';

const q = () => '?';

export class SqliteCreditStore implements CreditStore {
  private readonly s;

  constructor(private readonly db: SQLite.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      tenant: p(
        'select t.id, t.country, t.time_zone, a.premium_enabled, a.sell_deck_id from tenants t left join billing_accounts a on a.tenant_id = t.id where t.id = ?',
      ),
      user: p('select enabled from users where id = ? and tenant_id = ?'),
      plans: p(
        'select p.id, p.services, p.allowed_classes, p.sell_deck_id from billing_assignments a join billing_plans p on p.id = a.plan_id where a.user_id = ? and a.tenant_id = ? order by a.assigned_at, p.id',
      ),
      account: p('select balance_micros, held_micros from billing_accounts where tenant_id = ?'),
      ensureAccount: p(
        'insert into billing_accounts (tenant_id, balance_micros, held_micros, premium_enabled, sell_deck_id, updated_at) values (?, 0, 0, 0, null, ?) on conflict do nothing',
      ),
      included: p(INCLUDED_SQL(q)),
      pool: p('select used_minutes, held_minutes from billing_pools where tenant_id = ? and country = ? and class = ? and period = ?'),
      poolHold: p(
        'insert into billing_pools (tenant_id, country, class, period, used_minutes, held_minutes) values (?, ?, ?, ?, 0, ?) on conflict (tenant_id, country, class, period) do update set held_minutes = held_minutes + excluded.held_minutes',
      ),
      poolClose: p(
        'update billing_pools set used_minutes = used_minutes + ?, held_minutes = held_minutes - ? where tenant_id = ? and country = ? and class = ? and period = ?',
      ),
      accountHold: p('update billing_accounts set held_micros = held_micros + ?, updated_at = ? where tenant_id = ?'),
      accountClose: p(
        'update billing_accounts set balance_micros = balance_micros - ?, held_micros = held_micros - ?, updated_at = ? where tenant_id = ? returning balance_micros',
      ),
      accountCredit: p(
        'update billing_accounts set balance_micros = balance_micros + ?, updated_at = ? where tenant_id = ? returning balance_micros',
      ),
      insertReservation: p(`insert into billing_reservations (${RESERVATION_COLUMNS}) values (${RESERVATION_COLUMNS.split(',').map(() => '?').join(', ')})`),
      reservation: p(`select ${RESERVATION_COLUMNS} from billing_reservations where id = ?`),
      extendReservation: p(
        'update billing_reservations set granted_seconds = ?, held_pool_minutes = held_pool_minutes + ?, held_credit_micros = held_credit_micros + ?, expires_at = ? where id = ?',
      ),
      closeReservation: p('update billing_reservations set state = ?, closed_at = ?, call_id = coalesce(?, call_id) where id = ?'),
      due: p("select id from billing_reservations where state = 'held' and expires_at <= ? order by expires_at limit ?"),
      insertLedger: p(
        'insert into billing_ledger (id, tenant_id, kind, amount_micros, balance_after_micros, reference, note, at) values (?, ?, ?, ?, ?, ?, ?, ?) returning seq',
      ),
      ledger: p('select * from billing_ledger where tenant_id = ? and seq < ? order by seq desc limit ?'),
      insertRated: p(
        'insert into billing_rated_calls (call_id, tenant_id, user_id, reservation_id, started_at, class, billable_seconds, pool_minutes, amount_micros, explanation, rated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      setPremium: p('update billing_accounts set premium_enabled = ?, updated_at = ? where tenant_id = ?'),
      setDeck: p('update billing_accounts set sell_deck_id = ?, updated_at = ? where tenant_id = ?'),
    };
  }

  /** Runs `fn` in a BEGIN IMMEDIATE transaction, waiting while a kysely transaction holds the connection. */
  private async tx<T>(fn: () => T): Promise<T> {
    for (let spins = 0; this.db.inTransaction; spins++) {
      if (spins > 100_000) throw new Error('the SQLite connection stayed inside a transaction for too long');
      await new Promise((r) => setImmediate(r));
    }
    return this.db.transaction(fn).immediate();
  }

  async callContext(tenantId: string, userId: string): Promise<CallContext | null> {
    const t = this.s.tenant.get(tenantId) as
      | { id: string; country: string; time_zone: string; premium_enabled: number | null; sell_deck_id: string | null }
      | undefined;
    if (!t) return null;
    const u = this.s.user.get(userId, tenantId) as { enabled: number } | undefined;
    if (!u || u.enabled !== 1) return null;
    const plans = (this.s.plans.all(userId, tenantId) as PlanRow[]).map(toPlanGrant);
    return {
      tenant: { id: t.id, country: t.country, timeZone: t.time_zone, premiumEnabled: t.premium_enabled === 1, sellDeckId: t.sell_deck_id },
      plans,
    };
  }

  private lockAccount(tenantId: string, at: number): AccountState {
    let a = this.s.account.get(tenantId) as { balance_micros: number; held_micros: number } | undefined;
    if (!a) {
      this.s.ensureAccount.run(tenantId, at);
      a = { balance_micros: 0, held_micros: 0 };
    }
    return { balance: a.balance_micros, held: a.held_micros };
  }

  private readPool(tenantId: string, key: PoolKey | null): PoolState | null {
    if (!key) return null;
    const inc = this.s.included.get(tenantId, key.country, key.cls) as { included: number };
    const row = this.s.pool.get(tenantId, key.country, key.cls, key.period) as { used_minutes: number; held_minutes: number } | undefined;
    return { includedMinutes: inc.included, usedMinutes: row?.used_minutes ?? 0, heldMinutes: row?.held_minutes ?? 0 };
  }

  private getReservation(id: string): Reservation {
    const row = this.s.reservation.get(id) as ReservationRow | undefined;
    if (!row) throw new BillingError('not_found', `no reservation ${id}`);
    return toReservation(row);
  }

  open(tenantId: string, pool: PoolKey | null, decide: (s: OpenSnapshot) => OpenDecision): Promise<OpenDecision> {
    return this.tx(() => {
      const account = this.lockAccount(tenantId, Date.now());
      const d = decide({ account, pool: this.readPool(tenantId, pool) });
      if ('reservation' in d) {
        const r = d.reservation;
        this.s.insertReservation.run(...reservationParams(r));
        if (r.heldCredits) this.s.accountHold.run(r.heldCredits, r.createdAt, tenantId);
        if (r.heldPoolMinutes && r.pool) this.s.poolHold.run(tenantId, r.pool.country, r.pool.cls, r.pool.period, r.heldPoolMinutes);
      }
      return d;
    });
  }

  extend(
    reservationId: string,
    decide: (s: ReservationSnapshot) => ExtendDecision,
  ): Promise<{ reservation: Reservation; decision: ExtendDecision }> {
    return this.tx(() => {
      const reservation = this.getReservation(reservationId);
      const account = this.lockAccount(reservation.tenantId, Date.now());
      const decision = decide({ reservation, account, pool: this.readPool(reservation.tenantId, reservation.pool) });
      if ('grantedSeconds' in decision) {
        assertTransition(reservation.id, reservation.state, 'held');
        this.s.extendReservation.run(decision.grantedSeconds, decision.addPoolMinutes, decision.addCredits, decision.expiresAt, reservationId);
        if (decision.addCredits) this.s.accountHold.run(decision.addCredits, Date.now(), reservation.tenantId);
        const k = reservation.pool;
        if (decision.addPoolMinutes && k) this.s.poolHold.run(reservation.tenantId, k.country, k.cls, k.period, decision.addPoolMinutes);
      }
      return { reservation, decision };
    });
  }

  close(
    reservationId: string,
    decide: (s: ReservationSnapshot) => CloseDecision,
  ): Promise<{ reservation: Reservation; decision: CloseDecision }> {
    return this.tx(() => {
      const reservation = this.getReservation(reservationId);
      const account = this.lockAccount(reservation.tenantId, Date.now());
      const d = decide({ reservation, account, pool: this.readPool(reservation.tenantId, reservation.pool) });
      assertTransition(reservation.id, reservation.state, d.state);
      const t = reservation.tenantId;
      const out = this.s.accountClose.get(d.charge, reservation.heldCredits, d.at, t) as { balance_micros: number };
      const k = reservation.pool;
      if (k && reservation.heldPoolMinutes) this.s.poolClose.run(d.drawMinutes, reservation.heldPoolMinutes, t, k.country, k.cls, k.period);
      this.s.closeReservation.run(d.state, d.at, d.callId, reservationId);
      if (d.charge > 0 && d.ledgerId) this.s.insertLedger.get(d.ledgerId, t, 'call', -d.charge, out.balance_micros, d.callId ?? reservationId, null, d.at);
      if (d.rated) {
        const r = d.rated;
        try {
          this.s.insertRated.run(r.callId, t, r.userId, reservationId, r.startedAt, r.cls, r.billableSeconds, r.pool?.minutes ?? 0, r.amount, JSON.stringify(r), d.at);
        } catch (err) {
          if (isUniqueViolation(err)) throw new BillingError('conflict', `call ${r.callId} is already rated`);
          throw err;
        }
      }
      return { reservation, decision: d };
    });
  }

  async dueReservations(now: number, limit: number): Promise<string[]> {
    return (this.s.due.all(now, limit) as Array<{ id: string }>).map((r) => r.id);
  }

  async reservation(id: string): Promise<Reservation | null> {
    const row = this.s.reservation.get(id) as ReservationRow | undefined;
    return row ? toReservation(row) : null;
  }

  credit(
    tenantId: string,
    e: { id: string; kind: 'top_up' | 'adjustment'; amount: number; reference: string | null; note: string | null; at: number },
  ): Promise<LedgerEntry> {
    return this.tx(() => {
      const a = this.lockAccount(tenantId, e.at);
      if (a.balance + e.amount < a.held) throw new BillingError('insufficient_funds', 'the adjustment would take the balance below what calls hold');
      const out = this.s.accountCredit.get(e.amount, e.at, tenantId) as { balance_micros: number };
      const { seq } = this.s.insertLedger.get(e.id, tenantId, e.kind, e.amount, out.balance_micros, e.reference, e.note, e.at) as { seq: number };
      return { seq, id: e.id, tenantId, kind: e.kind, amount: e.amount, balanceAfter: out.balance_micros, reference: e.reference, note: e.note, at: e.at };
    });
  }

  async wallet(tenantId: string): Promise<WalletView> {
    const t = this.s.tenant.get(tenantId) as { premium_enabled: number | null; sell_deck_id: string | null } | undefined;
    if (!t) throw new BillingError('not_found', `no tenant ${tenantId}`);
    const a = (this.s.account.get(tenantId) as { balance_micros: number; held_micros: number } | undefined) ?? { balance_micros: 0, held_micros: 0 };
    return {
      tenantId,
      balance: a.balance_micros,
      held: a.held_micros,
      available: a.balance_micros - a.held_micros,
      premiumEnabled: t.premium_enabled === 1,
      sellDeckId: t.sell_deck_id,
    };
  }

  async ledger(tenantId: string, opts: { limit: number; beforeSeq?: number }): Promise<LedgerEntry[]> {
    return (this.s.ledger.all(tenantId, opts.beforeSeq ?? Number.MAX_SAFE_INTEGER, opts.limit) as LedgerRow[]).map(toLedgerEntry);
  }

  setAccountOptions(tenantId: string, opts: { premiumEnabled?: boolean; sellDeckId?: string | null }, at: number): Promise<void> {
    return this.tx(() => {
      this.lockAccount(tenantId, at);
      if (opts.premiumEnabled !== undefined) this.s.setPremium.run(opts.premiumEnabled ? 1 : 0, at, tenantId);
      if (opts.sellDeckId !== undefined) this.s.setDeck.run(opts.sellDeckId, at, tenantId);
    });
  }

  async poolState(tenantId: string, key: PoolKey): Promise<PoolState | null> {
    const p = this.readPool(tenantId, key);
    return p && (p.includedMinutes > 0 || p.usedMinutes > 0) ? p : null;
  }
}
