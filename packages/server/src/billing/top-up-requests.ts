/**
 * Top-up requests: the only way a tenant asks for credit. A tenant admin requests an amount; the
 * operator approves it (the credit, the request's decision and the audit entry commit together, once,
 * whatever the retries) or declines it (nothing moves). Payment itself is outside Parley: the operator
 * approves once paid.
 *
 *   pending ──approve──> approved   (ledger entry kind top_up, reference "request:<id>")
 *      │
 *      └────decline──> declined
 *
 * Both end states are final: approving or declining a decided request is `conflict`.
 */
import type { Kysely } from 'kysely';
import { auditRow, type Actor } from '../audit/audit-log.ts';
import type { TenantScope } from '../directory/scope.ts';
import type { Storage } from '../storage/db.ts';
import type { Database } from '../storage/schema.ts';
import type { CreditStore, IdempotencyClaim, LedgerEntry } from './credit-store.ts';
import { BillingError } from './errors.ts';
import { billingId as newId } from './ids.ts';
import { formatMicros, MAX_REQUEST_AMOUNT, type Micros } from './money.ts';
import type { BillingTopUpRequestsTable } from './tables.ts';

export type TopUpRequestState = 'pending' | 'approved' | 'declined';

export interface TopUpRequest {
  id: string;
  tenantId: string;
  amount: Micros;
  note: string | null;
  state: TopUpRequestState;
  requestedBy: string | null;
  requestedAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  decisionNote: string | null;
  /** The approval's ledger entry. */
  ledgerId: string | null;
}

const toRequest = (r: BillingTopUpRequestsTable): TopUpRequest => ({
  id: r.id,
  tenantId: r.tenant_id,
  amount: Number(r.amount_micros),
  note: r.note,
  state: r.state as TopUpRequestState,
  requestedBy: r.requested_by,
  requestedAt: Number(r.requested_at),
  decidedBy: r.decided_by,
  decidedAt: r.decided_at === null ? null : Number(r.decided_at),
  decisionNote: r.decision_note,
  ledgerId: r.ledger_id,
});

export class TopUpRequests {
  private readonly db: Kysely<Database>;

  constructor(
    private readonly storage: Pick<Storage, 'db' | 'write'>,
    private readonly store: CreditStore,
    private readonly now: () => number = Date.now,
  ) {
    this.db = storage.db;
  }

  /** A tenant admin asks for `amount` of credit. Nothing moves until the operator approves. */
  async request(
    scope: TenantScope,
    amount: Micros,
    note: string | null,
    actor: Actor,
  ): Promise<TopUpRequest> {
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_REQUEST_AMOUNT)
      throw new BillingError(
        'invalid_amount',
        'a top-up must be a positive amount of at most 9999999.999999',
      );
    const at = this.now();
    const row: BillingTopUpRequestsTable = {
      id: newId('tur'),
      tenant_id: scope.tenantId,
      amount_micros: amount,
      note,
      state: 'pending',
      requested_by: actor.id,
      requested_at: at,
      decided_by: null,
      decided_at: null,
      decision_note: null,
      ledger_id: null,
    };
    await this.storage.write(async (tx) => {
      const tenant = await tx
        .selectFrom('tenants')
        .select('id')
        .where('id', '=', scope.tenantId)
        .executeTakeFirst();
      if (!tenant) throw new BillingError('not_found', `no tenant ${scope.tenantId}`);
      await tx.insertInto('billing_top_up_requests').values(row).execute();
      await tx
        .insertInto('audit_log')
        .values(
          auditRow(
            actor,
            {
              tenantId: scope.tenantId,
              action: 'billing.top_up_request',
              target: row.id,
              detail: { amount: formatMicros(amount) },
            },
            at,
          ),
        )
        .execute();
    });
    return toRequest(row);
  }

  /** One request of the tenant; `not_found` for another tenant's. */
  async get(scope: TenantScope, id: string): Promise<TopUpRequest> {
    const r = await this.find(id);
    if (!r || r.tenantId !== scope.tenantId) throw new BillingError('not_found', `no top-up request ${id}`);
    return r;
  }

  /** Newest first: one tenant's (`scope`), or every tenant's for the operator (`scope` null). */
  async list(
    scope: TenantScope | null,
    opts: { state?: TopUpRequestState; limit?: number } = {},
  ): Promise<TopUpRequest[]> {
    let q = this.db
      .selectFrom('billing_top_up_requests')
      .selectAll()
      .orderBy('requested_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(Math.max(opts.limit ?? 50, 1), 500));
    if (scope) q = q.where('tenant_id', '=', scope.tenantId);
    if (opts.state) q = q.where('state', '=', opts.state);
    return (await q.execute()).map(toRequest);
  }

  /**
   * The operator approves: the request's amount is credited, the request decided and the audit entry
   * written in one transaction. With an Idempotency-Key a retry answers the same ledger entry.
   */
  async approve(
    id: string,
    by: { actor: Actor; note?: string | null; idempotency?: IdempotencyClaim },
  ): Promise<{ request: TopUpRequest; entry: LedgerEntry }> {
    const r = await this.find(id);
    if (!r) throw new BillingError('not_found', `no top-up request ${id}`);
    const ledgerId = newId('led');
    const at = this.now();
    const entry = await this.store.credit(
      r.tenantId,
      { id: ledgerId, kind: 'top_up', amount: r.amount, reference: `request:${r.id}`, note: r.note, at },
      {
        audit: auditRow(
          by.actor,
          {
            tenantId: r.tenantId,
            action: 'billing.top_up_request.approve',
            target: r.id,
            detail: { amount: formatMicros(r.amount), ledgerId },
          },
          at,
        ),
        idempotency: by.idempotency,
        approve: { requestId: r.id, decidedBy: by.actor.id, note: by.note ?? null },
      },
    );
    return { request: (await this.find(id))!, entry };
  }

  /** The operator declines a pending request: nothing moves. */
  async decline(id: string, by: { actor: Actor; note?: string | null }): Promise<TopUpRequest> {
    const at = this.now();
    await this.storage.write(async (tx) => {
      const r = await tx
        .updateTable('billing_top_up_requests')
        .set({ state: 'declined', decided_by: by.actor.id, decided_at: at, decision_note: by.note ?? null })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .returning('tenant_id')
        .executeTakeFirst();
      if (!r) {
        const exists = await tx
          .selectFrom('billing_top_up_requests')
          .select('state')
          .where('id', '=', id)
          .executeTakeFirst();
        if (!exists) throw new BillingError('not_found', `no top-up request ${id}`);
        throw new BillingError('conflict', `top-up request ${id} is ${exists.state}`);
      }
      await tx
        .insertInto('audit_log')
        .values(
          auditRow(
            by.actor,
            { tenantId: r.tenant_id, action: 'billing.top_up_request.decline', target: id },
            at,
          ),
        )
        .execute();
    });
    return (await this.find(id))!;
  }

  private async find(id: string): Promise<TopUpRequest | null> {
    const r = await this.db
      .selectFrom('billing_top_up_requests')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? toRequest(r) : null;
  }
}
