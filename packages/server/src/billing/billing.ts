/**
 * The billing domain, assembled for the composition root: plans and licences, rate decks, the wallet
 * and credit control, over one storage. The credit store is chosen by engine: raw prepared statements on
 * SQLite, row locks through the pg pool on PostgreSQL.
 */
import type { Storage } from '../storage/db.ts';
import { CreditControl, type CreditControlOptions } from './credit-control.ts';
import type { CreditStore } from './credit-store.ts';
import { DeckStore } from './deck-store.ts';
import { PlanCatalog } from './plans.ts';
import { PgCreditStore } from './stores/pg-credit-store.ts';
import { SqliteCreditStore } from './stores/sqlite-credit-store.ts';
import { Wallet } from './wallet.ts';

export interface Billing {
  plans: PlanCatalog;
  decks: DeckStore;
  wallet: Wallet;
  credit: CreditControl;
  /**
   * The credit store under wallet and credit control, for tests and tools that inspect pools and
   * reservations; the HTTP routes go through the wallet and credit control only.
   */
  store: CreditStore;
}

export interface BillingOptions extends CreditControlOptions {
  /** How often the deck catalogue looks for versions imported by other processes (ms, default 1000). */
  deckRefreshMs?: number;
}

/** The credit store for a storage's engine. */
export function openCreditStore(storage: Storage): CreditStore {
  if (storage.engine === 'sqlite') {
    if (!storage.sqlite || !storage.writer) throw new Error('SQLite storage without its handle');
    return new SqliteCreditStore(storage.sqlite, storage.writer);
  }
  if (!storage.pool) throw new Error('PostgreSQL storage without its pool');
  return new PgCreditStore(storage.pool);
}

export function createBilling(storage: Storage, opts: BillingOptions = {}): Billing {
  const now = opts.now ?? Date.now;
  const store = openCreditStore(storage);
  const decks = new DeckStore(storage.db, { refreshMs: opts.deckRefreshMs, now });
  return {
    plans: new PlanCatalog(storage.db, storage.engine, now),
    decks,
    wallet: new Wallet(store, now),
    credit: new CreditControl(store, decks, opts),
    store,
  };
}
