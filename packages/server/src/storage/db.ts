/**
 * One query layer, two dialects: kysely over better-sqlite3 (WAL, the embedded default) and over pg.
 * Several processes may share one SQLite data folder (the CLI while the server runs): WAL lets readers
 * and one writer proceed together, and busy_timeout makes a writer wait instead of failing.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Database } from './schema.ts';
import {
  startSqliteCheckpointer,
  type Checkpointer,
  type CheckpointerOptions,
} from './sqlite-checkpointer.ts';

export type Engine = 'sqlite' | 'postgres';

export interface Storage {
  db: Kysely<Database>;
  engine: Engine;
  /** The raw better-sqlite3 handle on SQLite (for hot paths that need prepared statements). */
  sqlite?: SQLite.Database;
  /** The pg pool on PostgreSQL. */
  pool?: pg.Pool;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

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
}

export function openStorage(opts: OpenOptions): Storage {
  const url = opts.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      engine: 'postgres',
      pool,
      async ping() {
        try {
          await sql`select 1`.execute(db);
          return true;
        } catch {
          return false;
        }
      },
      close: () => db.destroy(),
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
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    engine: 'sqlite',
    sqlite,
    async ping() {
      try {
        sqlite.prepare('select 1').get();
        return true;
      } catch {
        return false;
      }
    },
    // The worker's connection first, so the server's is the last and folds the WAL back on closing.
    close: async () => {
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
