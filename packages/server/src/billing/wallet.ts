/**
 * The prepaid wallet of a tenant: top-ups and adjustments by API, every movement in the ledger. Calls
 * debit it through credit control (commit), never directly. The balance never goes below what running
 * calls hold, so it never goes below zero.
 */
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
    tenantId: string,
    amount: Micros,
    opts: { reference?: string; note?: string } = {},
  ): Promise<LedgerEntry> {
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_REQUEST_AMOUNT)
      throw new BillingError(
        'invalid_amount',
        'a top-up must be a positive amount of at most 9999999.999999',
      );
    return this.store.credit(tenantId, {
      id: newId('led'),
      kind: 'top_up',
      amount,
      reference: opts.reference ?? null,
      note: opts.note ?? null,
      at: this.now(),
    });
  }

  /** An operator's correction, positive or negative; refused if it would dip into held credit. */
  async adjust(tenantId: string, amount: Micros, note: string): Promise<LedgerEntry> {
    if (!Number.isSafeInteger(amount) || amount === 0 || Math.abs(amount) > MAX_REQUEST_AMOUNT)
      throw new BillingError(
        'invalid_amount',
        'an adjustment must be a non-zero amount of at most 9999999.999999 either way',
      );
    if (!note) throw new BillingError('validation_failed', 'an adjustment needs a note');
    return this.store.credit(tenantId, {
      id: newId('led'),
      kind: 'adjustment',
      amount,
      reference: null,
      note,
      at: this.now(),
    });
  }

  view(tenantId: string): Promise<WalletView> {
    return this.store.wallet(tenantId);
  }

  ledger(tenantId: string, opts: { limit?: number; beforeSeq?: number } = {}): Promise<LedgerEntry[]> {
    return this.store.ledger(tenantId, {
      limit: Math.min(Math.max(opts.limit ?? 50, 1), 500),
      beforeSeq: opts.beforeSeq,
    });
  }
}
