/**
 * kysely's SQLite dialect with the connection shared with the writer queue (write-queue.ts).
 *
 * A SQLite storage has one better-sqlite3 connection, used three ways: kysely queries, the writer
 * queue's transactions, and raw prepared statements (the credit store's hot path). A transaction is a
 * state of the connection, not of a statement: anything run on the connection while one is open runs
 * inside it, sees its uncommitted rows and is rolled back with it. So all three take one
 * `ConnectionLock` for as long as they use the connection: kysely per query (and for a whole
 * `db.transaction()`), the writer queue for a whole BEGIN ... COMMIT group, a raw read for its
 * statement. Nothing then runs inside someone else's transaction, by construction rather than by
 * polling `inTransaction`.
 */
import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely';

/** Most statements `preparedOnce` keeps (the least recently used goes first). */
const STATEMENT_CACHE = 1000;

/**
 * The connection as kysely sees it, each statement prepared once. kysely's SQLite driver prepares every
 * query anew, and for short statements preparing costs more than running (an insert into `messages`
 * compiles its FTS5 triggers every time: 14% of a chat send's CPU in bench/chat). A statement still
 * iterating (a streamed select) is busy: the same SQL meanwhile gets a fresh one. SQLite recompiles a
 * cached statement itself after a schema change (sqlite3_prepare_v2).
 */
export function preparedOnce(db: SQLite.Database, max = STATEMENT_CACHE): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    prepare(sql: string) {
      let st = cache.get(sql);
      if (st) {
        if (st.busy) return db.prepare(sql);
        // Most recently used last: Map keeps insertion order.
        cache.delete(sql);
      } else {
        st = db.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, st);
      return st;
    },
    close: () => db.close(),
  };
}

/** A FIFO mutex over the one SQLite connection; the lock is handed straight to the next waiter. */
export class ConnectionLock {
  private held = false;
  private readonly waiters: Array<() => void> = [];

  get busy(): boolean {
    return this.held;
  }

  /** Takes the lock now if it is free (the synchronous fast path). */
  tryAcquire(): boolean {
    if (this.held) return false;
    this.held = true;
    return true;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }

  /** Runs synchronous `fn` holding the lock (at once when it is free). */
  run<T>(fn: () => T): Promise<T> {
    if (this.tryAcquire()) {
      try {
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      } finally {
        this.release();
      }
    }
    return this.acquire().then(() => {
      try {
        return fn();
      } finally {
        this.release();
      }
    });
  }
}

/**
 * The dialect of `storage.db`: each query (or kysely transaction) holds the connection lock while it
 * runs, so it waits for an open writer group instead of joining it. Its transactions begin IMMEDIATE
 * (the write lock at BEGIN: another process's writer makes it wait on busy_timeout instead of failing
 * with SQLITE_BUSY at its first write); the server's own transactions go through the writer queue.
 */
export class LockedSqliteDialect extends SqliteDialect {
  constructor(
    private readonly config: SqliteDialectConfig,
    private readonly lock: ConnectionLock,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new LockedSqliteDriver(this.config, this.lock);
  }
}

class LockedSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly lock: ConnectionLock,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    await this.lock.acquire();
    try {
      return await super.acquireConnection();
    } catch (err) {
      this.lock.release();
      throw err;
    }
  }

  override async releaseConnection(): Promise<void> {
    await super.releaseConnection();
    this.lock.release();
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * The dialect of the handle a writer-queue function receives: it runs on the connection the queue
 * already holds inside its open transaction, so it takes no lock and cannot begin a transaction of its
 * own. Used outside its write (a handle kept after the function returned), it fails instead of writing
 * outside any transaction.
 */
export class GroupSqliteDialect extends SqliteDialect {
  constructor(
    private readonly database: SqliteDatabase,
    private readonly inGroup: () => boolean,
  ) {
    super({ database });
  }

  override createDriver(): Driver {
    return new GroupSqliteDriver({ database: this.database }, this.inGroup);
  }
}

class GroupSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly inGroup: () => boolean,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.inGroup())
      throw new Error('a storage.write transaction handle was used after its write had finished');
    return super.acquireConnection();
  }

  override async beginTransaction(): Promise<void> {
    throw new Error(
      'already inside a storage.write transaction: run the statements on its handle, or queue another write',
    );
  }

  override async destroy(): Promise<void> {
    // The connection belongs to storage.db, which closes it.
  }
}
