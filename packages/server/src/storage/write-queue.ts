/**
 * The writer queue: every write transaction on a storage goes through `write(fn)`.
 *
 * `fn` runs inside a write transaction, after every write queued earlier on the same storage, and its
 * promise settles only after the COMMIT that holds its writes (acknowledged means stored: a resolved
 * write survives kill -9; WAL with synchronous=NORMAL may lose the last ones on power loss).
 *
 * On SQLite there is one writer per connection, so writes are serialised here rather than by the
 * database: the writes queued while a transaction runs are grouped into the next BEGIN IMMEDIATE ...
 * COMMIT (group commit: one COMMIT, and one WAL append, for up to `maxGroup` writes). Each function in a
 * group runs in its own SAVEPOINT, so one that throws rolls back only its own statements and rejects only
 * its own promise; a write alone in its group runs without one (its throw rolls the transaction back).
 * The group holds the connection lock (sqlite-dialect.ts) from BEGIN to COMMIT: kysely queries and raw
 * reads issued meanwhile wait for the COMMIT instead of running inside the transaction and seeing rows
 * that may yet be rolled back.
 *
 * `fn` receives the handle to run its kysely statements on, and may also run raw better-sqlite3
 * statements (`storage.sqlite`) synchronously. It must not use `storage.db` nor call `storage.write`
 * and wait for either: both wait for the group `fn` is part of, which never ends. A function that awaits
 * anything other than its own statements holds every writer behind it; do slow work (password hashing,
 * network) before queueing the write.
 *
 * On PostgreSQL several connections write at once and the database orders them: `write` is a
 * transaction over the pool, and two writes queued one after the other commit in that order only if
 * the caller waits for the first.
 */
import type SQLite from 'better-sqlite3';
import { Kysely, type SqliteDatabase } from 'kysely';
import type { Database } from './schema.ts';
import { GroupSqliteDialect, preparedOnce, type ConnectionLock } from './sqlite-dialect.ts';

/** A write: its statements on `tx` (or, on SQLite, raw and synchronous on the connection). */
export type WriteFn<T> = (tx: Kysely<Database>) => Promise<T> | T;

export interface WriteQueue {
  /** Runs `fn` in a write transaction after every write queued before it; settles after its COMMIT. */
  write<T>(fn: WriteFn<T>): Promise<T>;
  /** Resolves once every write queued so far has settled (then refuses new ones when `close`). */
  drain(close?: boolean): Promise<void>;
}

/** Default bound on the writes one SQLite transaction commits together. */
export const DEFAULT_MAX_GROUP = 256;

type Op = {
  fn: WriteFn<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
};
type Settled = { ok: true; v: unknown } | { ok: false; v: unknown };

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof (v as { then?: unknown } | null)?.then === 'function';

export class StorageClosedError extends Error {
  constructor() {
    super('storage is closed: the write was not queued');
  }
}

