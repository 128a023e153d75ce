/**
 * One query layer, two dialects: kysely over better-sqlite3 (WAL, the embedded default) and over pg.
 * Several processes may share one SQLite data folder (the CLI while the server runs): WAL lets readers
 * and one writer proceed together, and busy_timeout makes a writer wait instead of failing.
 * Write transactions go through `write` (the writer queue, write-queue.ts): on SQLite one writer per
 * connection with group commit, on PostgreSQL a transaction over the pool.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import { ConnectionLock, LockedSqliteDialect, preparedOnce } from './sqlite-dialect.ts';
import {
  DEFAULT_MAX_GROUP,
  PgWriteQueue,
  SqliteWriteQueue,
  type WriteFn,
  type WriteQueue,
} from './write-queue.ts';
import {
  startSqliteCheckpointer,
  type Checkpointer,
  type CheckpointerOptions,
} from './sqlite-checkpointer.ts';
import { StorageHealth, watchStorage, watchWrite } from './storage-full.ts';

export type Engine = 'sqlite' | 'postgres';

export interface Storage {
  db: Kysely<Database>;
  engine: Engine;
  /**
   * Runs `fn` in a write transaction after every write queued earlier on this storage; settles after
   * the COMMIT holding its writes (see write-queue.ts for grouping, savepoints and what `fn` may do).
   */
  write<T>(fn: WriteFn<T>): Promise<T>;
  /**
   * The raw better-sqlite3 handle on SQLite (for hot paths that need prepared statements). Write with it
   * only inside `write`; read with it through `writer.read`, so no statement runs inside an open group.
   */
  sqlite?: SQLite.Database;
  /** The writer queue on SQLite (its `read` runs raw reads outside any open transaction). */
  writer?: SqliteWriteQueue;
  /** The pg pool on PostgreSQL. */
  pool?: pg.Pool;
  ping(): Promise<boolean>;
  /** Whether writes are refused because the storage is full (see storage-full.ts). */
  health: StorageHealth;
  close(): Promise<void>;
}

/** What a repository needs of storage: kysely for reads, the writer queue for its writes. */
export type StorageHandle = Pick<Storage, 'db' | 'write'>;

// int8 (bigint) columns hold instants in ms and money in micro-units: both stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`bigint ${v} exceeds the safe integer range`);
  return n;
});

export interface OpenOptions {
  dataDir: string;
  databaseUrl?: string;
  poolSize?: number;
  /**
   * SQLite: run WAL checkpoints in a worker thread instead of in whichever request commits past 1,000
   * WAL pages (see sqlite-checkpointer.ts; durability is the same). The server sets it; `close` stops it.
   */
  backgroundCheckpoints?: boolean | CheckpointerOptions;
  /** SQLite: most writes one transaction commits together (default 256). */
  writeGroupMax?: number;
  /** Told of every write the storage refused as full (`first`: writes worked until this one). */
  onStorageFull?: (cause: string, err: unknown, first: boolean) => void;
}

export function openStorage(opts: OpenOptions): Storage {
  const url = opts.databaseUrl;
  const health = new StorageHealth(opts.onStorageFull);
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: watchStorage(new PostgresDialect({ pool }), health) });
    const queue: WriteQueue = new PgWriteQueue(db);
    return {
      db,
      engine: 'postgres',
      pool,
      write: (fn) => watchWrite(queue.write(fn), health),
      health,
      async ping() {
        try {
          await sql`select 1`.execute(db);
          return true;
        } catch {
          return false;
        }
      },
      close: async () => {
        await queue.drain(true);
        await db.destroy();
      },
    };
  }
  const file = url?.startsWith('sqlite:') ? url.slice('sqlite:'.length) : join(opts.dataDir, 'parley.db');
  if (!url) mkdirSync(opts.dataDir, { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  let checkpointer: Checkpointer | null = null;
  if (opts.backgroundCheckpoints) {
    try {
      checkpointer = startSqliteCheckpointer(
        sqlite,
        opts.backgroundCheckpoints === true ? {} : opts.backgroundCheckpoints,
      );
    } catch (err) {
      sqlite.close();
      throw err;
    }
  }
  const lock = new ConnectionLock();
  const statements = preparedOnce(sqlite);
  const db = new Kysely<Database>({
    dialect: watchStorage(
      new LockedSqliteDialect({ database: statements }, lock),
      health,
      () => sqlite.inTransaction,
    ),
  });
  const writer = new SqliteWriteQueue(sqlite, lock, opts.writeGroupMax ?? DEFAULT_MAX_GROUP, statements);
  return {
    db,
    engine: 'sqlite',
    sqlite,
    writer,
    write: (fn) => watchWrite(writer.write(fn), health),
    health,
    async ping() {
      try {
        sqlite.prepare('select 1').get();
        return true;
      } catch {
        return false;
      }
    },
    // Queued writes first; then the worker's connection, so the server's is the last and folds the WAL
    // back on closing.
    close: async () => {
      await writer.drain(true);
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/** True when `err` is a unique-constraint violation on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}
