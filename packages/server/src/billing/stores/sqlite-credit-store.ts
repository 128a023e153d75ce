/**
 * The SQLite credit store: raw better-sqlite3 statements, prepared once. Each write operation is one
 * synchronous function queued on the storage's writer queue (storage/write-queue.ts), which commits the
 * operations queued together in one `BEGIN IMMEDIATE` transaction, each in its own savepoint (the write
 * lock is taken at the start, so concurrent processes on the same file serialise instead of failing at
 * commit), and resolves each only after that COMMIT. In WAL mode with synchronous=NORMAL a committed
 * transaction survives a process kill (kill -9); a power loss may lose the last transactions.
 *
 * The connection is shared with kysely; the queue and kysely hold one connection lock, so an operation
 * never runs inside a kysely transaction, nor a kysely statement inside an operation's group. Reads go
 * through the queue's `read` for the same reason: never inside an open, not yet committed group.
 *
 * The hot path (authorise + commit) is kept to few statements: call contexts (tenant facts, the user's
 * plans) and pool sizes (licences x minutes) are cached in memory, and a reservation's fixed part (its
 * quoted rate, pool, deck) is kept from `open` to `close`, so commit reads only its holds. The caches
 * are dropped whenever the database may have changed other than through this store's own operations:
 * every operation starts by comparing the connection's `total_changes()` with its value at the end of
 * the previous operation (a write through kysely on the shared handle shows there), and `open` also
 * compares `PRAGMA data_version` (a commit by another connection or process shows there). A cached
 * context carries the generation it was read in; `open` refuses to decide on one that is no longer
 * current (inside its transaction, so the check and the decision see the same database), and credit
 * control then reads the context afresh.
 */
import type SQLite from 'better-sqlite3';
import { BillingError } from '../errors.ts';
import { isUniqueViolation } from '../../storage/db.ts';
import type { SqliteWriteQueue } from '../../storage/write-queue.ts';
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
  StaleContext,
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
  type ReservationRow,
} from './rows.ts';

/** Most entries a cache holds before it starts over. */
const MAX_CACHED = 50_000;
const STALE: StaleContext = Object.freeze({ stale: true });

type ContextRow = {
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
};

export class SqliteCreditStore implements CreditStore {
  private readonly s;

  /** Cache generation: bumped (and the caches emptied) when the database may have changed under them. */
  private gen = 0;
  /** `total_changes()` at the end of this store's last operation. */
  private ownChanges = -1;
  /** `PRAGMA data_version` when `open` last looked. */
  private dataVersion = -1;
  private readonly contexts = new Map<string, CallContext>();
  /** Included minutes by tenant, country and class. */
  private readonly included = new Map<string, number>();
  /** Reservations opened here and not yet closed (only their fixed part is trusted). */
  private readonly opened = new Map<string, Reservation>();

