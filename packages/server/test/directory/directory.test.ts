/** The directory repository, the same suite on SQLite and on a real PostgreSQL server. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, type Storage, type Engine } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrator.ts';
import { Directory } from '../../src/directory/directory.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import { ParleyError } from '@parley/protocol';
import { createPgDatabase } from '../helpers/pg.ts';

for (const engine of ['sqlite', 'postgres'] as Engine[]) {
  describe(`directory repository (${engine})`, () => {
    let storage: Storage;
    let dir: Directory;
    let cleanup: () => Promise<void>;
    before(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'parley-dir-'));
      const pg = engine === 'postgres' ? await createPgDatabase() : undefined;
      storage = openStorage({ dataDir, databaseUrl: pg?.url });
      await migrate(storage);
      dir = new Directory(storage);
      cleanup = async () => {
        await storage.close();
        await pg?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      };
    });
    after(() => cleanup());

    test('migrations are idempotent', async () => {
      const again = await migrate(storage);
      assert.deepEqual(again.applied, []);
    });

    test('tenants: create with domains, find by domain (case-insensitive), duplicate domain refused', async () => {
      const t = await dir.createTenant({
        name: 'Fabrikam',
        domains: ['fabrikam.example', 'fab.example'],
        country: 'DE',
        timeZone: 'Europe/Berlin',
      });
      assert.deepEqual(t.domains, ['fab.example', 'fabrikam.example']);
      assert.equal((await dir.findTenantByDomain('FAB.example'))?.id, t.id);
      assert.equal(await dir.findTenantByDomain('nobody.example'), null);
      await assert.rejects(
        dir.createTenant({ name: 'Copy', domains: ['fab.example'], country: 'DE', timeZone: 'UTC' }),
        (e: unknown) => e instanceof ParleyError && e.code === 'duplicate_domain',
      );
      const updated = await dir.updateTenant(t.id, { timeZone: 'Europe/Paris' });
      assert.equal(updated?.timeZone, 'Europe/Paris');
    });

    test('search: name prefix, later word, address prefix; paged in name order; tenant-scoped', async () => {
      const t = await dir.createTenant({
        name: 'Search',
        domains: ['search.example'],
        country: 'GB',
        timeZone: 'UTC',
      });
      const other = await dir.createTenant({
        name: 'Other',
        domains: ['other-search.example'],
        country: 'GB',
        timeZone: 'UTC',
      });
      const scope = trustedScope(t.id);
      const names = ['Anna Smith', 'Andrew Jones', 'anne-marie Duval', 'Bob Smithers', 'Zed Andersson'];
      for (const [i, n] of names.entries())
        await dir.createUser(scope, {
          address: `u${i}@search.example`,
          displayName: n,
          passwordHash: null,
          role: 'user',
        });
      await dir.createUser(trustedScope(other.id), {
        address: 'ann@other-search.example',
        displayName: 'Ann Other',
        passwordHash: null,
        role: 'user',
      });
      const names_ = async (q?: string) =>
        (await dir.searchUsers(scope, q, 50)).items.map((u) => u.displayName);
      assert.deepEqual(await names_('an'), [
        'Andrew Jones',
        'Anna Smith',
        'anne-marie Duval',
        'Zed Andersson',
      ]);
      assert.deepEqual(await names_('SMITH'), ['Anna Smith', 'Bob Smithers']);
      assert.deepEqual(await names_('u3@'), ['Bob Smithers']);
      assert.equal((await names_()).length, 5);
      // Paging: two at a time covers everyone once, in order.
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await dir.searchUsers(scope, undefined, 2, cursor);
        seen.push(...page.items.map((u) => u.displayName));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(
        seen,
        [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
      );
      await assert.rejects(
        dir.searchUsers(scope, undefined, 2, 'garbage!'),
        (e: unknown) => e instanceof ParleyError && e.code === 'validation_failed',
      );
    });

    test("users: scoped reads and writes cannot reach another tenant's user", async () => {
      const a = await dir.createTenant({
        name: 'A',
        domains: ['wall-a.example'],
        country: 'GB',
        timeZone: 'UTC',
      });
      const b = await dir.createTenant({
        name: 'B',
        domains: ['wall-b.example'],
        country: 'GB',
        timeZone: 'UTC',
      });
      const ub = await dir.createUser(trustedScope(b.id), {
        address: 'x@wall-b.example',
        displayName: 'X',
        passwordHash: null,
        role: 'user',
      });
      assert.equal(await dir.getUser(trustedScope(a.id), ub.id), null);
      assert.equal(await dir.updateUser(trustedScope(a.id), ub.id, { displayName: 'Hacked' }), null);
      assert.equal((await dir.getUser(trustedScope(b.id), ub.id))?.displayName, 'X');
      await assert.rejects(
        dir.createUser(trustedScope(a.id), {
          address: 'y@wall-b.example',
          displayName: 'Y',
          passwordHash: null,
          role: 'user',
        }),
        (e: unknown) => e instanceof ParleyError && e.code === 'validation_failed',
      );
    });
  });
}
