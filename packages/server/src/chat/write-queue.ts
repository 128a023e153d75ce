/**
 * What chat needs of storage to write: one queue of write transactions (the storage's writer). A send
 * is acknowledged only when the promise resolves, which is after the COMMIT that holds it.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export interface WriteQueue {
  /** Runs `fn` in a write transaction after every earlier write; resolves after its COMMIT. */
  write<T>(fn: (tx: Kysely<Database>) => Promise<T>): Promise<T>;
}
