/**
 * Child of write-flood.test.ts: floods the writer queue until killed, from 32 loops at once: kysely
 * writes through storage.write (two statements each) and credit top-ups through the credit store
 * (raw statements on SQLite), printing each write's key once its promise has resolved.
 * Usage: write-flood-child.ts DATABASE_URL TENANT_ID
 */
import { tmpdir } from 'node:os';
import { createBilling } from '../../src/billing/billing.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { openStorage } from '../../src/storage/db.ts';

const [url, tenantId] = process.argv.slice(2) as [string, string];
const storage = openStorage({ dataDir: tmpdir(), databaseUrl: url, backgroundCheckpoints: true });
const billing = createBilling(storage);
const scope = trustedScope(tenantId);
let next = 0;
const ack = (line: string) => process.stdout.write(`${line}\n`);

async function loop(n: number): Promise<never> {
  for (;;) {
    const i = next++;
    if (n % 2) {
      const key = `flood-${i}`;
      await storage.write(async (tx) => {
        await tx.insertInto('settings').values({ key, value: 'a' }).execute();
        await tx.updateTable('settings').set({ value: 'b' }).where('key', '=', key).execute();
      });
      ack(`k ${key}`);
    } else {
      const e = await billing.wallet.topUp(scope, 1_000, { reference: `flood-${i}` });
      ack(`t ${e.id}`);
    }
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: 32 }, (_, n) => loop(n)));
