/**
 * The prepaid wallet of a tenant: top-ups and adjustments by API, every movement in the ledger. Calls
 * debit it through credit control (commit), never directly. The balance never goes below what running
 * calls hold, so it never goes below zero.
 */
import type { TenantScope } from '../directory/scope.ts';
import { billingId as newId } from './ids.ts';
import type { CreditStore, LedgerEntry, WalletView } from './credit-store.ts';
import { BillingError } from './errors.ts';
import { MAX_REQUEST_AMOUNT, type Micros } from './money.ts';

export class Wallet {
  constructor(
    private readonly store: CreditStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds credit. `reference` is the payment's id in the payment system, if any. */
  async topUp(
    scope: TenantScope,
    amount: Micros,
    opts: { reference?: string; note?: string } = {},
  ): Promise<LedgerEntry> {
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_REQUEST_AMOUNT)
      throw new BillingError(
        'invalid_amount',
        'a top-up must be a positive amount of at most 9999999.999999',
      );
    return this.store.credit(scope.tenantId, {
      id: newId('led'),
      kind: 'top_up',
      amount,
      reference: opts.reference ?? null,
      note: opts.note ?? null,
      at: this.now(),
    });
  }

  /** An operator's correction, positive or negative; refused if it would dip into held credit. */
  async adjust(scope: TenantScope, amount: Micros, note: string): Promise<LedgerEntry> {
    if (!Number.isSafeInteger(amount) || amount === 0 || Math.abs(amount) > MAX_REQUEST_AMOUNT)
      throw new BillingError(
        'invalid_amount',
        'an adjustment must be a non-zero amount of at most 9999999.999999 either way',
      );
    if (!note) throw new BillingError('validation_failed', 'an adjustment needs a note');
    return this.store.credit(scope.tenantId, {
      id: newId('led'),
      kind: 'adjustment',
      amount,
      reference: null,
      note,
      at: this.now(),
    });
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
