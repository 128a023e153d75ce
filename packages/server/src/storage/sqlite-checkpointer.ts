/**
 * Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits the
 * transaction crossing 1,000 WAL pages runs the checkpoint itself, synchronously, fsync included: on a
 * busy disk that stalls every request for tens of milliseconds (it was most of credit control's p99).
 * Here a worker thread with its own connection runs PASSIVE checkpoints every `intervalMs` (they never
 * block writers), and the main connection's automatic checkpoint is raised to a backstop of
 * `backstopPages` in case the worker falls behind or dies.
 *
 * Durability is unchanged: in WAL mode with synchronous=NORMAL a committed transaction is in the WAL
 * file when COMMIT returns and survives kill -9; checkpoints only move pages into the main file.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type SQLite from 'better-sqlite3';

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const SQLite = require(workerData.module);
const db = new SQLite(workerData.file);
db.pragma('busy_timeout = 1000');
let stopped = false;
parentPort.on('message', (m) => { if (m === 'stop') stopped = true; });
const tick = () => {
  if (stopped) { db.close(); parentPort.postMessage('stopped'); return; }
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage(String(err && err.message)); }
  setTimeout(tick, workerData.intervalMs);
};
tick();
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startSqliteCheckpointer(
  sqlite: SQLite.Database,
  opts: { intervalMs?: number; backstopPages?: number } = {},
): Checkpointer {
  if (sqlite.memory) return { stop: async () => {} };
  sqlite.pragma(`wal_autocheckpoint = ${opts.backstopPages ?? 20_000}`);
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      file: sqlite.name,
      module: createRequire(import.meta.url).resolve('better-sqlite3'),
      intervalMs: opts.intervalMs ?? 100,
    },
  });
  worker.unref();
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.on('message', (m) => {
          if (m === 'stopped') void worker.terminate();
        });
        worker.postMessage('stop');
      }),
  };
}
