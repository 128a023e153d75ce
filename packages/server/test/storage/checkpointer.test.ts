/**
 * The WAL checkpointer the server runs on SQLite: a server with it closes cleanly (the worker stops, the
 * last connection folds the WAL back) and what it wrote is there after a reopen; a process killed with
 * SIGKILL while the worker checkpoints loses no committed transaction; stopping is idempotent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openStorage } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrator.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { startSqliteCheckpointer } from '../../src/storage/sqlite-checkpointer.ts';
import { makeTenant, startServer } from '../helpers/server.ts';

const db = (dir: string) => join(dir, 'parley.db');

test('a server with the checkpointer closes cleanly and its writes survive a reopen', async () => {
  const s = await startServer('sqlite');
  const dir = s.dataDir;
  const t = await makeTenant(s, 'ckpt');
  // Enough committed transactions for the worker to have checkpointed while they ran.
  for (let i = 0; i < 300; i++) await s.app.billing.wallet.topUp(trustedScope(t.id), 1_000);
  await new Promise((r) => setTimeout(r, 250));
  const started = Date.now();
  await s.app.close();
  assert.ok(Date.now() - started < 5000, 'close took too long');
  // The worker's connection is closed: the server's was the last one and folded the WAL away.
  assert.equal(existsSync(`${db(dir)}-wal`), false);

  const again = openStorage({ dataDir: dir });
  try {
    const w = await again.db
      .selectFrom('billing_accounts')
      .select('balance_micros')
      .where('tenant_id', '=', t.id)
      .executeTakeFirstOrThrow();
    assert.equal(Number(w.balance_micros), 300_000);
    const entries = await again.db
      .selectFrom('billing_ledger')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', t.id)
      .executeTakeFirstOrThrow();
    assert.equal(Number(entries.n), 300);
  } finally {
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 while the worker checkpoints loses no committed transaction', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-ckpt-'));
  try {
    const setup = openStorage({ dataDir: dir });
    await migrate(setup);
    await setup.close();
    // The child commits one row per turn of its event loop and prints its key once committed.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./checkpointer-child.ts', import.meta.url)), dir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let acked = 0;
    for await (const line of createInterface({ input: child.stdout! })) {
      acked = Number(line);
      // Several checkpoint intervals (100 ms) and a WAL well past a few hundred pages.
      if (acked >= 3000) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.ok(acked >= 3000, `the child acknowledged ${acked} commits`);

    const after = openStorage({ dataDir: dir });
    try {
      const n = await after.db
        .selectFrom('settings')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('key', 'like', 'ckpt-%')
        .executeTakeFirstOrThrow();
      assert.ok(Number(n.n) >= acked, `${n.n} rows survived, ${acked} were acknowledged`);
      const last = await after.db
        .selectFrom('settings')
        .select('key')
        .where('key', '=', `ckpt-${acked}`)
        .executeTakeFirst();
      assert.ok(last, `acknowledged row ckpt-${acked} is missing`);
    } finally {
      await after.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stop is idempotent, restores the automatic checkpoint, and an in-memory database needs no worker', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-ckpt-'));
  const storage = openStorage({ dataDir: dir });
  try {
    const sqlite = storage.sqlite!;
    const c = startSqliteCheckpointer(sqlite, { intervalMs: 10, backstopPages: 5000 });
    assert.equal(sqlite.pragma('wal_autocheckpoint', { simple: true }), 5000);
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([c.stop(), c.stop()]);
    await c.stop();
    assert.equal(sqlite.pragma('wal_autocheckpoint', { simple: true }), 1000);
    const mem = openStorage({ dataDir: dir, databaseUrl: 'sqlite::memory:' });
    await startSqliteCheckpointer(mem.sqlite!).stop();
    await mem.close();
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
