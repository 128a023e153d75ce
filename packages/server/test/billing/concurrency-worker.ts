/**
 * A separate process for the PostgreSQL concurrency test: opens its own pg pool on the database given,
 * says "ready", waits for "go" on stdin, fires its authorisations at once, commits every success with a
 * call lasting past its grant, and prints one JSON line with what it was granted.
 * argv: databaseUrl tenantId userId destination count
 */
import { createInterface } from 'node:readline';
import { createBilling } from '../../src/billing/billing.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { openStorage } from '../../src/storage/db.ts';
import { call } from './fixtures.ts';

const [url, tenantId, userId, destination, countText] = process.argv.slice(2);
const storage = openStorage({ dataDir: '/tmp', databaseUrl: url, poolSize: 10 });
const billing = createBilling(storage, { sliceSeconds: 300 });
// Warm the pool and the deck catalogue so both processes start from the same line.
await Promise.all(Array.from({ length: 10 }, () => storage.pool?.query('select 1')));
await billing.credit.authorise({ scope: trustedScope(tenantId), userId, destination: '112' });
process.stdout.write('ready\n');
const rl = createInterface({ input: process.stdin });
for await (const line of rl) if (line.trim() === 'go') break;
rl.close();
const results = await Promise.all(
  Array.from({ length: Number(countText) }, () =>
    billing.credit.authorise({ scope: trustedScope(tenantId), userId, destination }),
  ),
);
const granted: number[] = [];
const refused: string[] = [];
for (const r of results) {
  if (r.ok && !r.emergency) {
    granted.push(r.grantedSeconds);
    await billing.credit.commit(
      r.reservationId,
      call(destination, r.grantedSeconds + 45, { tenantId, userId }),
    );
  } else if (!r.ok) refused.push(r.code);
}
process.stdout.write(`${JSON.stringify({ granted, refused })}\n`);
await storage.close();
