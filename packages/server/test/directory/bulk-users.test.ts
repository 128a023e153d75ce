/**
 * The bulk user endpoint behind the admin screens' CSV import: rows answered one by one, a bad row never
 * refuses the others, each created row has its audit entry, a failed row writes nothing, and a retried
 * batch creates no duplicates.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, makeTenant, startServer, PASSWORD, type TestServer } from '../helpers/server.ts';
import { code } from '../helpers/http.ts';
import type { BulkCreateUsersResponse } from '@parley/protocol';

for (const engine of engines) {
  describe(`bulk user import (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(() => s.close());

    test('answers per row: good rows are created and audited, bad rows say why and write nothing', async () => {
      const t = await makeTenant(s, 'bulk');
      const rows = [
        { address: `ann@${t.domain}`, displayName: 'Ann Archer', password: PASSWORD, title: 'Pilot' },
        { address: 'not an address', displayName: 'Bad Row', password: PASSWORD },
        { address: `cy@${t.domain}`, displayName: 'Cy Cole', password: 'password1' },
        { address: `dee@elsewhere.example`, displayName: 'Dee', password: PASSWORD },
        { address: `eve@${t.domain}`, displayName: 'Eve Evans', password: PASSWORD, role: 'admin' },
        { address: `ann@${t.domain}`, displayName: 'Ann Again', password: PASSWORD },
        { address: `fay@${t.domain}`, displayName: 'Fay', password: PASSWORD, shoeSize: 9 },
      ];
      const r = await s.http.post('/api/users/bulk', { rows }, { token: t.admin.token });
      assert.equal(r.status, 200, r.text);
      const body = r.json as BulkCreateUsersResponse;
      assert.equal(body.created, 2);
      assert.equal(body.failed, 5);
      assert.deepEqual(
        body.results.map((x) => [x.index, x.status === 'created' ? 'created' : x.error.code]),
        [
          [0, 'created'],
          [1, 'validation_failed'],
          [2, 'weak_password'],
          [3, 'validation_failed'],
          [4, 'created'],
          [5, 'duplicate_address'],
          [6, 'validation_failed'],
        ],
      );
      const bad = body.results[1]!;
      assert.ok(bad.status === 'error' && bad.error.field === 'address', JSON.stringify(bad));
      const foreign = body.results[3]!;
      assert.ok(foreign.status === 'error' && foreign.error.field === 'address');
      const extra = body.results[6]!;
      assert.ok(extra.status === 'error' && extra.error.field === 'shoeSize');
      const created = body.results[4]!;
      assert.ok(created.status === 'created' && created.user.role === 'admin');

      // Only the two created rows exist, each with its audit entry; the new users sign in.
      const all = (await s.http.get('/api/users?limit=200', { token: t.admin.token })).json as {
        items: Array<{ address: string }>;
      };
      assert.deepEqual(all.items.map((u) => u.address).sort(), [
        `admin@${t.domain}`,
        `ann@${t.domain}`,
        `eve@${t.domain}`,
        `user@${t.domain}`,
      ]);
      const audit = (await s.http.get('/api/audit', { token: t.admin.token })).json as {
        items: Array<{ action: string; detail: { address?: string } | null }>;
      };
      const creations = audit.items.filter((e) => e.action === 'user.create').map((e) => e.detail?.address);
      assert.deepEqual(creations.sort(), [`ann@${t.domain}`, `eve@${t.domain}`]);
      const login = await s.http.post('/api/auth/login', { address: `eve@${t.domain}`, password: PASSWORD });
      assert.equal(login.status, 200);
    });

    test('a retried batch creates no duplicates: rows already made answer duplicate_address', async () => {
      const t = await makeTenant(s, 'retry');
      const rows = Array.from({ length: 12 }, (_, i) => ({
        address: `person${i}@${t.domain}`,
        displayName: `Person ${i}`,
        password: PASSWORD,
      }));
      const first = (await s.http.post('/api/users/bulk', { rows }, { token: t.admin.token }))
        .json as BulkCreateUsersResponse;
      assert.equal(first.created, 12);
      const again = (await s.http.post('/api/users/bulk', { rows }, { token: t.admin.token }))
        .json as BulkCreateUsersResponse;
      assert.equal(again.created, 0);
      assert.ok(again.results.every((x) => x.status === 'error' && x.error.code === 'duplicate_address'));
      const count = await s.app.storage.db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_id', '=', t.id)
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 14);
    });

    test('a batch is bounded, needs an admin, and must be a list of rows', async () => {
      const t = await makeTenant(s, 'bounds');
      const row = { address: `x@${t.domain}`, displayName: 'X', password: PASSWORD };
      const tooMany = await s.http.post(
        '/api/users/bulk',
        { rows: Array.from({ length: 501 }, () => row) },
        { token: t.admin.token },
      );
      assert.equal(tooMany.status, 400);
      assert.equal(code(tooMany), 'validation_failed');
      const empty = await s.http.post('/api/users/bulk', { rows: [] }, { token: t.admin.token });
      assert.equal(code(empty), 'validation_failed');
      const notRows = await s.http.post('/api/users/bulk', { rows: ['a,b,c'] }, { token: t.admin.token });
      assert.equal(code(notRows), 'validation_failed');
      const asUser = await s.http.post('/api/users/bulk', { rows: [row] }, { token: t.user.token });
      assert.equal(asUser.status, 403);
      assert.equal((await s.app.directory.findUserRecordByAddress(row.address)) === null, true);
    });
  });
}