  constructor(
    db: SQLite.Database,
    private readonly writer: SqliteWriteQueue,
  ) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      tenant: p(
        'select t.id, t.country, t.time_zone, a.premium_enabled, a.sell_deck_id from tenants t left join billing_accounts a on a.tenant_id = t.id where t.id = ?',
      ),
      context: p(
        `select t.id, t.country, t.time_zone, a.premium_enabled, a.sell_deck_id, u.enabled, p.id as plan_id, p.services, p.allowed_classes, p.sell_deck_id as plan_deck
           from tenants t join users u on u.id = ? and u.tenant_id = t.id
           left join billing_accounts a on a.tenant_id = t.id
           left join billing_assignments s on s.user_id = u.id and s.tenant_id = t.id
           left join billing_plans p on p.id = s.plan_id
          where t.id = ? order by s.assigned_at, p.id`,
      ),
      changes: p('select total_changes()').pluck(),
      stamp: p('select total_changes(), (select data_version from pragma_data_version)').raw(),
      account: p('select balance_micros, held_micros from billing_accounts where tenant_id = ?'),
      accountPool: p(
        'select a.balance_micros, a.held_micros, p.used_minutes, p.held_minutes from billing_accounts a left join billing_pools p on p.tenant_id = a.tenant_id and p.country = ? and p.class = ? and p.period = ? where a.tenant_id = ?',
      ).raw(),
      included: p(INCLUDED_SQL(() => '?')).pluck(),
      ensureAccount: p(
        'insert into billing_accounts (tenant_id, balance_micros, held_micros, premium_enabled, sell_deck_id, updated_at) values (?, 0, 0, 0, null, ?) on conflict do nothing',
      ),
      pool: p(
        `select (${INCLUDED_SQL((n) => ['@t', '@c', '@k'][n - 1])}) as included,
                (select used_minutes from billing_pools where tenant_id = @t and country = @c and class = @k and period = @p) as used,
                (select held_minutes from billing_pools where tenant_id = @t and country = @c and class = @k and period = @p) as held`,
      ),
      poolHold: p(
        'insert into billing_pools (tenant_id, country, class, period, used_minutes, held_minutes) values (?, ?, ?, ?, 0, ?) on conflict (tenant_id, country, class, period) do update set held_minutes = held_minutes + excluded.held_minutes',
      ),
      poolClose: p(
        'update billing_pools set used_minutes = used_minutes + ?, held_minutes = held_minutes - ? where tenant_id = ? and country = ? and class = ? and period = ?',
      ),
      accountHold: p(
        'update billing_accounts set held_micros = held_micros + ?, updated_at = ? where tenant_id = ?',
      ),
      accountClose: p(
        'update billing_accounts set balance_micros = balance_micros - ?, held_micros = held_micros - ?, updated_at = ? where tenant_id = ? returning balance_micros',
      ).pluck(),
      accountCredit: p(
        'update billing_accounts set balance_micros = balance_micros + ?, updated_at = ? where tenant_id = ? returning balance_micros',
      ),
      insertReservation: p(
        `insert into billing_reservations (${RESERVATION_COLUMNS}) values (${RESERVATION_COLUMNS.split(',')
          .map(() => '?')
          .join(', ')})`,
      ),
      reservation: p(`select ${RESERVATION_COLUMNS} from billing_reservations where id = ?`),
      holds: p(
        'select state, granted_seconds, held_pool_minutes, held_credit_micros, expires_at, call_id, closed_at from billing_reservations where id = ?',
      ).raw(),
      extendReservation: p(
        'update billing_reservations set granted_seconds = ?, held_pool_minutes = held_pool_minutes + ?, held_credit_micros = held_credit_micros + ?, expires_at = ? where id = ?',
      ),
      touch: p(
        "update billing_reservations set expires_at = max(expires_at, ?) where id = ? and state = 'held'",
      ),
      closeReservation: p(
        'update billing_reservations set state = ?, closed_at = ?, call_id = coalesce(?, call_id) where id = ?',
      ),
      due: p(
        "select id from billing_reservations where state = 'held' and expires_at <= ? order by expires_at limit ?",
      ),
      insertLedger: p(
        'insert into billing_ledger (id, tenant_id, kind, amount_micros, balance_after_micros, reference, note, at) values (?, ?, ?, ?, ?, ?, ?, ?) returning seq',
      ),
      insertCallLedger: p(
        'insert into billing_ledger (id, tenant_id, kind, amount_micros, balance_after_micros, reference, note, at) values (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      ledger: p('select * from billing_ledger where tenant_id = ? and seq < ? order by seq desc limit ?'),
      insertRated: p(
        'insert into billing_rated_calls (call_id, tenant_id, user_id, reservation_id, started_at, class, billable_seconds, pool_minutes, amount_micros, explanation, rated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      ledgerEntry: p('select * from billing_ledger where tenant_id = ? and id = ?'),
      idempotency: p('select fingerprint, result from billing_idempotency where tenant_id = ? and key = ?'),
      insertIdempotency: p(
        'insert into billing_idempotency (tenant_id, key, fingerprint, result, created_at) values (?, ?, ?, ?, ?)',
      ),
      purgeIdempotency: p('delete from billing_idempotency where created_at < ?'),
      approveRequest: p(
        "update billing_top_up_requests set state = 'approved', decided_by = ?, decided_at = ?, decision_note = ?, ledger_id = ? where id = ? and tenant_id = ? and state = 'pending'",
      ),
      insertAudit: p(
        `insert into audit_log (${AUDIT_COLUMNS}) values (${AUDIT_COLUMNS.split(',')
          .map(() => '?')
          .join(', ')})`,
      ),
      setPremium: p('update billing_accounts set premium_enabled = ?, updated_at = ? where tenant_id = ?'),
      setDeck: p('update billing_accounts set sell_deck_id = ?, updated_at = ? where tenant_id = ?'),
    };
  }

  /**
   * Runs `fn` as one write on the writer queue: inside its group's transaction, resolved once that is
   * committed, so a resolved operation survives kill -9. `others`: also look for commits by other
   * connections (`open`: its caches must be current).
   */
  private tx<T>(fn: () => T, others = false): Promise<T> {
    return this.writer.write(() => this.runOp(fn, others));
  }

  /** Runs `fn` on the connection outside any open transaction (reads). */
  private read<T>(fn: () => T): Promise<T> {
    return this.writer.read(fn);
  }

