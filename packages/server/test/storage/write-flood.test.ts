/**
 * Acknowledged means stored: a child process floods the writer queue (kysely writes through
 * storage.write and credit top-ups through the credit store, 32 at a time, so they are committed in
 * groups) and prints each write once its promise resolved; it is killed with SIGKILL mid-flood. Every
 * acknowledged write is in the database afterwards, each whole (both statements), and the wallet
 * balances against its ledger. On both engines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ENGINES, openTestStorage, seedTenant } from '../billing/storage-helper.ts';

const child = fileURLToPath(new URL('./write-flood-child.ts', import.meta.url));

for (const engine of ENGINES) {
  test(`${engine}: kill -9 in the middle of a write flood loses no acknowledged write`, async () => {
    const t = await openTestStorage(engine);
    try {
      await seedTenant(t.storage, { id: 'flood', country: 'GB', timeZone: 'Europe/London' }, []);
      const proc = spawn(process.execPath, ['--import', 'tsx', child, t.url, 'flood'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const keys: string[] = [];
      const ledger: string[] = [];
      for await (const line of createInterface({ input: proc.stdout! })) {
        if (line.startsWith('k ')) keys.push(line.slice(2));
        else if (line.startsWith('t ')) ledger.push(line.slice(2));
        if (keys.length >= 1500 && ledger.length >= 1500) break;
      }
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));

      const stored = new Map(
        (
          await t.storage.db
            .selectFrom('settings')
            .select(['key', 'value'])
            .where('key', 'like', 'flood-%')
            .execute()
        ).map((r) => [r.key, r.value]),
      );
      const missing = keys.filter((k) => stored.get(k) !== 'b');
      assert.deepEqual(
        missing.slice(0, 5),
        [],
        `${missing.length} of ${keys.length} acknowledged writes missing or half-done`,
      );
      const ids = new Set(
        (
          await t.storage.db
            .selectFrom('billing_ledger')
            .select('id')
            .where('tenant_id', '=', 'flood')
            .execute()
        ).map((r) => r.id),
      );
      const lost = ledger.filter((id) => !ids.has(id));
      assert.deepEqual(
        lost.slice(0, 5),
        [],
        `${lost.length} of ${ledger.length} acknowledged top-ups missing`,
      );
      const account = await t.storage.db
        .selectFrom('billing_accounts')
        .select('balance_micros')
        .where('tenant_id', '=', 'flood')
        .executeTakeFirstOrThrow();
      assert.equal(Number(account.balance_micros), ids.size * 1_000);
    } finally {
      await t.dispose();
    }
  });
}
