/**
 * The prepaid wallet of a tenant: credit added by the operator (top-ups, approved top-up requests) and
 * the operator's adjustments, every movement in the ledger with its audit entry in the same
 * transaction. Calls debit it through credit control (commit), never directly. The balance never goes
 * below what running calls hold, so it never goes below zero, and never above MAX_BALANCE.
 */
import { systemActor, auditRow, type Actor } from '../audit/audit-log.ts';
import type { TenantScope } from '../directory/scope.ts';
import { billingId as newId } from './ids.ts';
import type { CreditStore, IdempotencyClaim, LedgerEntry, WalletView } from './credit-store.ts';
import { BillingError } from './errors.ts';
import { formatMicros, MAX_REQUEST_AMOUNT, type Micros } from './money.ts';

/** Who moves money, and the request's Idempotency-Key when it came over HTTP. */
export interface MoneyAuthority {
  /** Recorded in the audit entry written with the ledger entry (default: the system). */
  actor?: Actor;
  /** Answer a retry of this key with the first result, moving nothing (see CreditStore.credit). */
  idempotency?: IdempotencyClaim;
}

export class Wallet {
  constructor(
    private readonly store: CreditStore,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Adds credit (the operator's act: tenants ask through top-up requests). `reference` is the
   * payment's id in the payment system, if any.
   */
  async topUp(
    scope: TenantScope,
    amount: Micros,
    opts: { reference?: string; note?: string } & MoneyAuthority = {},
  ): Promise<LedgerEntry> {
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_REQUEST_AMOUNT)
      throw new BillingError(
        'invalid_amount',
        'a top-up must be a positive amount of at most 9999999.999999',
      );
    return this.credit(scope, 'top_up', amount, opts.reference ?? null, opts.note ?? null, opts);
  }

  /** An operator's correction, positive or negative; refused if it would dip into held credit. */
  async adjust(
    scope: TenantScope,
    amount: Micros,
    note: string,
    by: MoneyAuthority = {},
  ): Promise<LedgerEntry> {
    if (!Number.isSafeInteger(amount) || amount === 0 || Math.abs(amount) > MAX_REQUEST_AMOUNT)
      throw new BillingError(
        'invalid_amount',
        'an adjustment must be a non-zero amount of at most 9999999.999999 either way',
      );
    if (!note) throw new BillingError('validation_failed', 'an adjustment needs a note');
    return this.credit(scope, 'adjustment', amount, null, note, by);
  }

  /** One ledger entry with its audit entry (action `billing.<kind>`), in the store's transaction. */
  private credit(
    scope: TenantScope,
    kind: 'top_up' | 'adjustment',
    amount: Micros,
    reference: string | null,
    note: string | null,
    by: MoneyAuthority,
  ): Promise<LedgerEntry> {
    const id = newId('led');
    const at = this.now();
    const audit = auditRow(
      by.actor ?? systemActor('billing'),
      {
        tenantId: scope.tenantId,
        action: `billing.${kind}`,
        target: id,
        detail: { amount: formatMicros(amount) },
      },
      at,
    );
    return this.store.credit(
      scope.tenantId,
      { id, kind, amount, reference, note, at },
      { audit, idempotency: by.idempotency },
    );
  }

  /** The balance, holds and settings; `not_found` when there is no such tenant. */
  view(scope: TenantScope): Promise<WalletView> {
    return this.store.wallet(scope.tenantId);
  }

  /** The tenant's billing settings: premium-rate consent and its own sell deck (null: its plans'). */
  async setOptions(
    scope: TenantScope,
    opts: { premiumEnabled?: boolean; sellDeckId?: string | null },
  ): Promise<WalletView> {
    await this.store.setAccountOptions(scope.tenantId, opts, this.now());
    return this.store.wallet(scope.tenantId);
  }

  ledger(scope: TenantScope, opts: { limit?: number; beforeSeq?: number } = {}): Promise<LedgerEntry[]> {
    return this.store.ledger(scope.tenantId, {
      limit: Math.min(Math.max(opts.limit ?? 50, 1), 500),
      beforeSeq: opts.beforeSeq,
    });
  }
}