  /**
   * Runs one operation inside the open transaction: first drops the caches if the database changed
   * since this store's last operation, then notes the change count the operation leaves (an operation
   * that throws leaves none, so the next one drops the caches: harmless).
   */
  private runOp<T>(fn: () => T, others: boolean): T {
    if (others) {
      const [changes, version] = this.s.stamp.get() as [number, number];
      if (changes !== this.ownChanges || version !== this.dataVersion) {
        this.dataVersion = version;
        this.invalidate();
      }
    } else if ((this.s.changes.get() as number) !== this.ownChanges) this.invalidate();
    const v = fn();
    this.ownChanges = this.s.changes.get() as number;
    return v;
  }

  private invalidate(): void {
    this.gen++;
    this.contexts.clear();
    this.included.clear();
  }

  async callContext(tenantId: string, userId: string, fresh = false): Promise<CallContext | null> {
    const key = `${tenantId}\u0000${userId}`;
    if (!fresh) {
      const cached = this.contexts.get(key);
      if (cached && cached.stamp === this.gen) return cached;
    }
    // Read in this generation: a change made before the read and noticed only later drops it for nothing.
    const gen = this.gen;
    const ctx = await this.read(() => this.readContext(tenantId, userId));
    if (ctx) {
      if (this.contexts.size >= MAX_CACHED) this.contexts.clear();
      this.contexts.set(key, { ...ctx, stamp: gen });
    }
    return ctx;
  }

