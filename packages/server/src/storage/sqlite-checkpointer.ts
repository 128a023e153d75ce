/**
 * Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits the
 * transaction crossing 1,000 WAL pages runs the checkpoint itself, synchronously, fsync included: on a
 * busy disk that stalls every request for tens of milliseconds (it was most of credit control's p99).
 * Here a worker thread with its own connection runs PASSIVE checkpoints every `intervalMs` (they never
 * block writers), and the main connection's automatic checkpoint is raised to a backstop of
 * `backstopPages` in case the worker falls behind or dies.
 *
 * Durability is unchanged: in WAL mode with synchronous=NORMAL a committed transaction is in the WAL
 * file when COMMIT returns and survives kill -9; checkpoints only move pages into the main file (and
 * fsync it before the WAL frames they copied may be reused).
 *
 * The worker never stops the process: it is unref'd, a failure of it (it cannot open the file, a
 * checkpoint error) is reported to `onError` and the main connection's automatic checkpoint goes back to
 * SQLite's default, as it does on `stop`. `stop` is idempotent and resolves even if the worker is gone.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type SQLite from 'better-sqlite3';

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
let stopped = false;
let timer = null;
const tick = () => {
  timer = null;
  if (stopped) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: String(err && err.message) }); }
  timer = setTimeout(tick, workerData.intervalMs);
};
parentPort.on('message', (m) => {
  if (m !== 'stop' || stopped) return;
  stopped = true;
  if (timer) clearTimeout(timer);
  db.close();
  parentPort.postMessage('stopped');
  parentPort.close();
});
tick();
`;

/** SQLite's default automatic checkpoint, pages. */
const DEFAULT_AUTOCHECKPOINT = 1000;

export interface Checkpointer {
  /** Stops the worker and closes its connection; restores the main connection's automatic checkpoint. */
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  /** Milliseconds between PASSIVE checkpoints (default 100). */
  intervalMs?: number;
  /** WAL pages at which the main connection checkpoints itself anyway (default 20,000, 80 MB). */
  backstopPages?: number;
  /** A checkpoint that failed, or the worker that died (checkpoints then happen inline again). */
  onError?: (err: Error) => void;
}

export function startSqliteCheckpointer(
  sqlite: SQLite.Database,
  opts: CheckpointerOptions = {},
): Checkpointer {
  if (sqlite.memory) return { stop: async () => {} };
  const onError = opts.onError ?? (() => {});
  const restore = () => {
    if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
  };
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      file: resolve(sqlite.name),
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      intervalMs: opts.intervalMs ?? 100,
    },
  });
  worker.unref();
  sqlite.pragma(`wal_autocheckpoint = ${opts.backstopPages ?? 20_000}`);
  let exited = false;
  const exit = new Promise<void>((done) =>
    worker.once('exit', () => {
      exited = true;
      done();
    }),
  );
  let stopping: Promise<void> | null = null;
  worker.on('message', (m: unknown) => {
    if (m === 'stopped') void worker.terminate();
    else if (m && typeof m === 'object' && 'error' in m)
      onError(new Error(`WAL checkpoint failed: ${String((m as { error: unknown }).error)}`));
  });
  // Without a listener a worker's uncaught error would be thrown in the main thread.
  worker.on('error', (err) => {
    restore();
    onError(err);
  });
  void exit.then(() => {
    if (!stopping) restore();
  });
  return {
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          worker.postMessage('stop');
          // A worker that cannot answer (stuck on a lock) is ended anyway.
          const force = setTimeout(() => void worker.terminate(), 5000);
          await exit;
          clearTimeout(force);
        }
        restore();
      })();
      return stopping;
    },
  };
}
