/**
 * A full disk says so. When the filesystem, a quota or the database's own size limit refuses a write,
 * SQLite answers SQLITE_FULL (often having rolled the transaction back itself, so the ROLLBACK that
 * follows fails with "no transaction is active" and would hide the cause), the operating system ENOSPC,
 * PostgreSQL SQLSTATE 53100 `disk_full`. Every query goes through `watchStorage` and every queued write
 * through `watchWrite`, which turn those into
 * the coded `storage_full` (HTTP 507) with the original as its `cause`, logs the real cause, and keeps
 * `StorageHealth` degraded until a write succeeds again, so `/api/health` tells the operator.
 */
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { ParleyError } from '@parley/protocol';

const fullCodes = new Set(['SQLITE_FULL', 'ENOSPC', '53100']);

/** The driver's own words when `err` (or an error in its `cause` chain) means the storage is full. */
export function storageFullCause(err: unknown): string | null {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const x = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof x.code === 'string' && fullCodes.has(x.code)) return `${x.code}: ${String(x.message)}`;
    e = x.cause;
  }
  return null;
}

/** The coded error a caller sees for a write refused by a full storage. */
export function storageFullError(cause: unknown): ParleyError {
  return new ParleyError(
    'storage_full',
    "the server's storage is full: nothing was saved; retry once the operator has freed space",
    { cause },
  );
}

/**
 * `err` as the caller should see it: a storage-full failure (told to `health`) becomes `storage_full`,
 * once; anything else is returned as is.
 */
export function translateStorageError(err: unknown, health: StorageHealth): unknown {
  if (err instanceof ParleyError) return err;
  const cause = storageFullCause(err);
  if (!cause) return err;
  health.refused(cause, err);
  return storageFullError(err);
}

/**
 * Watches a write of the writer queue (write-queue.ts), whose BEGIN and COMMIT on SQLite bypass the
 * query layer: settled after its COMMIT, it tells `health` whether there was room.
 */
export function watchWrite<T>(write: Promise<T>, health: StorageHealth): Promise<T> {
  return write.then(
    (v) => {
      health.wrote();
      return v;
    },
    (err: unknown) => {
      throw translateStorageError(err, health);
    },
  );
}

/** Whether the storage refused a write as full, and not since accepted one. */
export class StorageHealth {
  private fullSince: { at: number; cause: string } | null = null;

  constructor(
    private readonly onFull: (cause: string, err: unknown, first: boolean) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** The storage refused a write as full. */
  refused(cause: string, err: unknown): void {
    const first = this.fullSince === null;
    this.fullSince ??= { at: this.now(), cause };
    this.onFull(cause, err, first);
  }

  /** A write went through: there is room again. */
  wrote(): void {
    this.fullSince = null;
  }

  /** Since when, and why, writes fail; null while they work. */
  get full(): { at: number; cause: string } | null {
    return this.fullSince;
  }
}

const isWrite = (sqlText: string) => /^\s*(insert|update|delete|replace|commit)\b/i.test(sqlText);

/**
 * Wraps a kysely dialect so every query on it reports to `health`, and storage-full failures become
 * `storage_full`. `inTransaction` (SQLite): whether a transaction is still open, so the ROLLBACK after
 * SQLite's own automatic rollback is skipped instead of replacing the real error.
 */
export function watchStorage(inner: Dialect, health: StorageHealth, inTransaction?: () => boolean): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createDriver: () => new WatchedDriver(inner.createDriver(), health, inTransaction),
  };
}

class WatchedConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly health: StorageHealth,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.inner.executeQuery<R>(query);
      if (isWrite(query.sql)) this.health.wrote();
      return result;
    } catch (err) {
      throw translateStorageError(err, this.health);
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(query, chunkSize);
    } catch (err) {
      throw translateStorageError(err, this.health);
    }
  }
}

class WatchedDriver implements Driver {
  private readonly wrapped = new WeakMap<DatabaseConnection, WatchedConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly health: StorageHealth,
    private readonly inTransaction?: () => boolean,
  ) {}

  init = () => this.inner.init();
  destroy = () => this.inner.destroy();

  async acquireConnection(): Promise<DatabaseConnection> {
    const c = await this.inner.acquireConnection();
    let w = this.wrapped.get(c);
    if (!w) this.wrapped.set(c, (w = new WatchedConnection(c, this.health)));
    return w;
  }

  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((c as WatchedConnection).inner);
  }

  beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(c, settings);
  }

  commitTransaction(c: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(c);
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    if (this.inTransaction && !this.inTransaction()) return; // SQLite already rolled it back
    return this.inner.rollbackTransaction(c);
  }

  savepoint: Driver['savepoint'] = (c, name, compile) => this.inner.savepoint!(c, name, compile);
  rollbackToSavepoint: Driver['rollbackToSavepoint'] = (c, name, compile) =>
    this.inner.rollbackToSavepoint!(c, name, compile);
  releaseSavepoint: Driver['releaseSavepoint'] = (c, name, compile) =>
    this.inner.releaseSavepoint!(c, name, compile);
}
