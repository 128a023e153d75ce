/**
 * Extensions over HTTP on SQLite and PostgreSQL: unique within a tenant (the same number in another
 * tenant is someone else), one per user, emergency numbers refused, listed in number order, and found
 * by the SIP edge's lookup only within the tenant asked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExtensionEntry } from '@parley/protocol';
import {
  engines,
  makeTenant,
  makeUser,
  startServer,
  type TenantFixture,
  type TestServer,
} from '../helpers/server.ts';
import { trustedScope } from '../../src/directory/scope.ts';

const code = (r: { json: unknown }) => (r.json as { error: { code: string } }).error.code;

for (const engine of engines) {
  describe(`extensions over HTTP (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    let other: TenantFixture;
    before(async () => {
      s = await startServer(engine);
      t = await makeTenant(s, 'ext');
      other = await makeTenant(s, 'extother');
    });
    after(() => s.close());

    const put = (userId: string, extension: unknown, token = t.admin.token) =>
      s.http.request('PUT', `/api/users/${userId}/extension`, { extension }, { token });

    test('set, replace, refuse a taken number, clear; the lookup follows', async () => {
      const carol = await makeUser(s, t.id, `carol@${t.domain}`, 'user', 'Carol Chen');
      assert.deepEqual((await s.http.get(`/api/users/${carol.id}/extension`, { token: t.user.token })).json, {
        userId: carol.id,
        extension: null,
      });
      const set = await put(carol.id, '2001');
      assert.equal(set.status, 200, set.text);
      assert.deepEqual(set.json, { userId: carol.id, extension: '2001' });
      assert.deepEqual(await s.app.devices.lookup.userByExtension(t.id, '2001'), {
        userId: carol.id,
        address: carol.address,
        displayName: 'Carol Chen',
      });
      // Another tenant's 2001 is someone else; this tenant's lookup never finds it.
      assert.equal((await put(other.user.id, '2001', other.admin.token)).status, 200);
      assert.equal((await s.app.devices.lookup.userByExtension(other.id, '2001'))?.userId, other.user.id);
      assert.equal((await s.app.devices.lookup.userByExtension(t.id, '2001'))?.userId, carol.id);

      // Taken in the tenant: refused, and nobody's number changed.
      const taken = await put(t.user.id, '2001');
      assert.equal(taken.status, 409);
      assert.equal(code(taken), 'duplicate_extension');
      assert.equal((taken.json as { error: { field: string } }).error.field, 'extension');
      assert.equal((await s.app.devices.lookup.userByExtension(t.id, '2001'))?.userId, carol.id);

      // A new number replaces the old one, which is free again.
      assert.equal((await put(carol.id, '2002')).status, 200);
      assert.equal(await s.app.devices.lookup.userByExtension(t.id, '2001'), null);
      assert.equal((await put(t.user.id, '2001')).status, 200);

      const del = await s.http.request('DELETE', `/api/users/${carol.id}/extension`, undefined, {
        token: t.admin.token,
      });
      assert.equal(del.status, 204);
      assert.equal(await s.app.devices.lookup.userByExtension(t.id, '2002'), null);
      const actions = (
        (await s.http.get('/api/audit', { token: t.admin.token })).json as {
          items: Array<{ action: string; target: string }>;
        }
      ).items
        .filter((e) => e.target === carol.id)
        .map((e) => e.action);
      assert.deepEqual(actions, ['extension.clear', 'extension.set', 'extension.set']);
    });

    test('bad numbers get validation_failed on the field: emergency numbers, a leading 0, letters, length', async () => {
      for (const bad of ['911', '112', '999', '0123', '12a4', '1', '123456789', 22]) {
        const r = await put(t.admin.id, bad);
        assert.equal(r.status, 400, `${bad}: ${r.text}`);
        assert.equal(code(r), 'validation_failed');
        assert.equal((r.json as { error: { field: string } }).error.field, 'body.extension');
      }
      assert.deepEqual(
        (await s.http.get(`/api/users/${t.admin.id}/extension`, { token: t.admin.token })).json,
        {
          userId: t.admin.id,
          extension: null,
        },
      );
    });

    test("a disabled user's extension finds nobody; users list the tenant's numbers in number order; only admins set them", async () => {
      const t2 = await makeTenant(s, 'extlist');
      const u9 = await makeUser(s, t2.id, `nine@${t2.domain}`);
      const u10 = await makeUser(s, t2.id, `ten@${t2.domain}`);
      await put(u10.id, '10', t2.admin.token);
      await put(u9.id, '9000', t2.admin.token);
      await put(t2.user.id, '200', t2.admin.token);
      const list = (await s.http.get('/api/extensions', { token: t2.user.token })).json as {
        items: ExtensionEntry[];
      };
      assert.deepEqual(
        list.items.map((e) => [e.extension, e.address]),
        [
          ['10', u10.address],
          ['200', t2.user.address],
          ['9000', u9.address],
        ],
      );
      await s.app.directory.updateUser(trustedScope(t2.id), u10.id, { enabled: false });
      assert.equal(await s.app.devices.lookup.userByExtension(t2.id, '10'), null);
      const byUser = await put(u9.id, '9001', t2.user.token);
      assert.equal(byUser.status, 403);
    });
  });
}