/** The single writer of one SQLite connection. */
export class SqliteWriteQueue implements WriteQueue {
  private readonly queue: Op[] = [];
  /** A flush is scheduled or running; the next is scheduled when it ends. */
  private busy = false;
  private inGroup = false;
  private closed = false;
  private idle: Array<() => void> = [];
  private readonly tx: Kysely<Database>;
  private readonly st;
  /** Transactions committed and the writes they held (their ratio is the group size; bench/chat). */
  readonly stats = { commits: 0, writes: 0 };

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly lock: ConnectionLock,
    private readonly maxGroup = DEFAULT_MAX_GROUP,
    /** The connection as kysely sees it (storage.db's, so both share prepared statements). */
    statements: SqliteDatabase = preparedOnce(sqlite),
  ) {
    this.tx = new Kysely<Database>({ dialect: new GroupSqliteDialect(statements, () => this.inGroup) });
    const p = (sql: string) => sqlite.prepare(sql);
    this.st = {
      begin: p('BEGIN IMMEDIATE'),
      commit: p('COMMIT'),
      rollback: p('ROLLBACK'),
      savepoint: p('SAVEPOINT parley_write'),
      release: p('RELEASE parley_write'),
      rollbackTo: p('ROLLBACK TO parley_write'),
    };
  }

  write<T>(fn: WriteFn<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StorageClosedError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn: fn as WriteFn<unknown>, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /**
   * Runs synchronous `fn` (raw better-sqlite3 reads) on the connection outside any transaction: at once
   * when the connection is free, else after the open group's COMMIT (or the kysely query's end).
   */
  read<T>(fn: () => T): Promise<T> {
    return this.lock.run(fn);
  }

  drain(close = false): Promise<void> {
    if (close) this.closed = true;
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * The next group starts on the next turn of the event loop, after the continuations of the group
   * just committed have run: the writes they queue join it.
   */
  private schedule(): void {
    if (this.busy) return;
    this.busy = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    if (!this.lock.tryAcquire()) await this.lock.acquire();
    const batch = this.queue.splice(0, this.maxGroup);
    try {
      await this.runGroup(batch);
    } finally {
      this.inGroup = false;
      this.lock.release();
      this.busy = false;
      if (this.queue.length) this.schedule();
      else {
        const idle = this.idle;
        this.idle = [];
        for (const resolve of idle) resolve();
      }
    }
  }

  /**
   * One BEGIN IMMEDIATE ... COMMIT over `batch`. Synchronous functions run without a single await, so a
   * group of them commits within one turn of the event loop.
   */
  private async runGroup(batch: Op[]): Promise<void> {
    try {
      this.st.begin.run();
    } catch (err) {
      for (const op of batch) op.reject(err);
      return;
    }
    this.inGroup = true;
    const single = batch.length === 1;
    const out: Settled[] = [];
    for (const op of batch) {
      if (!single) this.st.savepoint.run();
      let r: Settled;
      try {
        let v = op.fn(this.tx);
        if (isThenable(v)) v = await v;
        r = { ok: true, v };
      } catch (err) {
        r = { ok: false, v: err };
      }
      if (!this.sqlite.inTransaction) {
        // SQLite rolled the whole transaction back (some errors do, e.g. SQLITE_FULL), or `fn` ended it:
        // what the group did so far is gone. Fail those writes and go on in a new transaction.
        const lost = r.ok ? new Error('the write transaction ended inside a write') : r.v;
        for (let i = 0; i < out.length; i++) if (out[i].ok) out[i] = { ok: false, v: lost };
        out.push({ ok: false, v: lost });
        try {
          this.st.begin.run();
        } catch (err) {
          for (let i = out.length; i < batch.length; i++) out.push({ ok: false, v: err });
          this.settle(batch, out);
          return;
        }
        continue;
      }
      if (!single) {
        if (!r.ok) this.st.rollbackTo.run();
        this.st.release.run();
      } else if (!r.ok) {
        this.st.rollback.run();
        batch[0].reject(r.v);
        return;
      }
      out.push(r);
    }
    try {
      this.st.commit.run();
    } catch (err) {
      if (this.sqlite.inTransaction) this.st.rollback.run();
      batch.forEach((op, i) => op.reject(out[i].ok ? err : out[i].v));
      return;
    }
    this.inGroup = false;
    this.stats.commits++;
    this.stats.writes += batch.length;
    this.settle(batch, out);
  }

  /** Settles every write of a group, in queue order, once its COMMIT is done. */
  private settle(batch: Op[], out: Settled[]): void {
    batch.forEach((op, i) => (out[i].ok ? op.resolve(out[i].v) : op.reject(out[i].v)));
  }
}

/** PostgreSQL: each write its own transaction over the pool. */
export class PgWriteQueue implements WriteQueue {
  private pending = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly db: Kysely<Database>) {}

  write<T>(fn: WriteFn<T>): Promise<T> {
    if (this.closed) return Promise.reject(new StorageClosedError());
    const p = this.db.transaction().execute(async (tx) => fn(tx));
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  async drain(close = false): Promise<void> {
    if (close) this.closed = true;
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}
