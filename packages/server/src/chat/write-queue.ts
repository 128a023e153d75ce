/**
 * What chat needs of storage to write: its one writer queue (storage/write-queue.ts). A send is
 * acknowledged only when `write` resolves, which is after the COMMIT that holds it; on SQLite, sends
 * arriving together share one transaction (group commit), each in its own savepoint.
 */
import type { Kysely } from 'kysely';
import type { Storage } from '../storage/db.ts';
import type { Database } from '../storage/schema.ts';

export type WriteQueue = Pick<Storage, 'write'>;

/**
 * More writes inside the transaction of a chat change, given what the change did: the per-user events
 * that describe it (membership, mentions, read positions), so the change and its events commit together
 * or not at all. It runs last in the transaction; a throw rolls the change back.
 */
export type AlsoInTx<R> = (tx: Kysely<Database>, result: R) => Promise<void>;