  private readContext(tenantId: string, userId: string): CallContext | null {
    const rows = this.s.context.all(userId, tenantId) as ContextRow[];
    const t = rows[0];
    if (!t || t.enabled !== 1) return null;
    return {
      tenant: {
        id: t.id,
        country: t.country,
        timeZone: t.time_zone,
        premiumEnabled: t.premium_enabled === 1,
        sellDeckId: t.sell_deck_id,
      },
      plans: rows
        .filter((r) => r.plan_id !== null)
        .map((r) =>
          toPlanGrant({
            id: r.plan_id as string,
            services: r.services,
            allowed_classes: r.allowed_classes,
            sell_deck_id: r.plan_deck,
          }),
        ),
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
    const r = this.s.pool.get({ t: tenantId, c: key.country, k: key.cls, p: key.period }) as {
      included: number;
      used: number | null;
      held: number | null;
    };
    return { includedMinutes: r.included, usedMinutes: r.used ?? 0, heldMinutes: r.held ?? 0 };
  }

  private getReservation(id: string): Reservation {
    const row = this.s.reservation.get(id) as ReservationRow | undefined;
    if (!row) throw new BillingError('not_found', `no reservation ${id}`);
    return toReservation(row);
  }

  /**
   * A reservation as it is now: its fixed part from `opened` when it was opened here, its state and
   * holds (which `extend` and other processes change) always from the database.
   */
  private currentReservation(id: string): Reservation {
    const fixed = this.opened.get(id);
    if (!fixed) return this.getReservation(id);
    const h = this.s.holds.get(id) as
      [string, number, number, number, number, string | null, number | null] | undefined;
    if (!h) throw new BillingError('not_found', `no reservation ${id}`);
    return {
      ...fixed,
      state: h[0] as Reservation['state'],
      grantedSeconds: h[1],
      heldPoolMinutes: h[2],
      heldCredits: h[3],
      expiresAt: h[4],
      callId: h[5],
      closedAt: h[6],
    };
  }

  /** Pool minutes the tenant's licences include (cached; `runOp` drops the cache on any change). */
  private includedMinutes(tenantId: string, key: PoolKey): number {
    const k = `${tenantId}\u0000${key.country}\u0000${key.cls}`;
    let n = this.included.get(k);
    if (n === undefined) {
      n = this.s.included.get(tenantId, key.country, key.cls) as number;
      if (this.included.size >= MAX_CACHED) this.included.clear();
      this.included.set(k, n);
    }
    return n;
  }

  /** The account (created if missing) and the pool, in one statement when the account exists. */
  private openSnapshot(tenantId: string, key: PoolKey | null): OpenSnapshot {
    if (key) {
      const a = this.s.accountPool.get(key.country, key.cls, key.period, tenantId) as
        [number, number, number | null, number | null] | undefined;
      if (a)
        return {
          account: { balance: a[0], held: a[1] },
          pool: {
            includedMinutes: this.includedMinutes(tenantId, key),
            usedMinutes: a[2] ?? 0,
            heldMinutes: a[3] ?? 0,
          },
        };
    }
    const account = this.lockAccount(tenantId, Date.now());
    return { account, pool: this.readPool(tenantId, key) };
  }

  open(
    tenantId: string,
    pool: PoolKey | null,
    decide: (s: OpenSnapshot) => OpenDecision,
    stamp?: number,
  ): Promise<OpenDecision | StaleContext> {
    return this.tx(() => {
      // runOp has just brought `gen` up to date with the database this transaction sees.
      if (stamp !== undefined && stamp !== this.gen) return STALE;
      const d = decide(this.openSnapshot(tenantId, pool));
      if ('reservation' in d) {
        const r = d.reservation;
        this.s.insertReservation.run(reservationParams(r));
        if (r.heldCredits) this.s.accountHold.run(r.heldCredits, r.createdAt, tenantId);
        if (r.heldPoolMinutes && r.pool)
          this.s.poolHold.run(tenantId, r.pool.country, r.pool.cls, r.pool.period, r.heldPoolMinutes);
        if (this.opened.size >= MAX_CACHED) this.opened.clear();
        this.opened.set(r.id, r);
      }
      return d;
    }, true);
  }

  peek(tenantId: string, pool: PoolKey | null): Promise<OpenSnapshot> {
    return this.read(() => {
      const a = this.s.account.get(tenantId) as { balance_micros: number; held_micros: number } | undefined;
      return {
        account: { balance: a?.balance_micros ?? 0, held: a?.held_micros ?? 0 },
        pool: this.readPool(tenantId, pool),
      };
    });
  }

  extend(
    reservationId: string,
    decide: (s: ReservationSnapshot) => ExtendDecision,
  ): Promise<{ reservation: Reservation; decision: ExtendDecision }> {
    return this.tx(() => {
      const reservation = this.currentReservation(reservationId);
      const account = this.lockAccount(reservation.tenantId, Date.now());
      const decision = decide({
        reservation,
        account,
        pool: this.readPool(reservation.tenantId, reservation.pool),
      });
      if ('grantedSeconds' in decision) {
        assertTransition(reservation.id, reservation.state, 'held');
        this.s.extendReservation.run(
          decision.grantedSeconds,
          decision.addPoolMinutes,
          decision.addCredits,
          decision.expiresAt,
          reservationId,
        );
        if (decision.addCredits)
          this.s.accountHold.run(decision.addCredits, Date.now(), reservation.tenantId);
        const k = reservation.pool;
        if (decision.addPoolMinutes && k)
          this.s.poolHold.run(reservation.tenantId, k.country, k.cls, k.period, decision.addPoolMinutes);
      }
      return { reservation, decision };
    });
  }

  close(
    reservationId: string,
    decide: (s: CloseSnapshot) => CloseDecision,
  ): Promise<{ reservation: Reservation; decision: CloseDecision }> {
    return this.tx(() => {
      // BEGIN IMMEDIATE already holds the database's write lock: no account read is needed to lock.
      const reservation = this.currentReservation(reservationId);
      const d = decide({ reservation });
      assertTransition(reservation.id, reservation.state, d.state);
      const t = reservation.tenantId;
      if (d.rated) {
        // First write, so a duplicate call id fails before anything else is written.
        const r = d.rated;
        try {
          this.s.insertRated.run(
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
          );
        } catch (err) {
          if (isUniqueViolation(err)) throw new BillingError('conflict', `call ${r.callId} is already rated`);
          throw err;
        }
      }
      // A call wholly in the pool neither holds nor charges credits: its account is left untouched.
      const balance =
        d.charge || reservation.heldCredits
          ? (this.s.accountClose.get(d.charge, reservation.heldCredits, d.at, t) as number)
          : 0;
      const k = reservation.pool;
      if (k && reservation.heldPoolMinutes)
        this.s.poolClose.run(d.drawMinutes, reservation.heldPoolMinutes, t, k.country, k.cls, k.period);
      this.s.closeReservation.run(d.state, d.at, d.callId, reservationId);
      if (d.charge > 0 && d.ledgerId)
        this.s.insertCallLedger.run(
          d.ledgerId,
          t,
          'call',
          -d.charge,
          balance,
          d.callId ?? reservationId,
          null,
          d.at,
        );
      this.opened.delete(reservationId);
      return { reservation, decision: d };
    });
  }

  saveUncharged(r: RatedCall, at: number): Promise<void> {
    return this.tx(() => {
      try {
        this.s.insertRated.run(
          r.callId,
          r.tenantId,
          r.userId,
          null,
          r.startedAt,
          r.cls,
          r.billableSeconds,
          0,
          0,
          JSON.stringify(r),
          at,
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new BillingError('conflict', `call ${r.callId} is already rated`);
        throw err;
      }
    });
  }

  dueReservations(now: number, limit: number): Promise<string[]> {
    return this.read(() => (this.s.due.all(now, limit) as Array<{ id: string }>).map((r) => r.id));
  }

  touch(id: string, expiresAt: number): Promise<boolean> {
    // BEGIN IMMEDIATE holds the database's write lock: the sweep cannot expire it between check and write.
    return this.tx(() => this.s.touch.run(expiresAt, id).changes > 0);
  }

  reservation(id: string): Promise<Reservation | null> {
    return this.read(() => {
      const row = this.s.reservation.get(id) as ReservationRow | undefined;
      return row ? toReservation(row) : null;
    });
  }

  credit(tenantId: string, e: CreditEntry, effects: CreditEffects): Promise<LedgerEntry> {
    return this.tx(() => {
      const a = this.lockAccount(tenantId, e.at);
      const claim = effects.idempotency;
      const stored = claim
        ? (this.s.idempotency.get(tenantId, claim.key) as { fingerprint: string; result: string } | undefined)
        : undefined;
      const replay = replayOf(stored, claim);
      if (replay !== null) {
        const row = this.s.ledgerEntry.get(tenantId, replay) as LedgerRow | undefined;
        if (!row) throw new Error(`bug: idempotency answer ${replay} has no ledger entry`);
        return toLedgerEntry(row);
      }
      assertCreditFits(a, e.amount);
      const out = this.s.accountCredit.get(e.amount, e.at, tenantId) as { balance_micros: number };
      const { seq } = this.s.insertLedger.get(
        e.id,
        tenantId,
        e.kind,
        e.amount,
        out.balance_micros,
        e.reference,
        e.note,
        e.at,
      ) as { seq: number };
      if (effects.approve) {
        const d = effects.approve;
        const r = this.s.approveRequest.run(d.decidedBy, e.at, d.note, e.id, d.requestId, tenantId);
        if (r.changes === 0)
          throw new BillingError('conflict', `top-up request ${d.requestId} is not pending`);
      }
      this.s.insertAudit.run(auditParams(effects.audit));
      if (claim) this.s.insertIdempotency.run(tenantId, claim.key, claim.fingerprint, e.id, e.at);
      return {
        seq,
        id: e.id,
        tenantId,
        kind: e.kind,
        amount: e.amount,
        balanceAfter: out.balance_micros,
        reference: e.reference,
        note: e.note,
        at: e.at,
      };
    });
  }

  purgeIdempotency(before: number): Promise<number> {
    return this.tx(() => this.s.purgeIdempotency.run(before).changes);
  }

  wallet(tenantId: string): Promise<WalletView> {
    return this.read(() => this.readWallet(tenantId));
  }

  private readWallet(tenantId: string): WalletView {
    const t = this.s.tenant.get(tenantId) as
      { premium_enabled: number | null; sell_deck_id: string | null } | undefined;
    if (!t) throw new BillingError('not_found', `no tenant ${tenantId}`);
    const a = (this.s.account.get(tenantId) as
      { balance_micros: number; held_micros: number } | undefined) ?? { balance_micros: 0, held_micros: 0 };
    return {
      tenantId,
      balance: a.balance_micros,
      held: a.held_micros,
      available: a.balance_micros - a.held_micros,
      premiumEnabled: t.premium_enabled === 1,
      sellDeckId: t.sell_deck_id,
    };
  }

  ledger(tenantId: string, opts: { limit: number; beforeSeq?: number }): Promise<LedgerEntry[]> {
    return this.read(() =>
      (this.s.ledger.all(tenantId, opts.beforeSeq ?? Number.MAX_SAFE_INTEGER, opts.limit) as LedgerRow[]).map(
        toLedgerEntry,
      ),
    );
  }

  setAccountOptions(
    tenantId: string,
    opts: { premiumEnabled?: boolean; sellDeckId?: string | null },
    at: number,
  ): Promise<void> {
    return this.tx(() => {
      this.lockAccount(tenantId, at);
      if (opts.premiumEnabled !== undefined) this.s.setPremium.run(opts.premiumEnabled ? 1 : 0, at, tenantId);
      if (opts.sellDeckId !== undefined) this.s.setDeck.run(opts.sellDeckId, at, tenantId);
      // Cached call contexts hold both.
      this.invalidate();
    });
  }

  poolState(tenantId: string, key: PoolKey): Promise<PoolState | null> {
    return this.read(() => {
      const p = this.readPool(tenantId, key);
      return p && (p.includedMinutes > 0 || p.usedMinutes > 0) ? p : null;
    });
  }
}
