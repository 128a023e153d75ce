/**
 * One server per data folder. Two servers on one folder would each keep their own presence, sign-in
 * throttles and connection state and disagree; the CLI's admin commands may still share the folder
 * (they only run short transactions on the database, which SQLite serialises).
 *
 * The lock is an exclusive SQLite lock on a separate, empty database file (`server.lock`) that the
 * server holds open for its whole life: `locking_mode=EXCLUSIVE` plus `BEGIN EXCLUSIVE` take SQLite's
 * exclusive byte-range lock (POSIX `fcntl` on Unix, `LockFileEx` on Windows), which the operating
 * system drops when the process ends however it ends, so a `kill -9` leaves no stale lock. The main
 * database is untouched by it. A second server's attempt fails at once (busy timeout 0). The holder's
 * pid is written beside it for the message only; the lock itself never depends on that file.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';

/** Thrown when another live process already serves this data folder. */
export class DataDirLockedError extends Error {
  readonly code = 'EDATADIRLOCKED';
  constructor(
    readonly dataDir: string,
    readonly holderPid: number | null,
  ) {
    super(
      `another Parley server${holderPid ? ` (pid ${holderPid})` : ''} is already serving the data folder ${dataDir}; ` +
        'stop it first, or give this one its own folder with PARLEY_DATA_DIR',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** Releases the lock (closing the server does this; process death does it too). */
  release(): void;
}

const LOCK_FILE = 'server.lock';
const PID_FILE = 'server.pid';

/** Takes the data folder's server lock or throws DataDirLockedError. */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const db = new SQLite(join(dataDir, LOCK_FILE), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if (
      (err as { code?: string }).code === 'SQLITE_BUSY' ||
      (err as { code?: string }).code === 'SQLITE_LOCKED'
    )
      throw new DataDirLockedError(dataDir, readPid(dataDir));
    throw err;
  }
  const pidFile = join(dataDir, PID_FILE);
  writeFileSync(pidFile, `${process.pid}\n`);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      rmSync(pidFile, { force: true });
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

function readPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
