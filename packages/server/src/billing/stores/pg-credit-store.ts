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
  CloseSnapshot,
  CreditEffects,
  CreditEntry,
  CreditStore,
  ExtendDecision,
  LedgerEntry,
  OpenDecision,
  OpenSnapshot,
  PoolState,
  ReservationSnapshot,
  WalletView,
} from '../credit-store.ts';
import { assertCreditFits, replayOf } from '../credit-store.ts';
import type { PoolKey, RatedCall } from '../rating.ts';
import { assertTransition, type Reservation } from '../reservation.ts';
import {
  AUDIT_COLUMNS,
  auditParams,
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

/** A pool's size from the licences, and its use, in one round trip. */
const POOL = `select (${INCLUDED}) as included,
  (select used_minutes from billing_pools where tenant_id = $1 and country = $2 and class = $3 and period = $4) as used,
  (select held_minutes from billing_pools where tenant_id = $1 and country = $2 and class = $3 and period = $4) as held`;

/**
 * A new reservation with its holds, in one statement (data-modifying CTEs all run). Parameters are the
 * reservation's columns in RESERVATION_COLUMNS order: $2 tenant, $7-$9 pool key, $15 minutes, $16 credits,
 * $17 created_at.
 */
const OPEN = `with r as (${INSERT_RESERVATION}),
  a as (update billing_accounts set held_micros = held_micros + $16::bigint, updated_at = $17 where tenant_id = $2 and $16::bigint <> 0),
  p as (insert into billing_pools (tenant_id, country, class, period, used_minutes, held_minutes)
          select $2, $7, $8, $9, 0, $15::bigint where $15::bigint > 0 and $7::text is not null
          on conflict (tenant_id, country, class, period) do update set held_minutes = billing_pools.held_minutes + excluded.held_minutes)
  select 1`;

/** The next slice's holds: $1 id, $2 granted, $3 minutes, $4 credits, $5 expiry, $6 tenant, $7 now, $8-$10 pool key. */
const EXTEND = `with r as (update billing_reservations set granted_seconds = $2, held_pool_minutes = held_pool_minutes + $3::bigint,
                 held_credit_micros = held_credit_micros + $4::bigint, expires_at = $5 where id = $1),
  a as (update billing_accounts set held_micros = held_micros + $4::bigint, updated_at = $7 where tenant_id = $6 and $4::bigint <> 0),
  p as (insert into billing_pools (tenant_id, country, class, period, used_minutes, held_minutes)
          select $6, $8, $9, $10, 0, $3::bigint where $3::bigint > 0 and $8::text is not null
          on conflict (tenant_id, country, class, period) do update set held_minutes = billing_pools.held_minutes + excluded.held_minutes)
  select 1`;

/**
 * Closing a reservation in one statement: charge and release the account, draw and release the pool,
 * end the reservation, write the ledger entry (when $13 is set) and the rated call (when $14 is set).
 * $1 tenant, $2 charge, $3 held credits, $4 at, $5 drawn, $6 held minutes, $7-$9 pool key, $10 state,
 * $11 call id, $12 reservation id, $13 ledger id, $14-$21 rated call.
 */
const CLOSE = `with a as (update billing_accounts set balance_micros = balance_micros - $2::bigint, held_micros = held_micros - $3::bigint,
                 updated_at = $4 where tenant_id = $1 returning balance_micros),
  p as (update billing_pools set used_minutes = used_minutes + $5::bigint, held_minutes = held_minutes - $6::bigint
          where tenant_id = $1 and country = $7 and class = $8 and period = $9 and $6::bigint > 0),
  r as (update billing_reservations set state = $10, closed_at = $4, call_id = coalesce($11, call_id) where id = $12),
  l as (insert into billing_ledger (id, tenant_id, kind, amount_micros, balance_after_micros, reference, note, at)
          select $13, $1, 'call', -$2::bigint, a.balance_micros, coalesce($11, $12), null, $4 from a where $13::text is not null),
  c as (insert into billing_rated_calls (call_id, tenant_id, user_id, reservation_id, started_at, class, billable_seconds, pool_minutes, amount_micros, explanation, rated_at)
          select $14, $1, $15, $12, $16, $17, $18, $19, $20, $21, $4 where $14::text is not null)
  select balance_micros from a`;

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
    const r = await this.pool.query<{
      id: string;
      country: string;
      time_zone: string;
      premium_enabled: number | null;
      sell_deck_id: string | null;
      enabled: number;
      plan_id: string | null;
      services: string;
      allowed_classes: string;
      plan_deck: string | null;
    }>(
      `select t.id, t.country, t.time_zone, a.premium_enabled, a.sell_deck_id, u.enabled,
              p.id as plan_id, p.services, p.allowed_classes, p.sell_deck_id as plan_deck
         from tenants t join users u on u.id = $2 and u.tenant_id = t.id
         left join billing_accounts a on a.tenant_id = t.id
         left join billing_assignments s on s.user_id = u.id and s.tenant_id = t.id
         left join billing_plans p on p.id = s.plan_id
        where t.id = $1 order by s.assigned_at, p.id`,
      [tenantId, userId],
    );
    const t = r.rows[0];
    if (!t || t.enabled !== 1) return null;
    return {
      tenant: {
        id: t.id,
        country: t.country,
        timeZone: t.time_zone,
        premiumEnabled: t.premium_enabled === 1,
        sellDeckId: t.sell_deck_id,
      },
      plans: r.rows
        .filter((x) => x.plan_id !== null)
        .map((x) =>
          toPlanGrant({
            id: x.plan_id as string,
            services: x.services,
            allowed_classes: x.allowed_classes,
            sell_deck_id: x.plan_deck,
          }),
        ),
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
    const r = await c.query<{ included: string | number; used: number | null; held: number | null }>(POOL, [
      tenantId,
      key.country,
      key.cls,
      key.period,
    ]);
    return {
      includedMinutes: Number(r.rows[0].included),
      usedMinutes: r.rows[0].used ?? 0,
      heldMinutes: r.rows[0].held ?? 0,
    };
  }

  private async getReservation(c: pg.PoolClient | pg.Pool, id: string): Promise<Reservation> {
    const r = await c.query<ReservationRow>(
      `select ${RESERVATION_COLUMNS} from billing_reservations where id = $1`,
      [id],
    );
    if (!r.rows[0]) throw new BillingError('not_found', `no reservation ${id}`);
    return toReservation(r.rows[0]);
  }

  /**
   * Locks the reservation's tenant account first (the lock order everywhere), then reads the
   * reservation as it is now that nobody else can change it.
   */
  private async lockReservation(
    c: pg.PoolClient,
    id: string,
  ): Promise<{ reservation: Reservation; account: AccountState }> {
    const a = await c.query<{ balance_micros: number; held_micros: number }>(
      'select balance_micros, held_micros from billing_accounts where tenant_id = (select tenant_id from billing_reservations where id = $1) for update',
      [id],
    );
    const reservation = await this.getReservation(c, id);
    if (!a.rows[0]) throw new Error(`bug: reservation ${id} has no account`);
    return { reservation, account: { balance: a.rows[0].balance_micros, held: a.rows[0].held_micros } };
  }

  open(
    tenantId: string,
    pool: PoolKey | null,
    decide: (s: OpenSnapshot) => OpenDecision,
  ): Promise<OpenDecision> {
    return this.tx(async (c) => {
      const account = await this.lockAccount(c, tenantId, Date.now());
      const d = decide({ account, pool: await this.readPool(c, tenantId, pool) });
      if ('reservation' in d) await c.query(OPEN, reservationParams(d.reservation));
      return d;
    });
  }

  async peek(tenantId: string, pool: PoolKey | null): Promise<OpenSnapshot> {
    const c = await this.pool.connect();
    try {
      const a = await c.query<{ balance_micros: number; held_micros: number }>(
        'select balance_micros, held_micros from billing_accounts where tenant_id = $1',
        [tenantId],
      );
      return {
        account: { balance: a.rows[0]?.balance_micros ?? 0, held: a.rows[0]?.held_micros ?? 0 },
        pool: await this.readPool(c, tenantId, pool),
      };
    } finally {
      c.release();
    }
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
        const k = reservation.pool;
        await c.query(EXTEND, [
          reservationId,
          decision.grantedSeconds,
          decision.addPoolMinutes,
          decision.addCredits,
          decision.expiresAt,
          reservation.tenantId,
          Date.now(),
          k?.country ?? null,
          k?.cls ?? null,
          k?.period ?? null,
        ]);
      }
      return { reservation, decision };
    });
  }

  close(
    reservationId: string,
    decide: (s: CloseSnapshot) => CloseDecision,
  ): Promise<{ reservation: Reservation; decision: CloseDecision }> {
    return this.tx(async (c) => {
      const { reservation } = await this.lockReservation(c, reservationId);
      const d = decide({ reservation });
      assertTransition(reservation.id, reservation.state, d.state);
      const k = reservation.pool;
      const r = d.rated;
      await c.query(CLOSE, [
        reservation.tenantId,
        d.charge,
        reservation.heldCredits,
        d.at,
        d.drawMinutes,
        reservation.heldPoolMinutes,
        k?.country ?? null,
        k?.cls ?? null,
        k?.period ?? null,
        d.state,
        d.callId,
        reservationId,
        d.charge > 0 ? d.ledgerId : null,
        r ? r.callId : null,
        r?.userId ?? null,
        r?.startedAt ?? null,
        r?.cls ?? null,
        r?.billableSeconds ?? null,
        r?.pool?.minutes ?? 0,
        r?.amount ?? null,
        r ? JSON.stringify(r) : null,
      ]);
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

  touch(id: string, expiresAt: number): Promise<boolean> {
    return this.tx(async (c) => {
      // The account lock first, as the sweep takes it: an expiry decided meanwhile is seen here.
      await c.query(
        'select 1 from billing_accounts where tenant_id = (select tenant_id from billing_reservations where id = $1) for update',
        [id],
      );
      const r = await c.query(
        "update billing_reservations set expires_at = greatest(expires_at, $1) where id = $2 and state = 'held'",
        [expiresAt, id],
      );
      return (r.rowCount ?? 0) > 0;
    });
  }

  async reservation(id: string): Promise<Reservation | null> {
    const r = await this.pool.query<ReservationRow>(
      `select ${RESERVATION_COLUMNS} from billing_reservations where id = $1`,
      [id],
    );
    return r.rows[0] ? toReservation(r.rows[0]) : null;
  }

  credit(tenantId: string, e: CreditEntry, effects: CreditEffects): Promise<LedgerEntry> {
    return this.tx(async (c) => {
      // The account lock first: every credit of the tenant, retries of one key included, queues here.
      const a = await this.lockAccount(c, tenantId, e.at);
      const claim = effects.idempotency;
      const stored = claim
        ? (
            await c.query<{ fingerprint: string; result: string }>(
              'select fingerprint, result from billing_idempotency where tenant_id = $1 and key = $2',
              [tenantId, claim.key],
            )
          ).rows[0]
        : undefined;
      const replay = replayOf(stored, claim);
      if (replay !== null) {
        const r = await c.query<LedgerRow>('select * from billing_ledger where tenant_id = $1 and id = $2', [
          tenantId,
          replay,
        ]);
        if (!r.rows[0]) throw new Error(`bug: idempotency answer ${replay} has no ledger entry`);
        return toLedgerEntry(r.rows[0]);
      }
      assertCreditFits(a, e.amount);
      const out = await c.query<{ balance_micros: number }>(
        'update billing_accounts set balance_micros = balance_micros + $1, updated_at = $2 where tenant_id = $3 returning balance_micros',
        [e.amount, e.at, tenantId],
      );
      const ins = await c.query<{ seq: number }>(
        'insert into billing_ledger (id, tenant_id, kind, amount_micros, balance_after_micros, reference, note, at) values ($1, $2, $3, $4, $5, $6, $7, $8) returning seq',
        [e.id, tenantId, e.kind, e.amount, out.rows[0].balance_micros, e.reference, e.note, e.at],
      );
      if (effects.approve) {
        const d = effects.approve;
        const r = await c.query(
          "update billing_top_up_requests set state = 'approved', decided_by = $1, decided_at = $2, decision_note = $3, ledger_id = $4 where id = $5 and tenant_id = $6 and state = 'pending'",
          [d.decidedBy, e.at, d.note, e.id, d.requestId, tenantId],
        );
        if (r.rowCount === 0)
          throw new BillingError('conflict', `top-up request ${d.requestId} is not pending`);
      }
      await c.query(
        `insert into audit_log (${AUDIT_COLUMNS}) values (${AUDIT_COLUMNS.split(',')
          .map((_, i) => `$${i + 1}`)
          .join(', ')})`,
        auditParams(effects.audit),
      );
      if (claim)
        await c.query(
          'insert into billing_idempotency (tenant_id, key, fingerprint, result, created_at) values ($1, $2, $3, $4, $5)',
          [tenantId, claim.key, claim.fingerprint, e.id, e.at],
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

  async purgeIdempotency(before: number): Promise<number> {
    const r = await this.pool.query('delete from billing_idempotency where created_at < $1', [before]);
    return r.rowCount ?? 0;
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
