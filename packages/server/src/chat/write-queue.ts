/**
 * What chat needs of storage to write: its one writer queue (storage/write-queue.ts). A send is
 * acknowledged only when `write` resolves, which is after the COMMIT that holds it; on SQLite, sends
 * arriving together share one transaction (group commit), each in its own savepoint.
 */
import type { Storage } from '../storage/db.ts';

export type WriteQueue = Pick<Storage, 'write'>;
