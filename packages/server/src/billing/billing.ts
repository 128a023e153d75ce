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
import { TopUpRequests } from './top-up-requests.ts';
import { Wallet } from './wallet.ts';

export interface Billing {
  plans: PlanCatalog;
  decks: DeckStore;
  wallet: Wallet;
  topUpRequests: TopUpRequests;
  credit: CreditControl;
  /**
   * The credit store under wallet and credit control, for tests and tools that inspect pools and
   * reservations; the HTTP routes go through the wallet and credit control only.
   */
  store: CreditStore;
  /**
   * Every `intervalMs`: releases expired reservations and forgets Idempotency-Key answers older than
   * the retention. Returns a function that stops it.
   */
  startSweeper(intervalMs: number, onError?: (err: unknown) => void): () => void;
}

export interface BillingOptions extends CreditControlOptions {
  /** How often the deck catalogue looks for versions imported by other processes (ms, default 1000). */
  deckRefreshMs?: number;
  /** Hours an Idempotency-Key answer is kept (default and least 24). */
  idempotencyRetentionHours?: number;
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
  const credit = new CreditControl(store, decks, opts);
  const retentionMs = Math.max(24, opts.idempotencyRetentionHours ?? 24) * 3_600_000;
  return {
    plans: new PlanCatalog(storage.db, storage.engine, now),
    decks,
    wallet: new Wallet(store, now),
    topUpRequests: new TopUpRequests(storage, store, now),
    credit,
    store,
    startSweeper(intervalMs, onError = () => {}) {
      const stopExpiry = credit.startSweeper(intervalMs, onError);
      const timer = setInterval(() => {
        store.purgeIdempotency(now() - retentionMs).catch(onError);
      }, intervalMs);
      timer.unref();
      return () => {
        stopExpiry();
        clearInterval(timer);
      };
    },
  };
}
