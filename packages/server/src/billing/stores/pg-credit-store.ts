/**
 * The PostgreSQL credit store: one pooled connection per operation, one transaction each. The tenant's
 * `billing_accounts` row is locked with SELECT ... FOR UPDATE before anything of that tenant's balance,
 * holds or pools is read or written, so concurrent authorisations from any number of processes are
 * serialised per tenant (tenants do not block each other) and the balance never goes below zero. The
 * table's CHECK constraint (balance >= held >= 0) is the last line of defence.
 */
import type pg from 'pg';
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
import type { PoolKey, RatedCall } from '../rating.ts';
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

const dollar = (n: number) => `$${n}`;
const INCLUDED = INCLUDED_SQL(dollar);
const INSERT_RESERVATION = `insert into billing_reservations (${RESERVATION_COLUMNS}) values (${RESERVATION_COLUMNS.split(
  ',',
)
  .map((_, i) => `$${i + 1}`)
  .join(', ')})`;

export class PgCreditStore implements CreditStore {
  constructor(private readonly pool: pg.Pool) {}

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('begin');
      const out = await fn(c);
      await c.query('commit');
      return out;
    } catch (err) {
      await c.query('rollback').catch(() => {});
      // The only unique key an operation can hit is a rated call's id.
      if (isUniqueViolation(err)) throw new BillingError('conflict', 'the call is already rated');
      throw err;
    } finally {
      c.release();
    }
  }

  async callContext(tenantId: string, userId: string): Promise<CallContext | null> {
    const t = await this.pool.query<{
      id: string;
      country: string;
      time_zone: string;
      premium_enabled: number | null;
      sell_deck_id: string | null;
      enabled: number | null;
    }>(
      `select t.id, t.country, t.time_zone, a.premium_enabled, a.sell_deck_id, u.enabled
         from tenants t left join billing_accounts a on a.tenant_id = t.id left join users u on u.id = $2 and u.tenant_id = t.id
        where t.id = $1`,
      [tenantId, userId],
    );
    const row = t.rows[0];
    if (!row || row.enabled !== 1) return null;
    const plans = await this.pool.query<PlanRow>(
      'select p.id, p.services, p.allowed_classes, p.sell_deck_id from billing_assignments a join billing_plans p on p.id = a.plan_id where a.user_id = $1 and a.tenant_id = $2 order by a.assigned_at, p.id',
      [userId, tenantId],
    );
    return {
      tenant: {
        id: row.id,
        country: row.country,
        timeZone: row.time_zone,
        premiumEnabled: row.premium_enabled === 1,
        sellDeckId: row.sell_deck_id,
      },
      plans: plans.rows.map(toPlanGrant),
    };
  }

  private async lockAccount(c: pg.PoolClient, tenantId: string, at: number): Promise<AccountState> {
    const sel = 'select balance_micros, held_micros from billing_accounts where tenant_id = $1 for update';
    let r = await c.query<{ balance_micros: number; held_micros: number }>(sel, [tenantId]);
    if (!r.rows[0]) {
      await c.query(
        'insert into billing_accounts (tenant_id, balance_micros, held_micros, premium_enabled, sell_deck_id, updated_at) values ($1, 0, 0, 0, null, $2) on conflict do nothing',
        [tenantId, at],
      );
      r = await c.query(sel, [tenantId]);
    }
    return { balance: r.rows[0].balance_micros, held: r.rows[0].held_micros };
  }

  private async readPool(c: pg.PoolClient, tenantId: string, key: PoolKey | null): Promise<PoolState | null> {
    if (!key) return null;
    const inc = await c.query<{ included: string | number }>(INCLUDED, [tenantId, key.country, key.cls]);
    const row = await c.query<{ used_minutes: number; held_minutes: number }>(
      'select used_minutes, held_minutes from billing_pools where tenant_id = $1 and country = $2 and class = $3 and period = $4',
      [tenantId, key.country, key.cls, key.period],
    );
    return {
      includedMinutes: Number(inc.rows[0].included),
      usedMinutes: row.rows[0]?.used_minutes ?? 0,
      heldMinutes: row.rows[0]?.held_minutes ?? 0,
    };
  }

  private async poolHold(c: pg.PoolClient, tenantId: string, k: PoolKey, minutes: number): Promise<void> {
    await c.query(
      `insert into billing_pools (tenant_id, country, class, period, used_minutes, held_minutes) values ($1, $2, $3, $4, 0, $5)
       on conflict (tenant_id, country, class, period) do update set held_minutes = billing_pools.held_minutes + excluded.held_minutes`,
      [tenantId, k.country, k.cls, k.period, minutes],
    );
  }

  private async getReservation(c: pg.PoolClient | pg.Pool, id: string): Promise<Reservation> {
    const r = await c.query<ReservationRow>(
      `select ${RESERVATION_COLUMNS} from billing_reservations where id = $1`,
      [id],
    );
    if (!r.rows[0]) throw new BillingError('not_found', `no reservation ${id}`);
    return toReservation(r.rows[0]);
  }

  /** Locks the reservation's tenant account first, then reads the reservation (the lock order everywhere). */
  private async lockReservation(
    c: pg.PoolClient,
    id: string,
  ): Promise<{ reservation: Reservation; account: AccountState }> {
    const peek = await this.getReservation(c, id);
    const account = await this.lockAccount(c, peek.tenantId, Date.now());
    return { reservation: await this.getReservation(c, id), account };
  }

  open(
    tenantId: string,
    pool: PoolKey | null,
    decide: (s: OpenSnapshot) => OpenDecision,
  ): Promise<OpenDecision> {
    return this.tx(async (c) => {
      const account = await this.lockAccount(c, tenantId, Date.now());
      const d = decide({ account, pool: await this.readPool(c, tenantId, pool) });
      if ('reservation' in d) {
        const r = d.reservation;
        await c.query(INSERT_RESERVATION, reservationParams(r));
        if (r.heldCredits)
          await c.query(
            'update billing_accounts set held_micros = held_micros + $1, updated_at = $2 where tenant_id = $3',
            [r.heldCredits, r.createdAt, tenantId],
          );
        if (r.heldPoolMinutes && r.pool) await this.poolHold(c, tenantId, r.pool, r.heldPoolMinutes);
      }
      return d;
    });
  }

  extend(
    reservationId: string,
    decide: (s: ReservationSnapshot) => ExtendDecision,
  ): Promise<{ reservation: Reservation; decision: ExtendDecision }> {
    return this.tx(async (c) => {
      const { reservation, account } = await this.lockReservation(c, reservationId);
      const decision = decide({
        reservation,
        account,
        pool: await this.readPool(c, reservation.tenantId, reservation.pool),
      });
      if ('grantedSeconds' in decision) {
        assertTransition(reservation.id, reservation.state, 'held');
        await c.query(
          'update billing_reservations set granted_seconds = $1, held_pool_minutes = held_pool_minutes + $2, held_credit_micros = held_credit_micros + $3, expires_at = $4 where id = $5',
          [
            decision.grantedSeconds,
            decision.addPoolMinutes,
            decision.addCredits,
            decision.expiresAt,
            reservationId,
          ],
        );
        if (decision.addCredits)
          await c.query(
            'update billing_accounts set held_micros = held_micros + $1, updated_at = $2 where tenant_id = $3',
            [decision.addCredits, Date.now(), reservation.tenantId],
          );
        if (decision.addPoolMinutes && reservation.pool)
          await this.poolHold(c, reservation.tenantId, reservation.pool, decision.addPoolMinutes);
      }
      return { reservation, decision };
    });
  }

  close(
    reservationId: string,
    decide: (s: ReservationSnapshot) => CloseDecision,
  ): Promise<{ reservation: Reservation; decision: CloseDecision }> {
    return this.tx(async (c) => {
      const { reservation, account } = await this.lockReservation(c, reservationId);
      const d = decide({ reservation, account, pool: null });
      assertTransition(reservation.id, reservation.state, d.state);
      const t = reservation.tenantId;
      const out = await c.query<{ balance_micros: number }>(
        'update billing_accounts set balance_micros = balance_micros - $1, held_micros = held_micros - $2, updated_at = $3 where tenant_id = $4 returning balance_micros',
        [d.charge, reservation.heldCredits, d.at, t],
      );
      const k = reservation.pool;
      if (k && reservation.heldPoolMinutes)
        await c.query(
          'update billing_pools set used_minutes = used_minutes + $1, held_minutes = held_minutes - $2 where tenant_id = $3 and country = $4 and class = $5 and period = $6',
          [d.drawMinutes, reservation.heldPoolMinutes, t, k.country, k.cls, k.period],
        );
      await c.query(
        'update billing_reservations set state = $1, closed_at = $2, call_id = coalesce($3, call_id) where id = $4',
        [d.state, d.at, d.callId, reservationId],
      );
      if (d.charge > 0 && d.ledgerId)
        await c.query(
          'insert into billing_ledger (id, tenant_id, kind, amount_micros, balance_after_micros, reference, note, at) values ($1, $2, $3, $4, $5, $6, $7, $8)',
          [
            d.ledgerId,
            t,
            'call',
            -d.charge,
            out.rows[0].balance_micros,
            d.callId ?? reservationId,
            null,
            d.at,
          ],
        );
      if (d.rated) {
        const r = d.rated;
        await c.query(
          'insert into billing_rated_calls (call_id, tenant_id, user_id, reservation_id, started_at, class, billable_seconds, pool_minutes, amount_micros, explanation, rated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
          [
            r.callId,
            t,
            r.userId,
            reservationId,
            r.startedAt,
            r.cls,
            r.billableSeconds,
            r.pool?.minutes ?? 0,
            r.amount,
            JSON.stringify(r),
            d.at,
          ],
        );
      }
      return { reservation, decision: d };
    });
  }

  async saveUncharged(r: RatedCall, at: number): Promise<void> {
    try {
      await this.pool.query(
        'insert into billing_rated_calls (call_id, tenant_id, user_id, reservation_id, started_at, class, billable_seconds, pool_minutes, amount_micros, explanation, rated_at) values ($1, $2, $3, null, $4, $5, $6, 0, 0, $7, $8)',
        [r.callId, r.tenantId, r.userId, r.startedAt, r.cls, r.billableSeconds, JSON.stringify(r), at],
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw new BillingError('conflict', `call ${r.callId} is already rated`);
      throw err;
    }
  }

  async dueReservations(now: number, limit: number): Promise<string[]> {
    const r = await this.pool.query<{ id: string }>(
      "select id from billing_reservations where state = 'held' and expires_at <= $1 order by expires_at limit $2",
      [now, limit],
    );
    return r.rows.map((x) => x.id);
  }

  async reservation(id: string): Promise<Reservation | null> {
    const r = await this.pool.query<ReservationRow>(
      `select ${RESERVATION_COLUMNS} from billing_reservations where id = $1`,
      [id],
    );
    return r.rows[0] ? toReservation(r.rows[0]) : null;
  }

  credit(
    tenantId: string,
    e: {
      id: string;
      kind: 'top_up' | 'adjustment';
      amount: number;
      reference: string | null;
      note: string | null;
      at: number;
    },
  ): Promise<LedgerEntry> {
    return this.tx(async (c) => {
      const a = await this.lockAccount(c, tenantId, e.at);
      if (a.balance + e.amount < a.held)
        throw new BillingError(
          'insufficient_funds',
          'the adjustment would take the balance below what calls hold',
        );
      const out = await c.query<{ balance_micros: number }>(
        'update billing_accounts set balance_micros = balance_micros + $1, updated_at = $2 where tenant_id = $3 returning balance_micros',
        [e.amount, e.at, tenantId],
      );
      const ins = await c.query<{ seq: number }>(
        'insert into billing_ledger (id, tenant_id, kind, amount_micros, balance_after_micros, reference, note, at) values ($1, $2, $3, $4, $5, $6, $7, $8) returning seq',
        [e.id, tenantId, e.kind, e.amount, out.rows[0].balance_micros, e.reference, e.note, e.at],
      );
      return {
        seq: ins.rows[0].seq,
        id: e.id,
        tenantId,
        kind: e.kind,
        amount: e.amount,
        balanceAfter: out.rows[0].balance_micros,
        reference: e.reference,
        note: e.note,
        at: e.at,
      };
    });
  }

  async wallet(tenantId: string): Promise<WalletView> {
    const r = await this.pool.query<{
      balance_micros: number | null;
      held_micros: number | null;
      premium_enabled: number | null;
      sell_deck_id: string | null;
    }>(
      'select a.balance_micros, a.held_micros, a.premium_enabled, a.sell_deck_id from tenants t left join billing_accounts a on a.tenant_id = t.id where t.id = $1',
      [tenantId],
    );
    const a = r.rows[0];
    if (!a) throw new BillingError('not_found', `no tenant ${tenantId}`);
    const balance = a.balance_micros ?? 0;
    const held = a.held_micros ?? 0;
    return {
      tenantId,
      balance,
      held,
      available: balance - held,
      premiumEnabled: a.premium_enabled === 1,
      sellDeckId: a.sell_deck_id,
    };
  }

  async ledger(tenantId: string, opts: { limit: number; beforeSeq?: number }): Promise<LedgerEntry[]> {
    const r = await this.pool.query<LedgerRow>(
      'select * from billing_ledger where tenant_id = $1 and seq < $2 order by seq desc limit $3',
      [tenantId, opts.beforeSeq ?? Number.MAX_SAFE_INTEGER, opts.limit],
    );
    return r.rows.map(toLedgerEntry);
  }

  setAccountOptions(
    tenantId: string,
    opts: { premiumEnabled?: boolean; sellDeckId?: string | null },
    at: number,
  ): Promise<void> {
    return this.tx(async (c) => {
      await this.lockAccount(c, tenantId, at);
      if (opts.premiumEnabled !== undefined)
        await c.query(
          'update billing_accounts set premium_enabled = $1, updated_at = $2 where tenant_id = $3',
          [opts.premiumEnabled ? 1 : 0, at, tenantId],
        );
      if (opts.sellDeckId !== undefined)
        await c.query('update billing_accounts set sell_deck_id = $1, updated_at = $2 where tenant_id = $3', [
          opts.sellDeckId,
          at,
          tenantId,
        ]);
    });
  }

  async poolState(tenantId: string, key: PoolKey): Promise<PoolState | null> {
    const c = await this.pool.connect();
    try {
      const p = await this.readPool(c, tenantId, key);
      return p && (p.includedMinutes > 0 || p.usedMinutes > 0) ? p : null;
    } finally {
      c.release();
    }
  }
}
