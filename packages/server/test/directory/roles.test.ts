/** Roles: operator accounts are protected, API keys cannot unseat admins, a tenant keeps an admin. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  engines,
  makeOperator,
  makeTenant,
  makeUser,
  startServer,
  PASSWORD,
  type TestServer,
} from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

for (const engine of engines) {
  describe(`roles and the last admin (${engine})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(engine);
    });
    after(() => s.close());

    test("an admin of the operator's own tenant cannot demote, disable or reset the operator", async () => {
      const address = 'root@ops-roles.example';
      await makeOperator(s, address);
      const opTenant = await s.app.directory.operatorTenant('ops-roles.example');
      const admin = await makeUser(s, opTenant.id, 'helper@ops-roles.example', 'admin');
      const op = (await s.app.directory.findUserRecordByAddress(address))!;
      for (const change of [{ role: 'user' }, { enabled: false }, { password: 'brand-new-otter-lamp' }]) {
        const r = await s.http.patch(`/api/users/${op.id}`, change, { token: admin.token });
        assert.equal(r.status, 403, JSON.stringify(change));
      }
      const login = await s.http.post('/api/auth/login', { address, password: PASSWORD });
      assert.equal((login.json as { user: { role: string } }).user.role, 'operator');
    });

    test('an admin API key cannot disable or demote an admin', async () => {
      const t = await makeTenant(s, 'keyroles');
      const other = await makeUser(s, t.id, `second@${t.domain}`, 'admin');
      const key = (
        await s.http.post('/api/api-keys', { name: 'ops bot', role: 'admin' }, { token: t.admin.token })
      ).json as { secret: string };
      for (const change of [{ enabled: false }, { role: 'user' }]) {
        const r = await s.http.patch(`/api/users/${other.id}`, change, { token: key.secret });
        assert.equal(r.status, 403, JSON.stringify(change));
      }
      assert.equal((await s.http.get('/api/me', { token: other.token })).status, 200);
      // It still administers ordinary users.
      const r = await s.http.patch(`/api/users/${t.user.id}`, { title: 'Clerk' }, { token: key.secret });
      assert.equal(r.status, 200);
    });

    test('the last enabled admin cannot be demoted or disabled', async () => {
      const t = await makeTenant(s, 'lastadmin');
      const demote = await s.http.patch(
        `/api/users/${t.admin.id}`,
        { role: 'user' },
        { token: t.admin.token },
      );
      assert.equal(demote.status, 409);
      assert.equal(code(demote), 'last_admin');
      const me = await s.http.get('/api/me', { token: t.admin.token });
      assert.equal((me.json as { role: string }).role, 'admin');
    });

    test('two admins demoting each other at once: exactly one wins, one admin remains', async () => {
      for (let round = 0; round < 3; round++) {
        const t = await makeTenant(s, `race${round}`);
        const b = await makeUser(s, t.id, `b@${t.domain}`, 'admin');
        const [r1, r2] = await Promise.all([
          s.http.patch(`/api/users/${b.id}`, { role: 'user' }, { token: t.admin.token }),
          s.http.patch(`/api/users/${t.admin.id}`, { role: 'user' }, { token: b.token }),
        ]);
        // The loser gets 409 last_admin, or 403 when the winner's commit already demoted its caller.
        const statuses = [r1.status, r2.status].sort();
        assert.equal(statuses[0], 200, `round ${round}: ${r1.text} ${r2.text}`);
        assert.ok([403, 409].includes(statuses[1]!), `round ${round}: ${r1.text} ${r2.text}`);
        const admins = await s.app.storage.db
          .selectFrom('users')
          .select('id')
          .where('tenant_id', '=', t.id)
          .where('role', '=', 'admin')
          .where('enabled', '=', 1)
          .execute();
        assert.equal(admins.length, 1);
      }
    });

    test("a disabled admin's API keys stop working; a demoted admin's admin key too", async () => {
      const t = await makeTenant(s, 'keyowner');
      const maker = await makeUser(s, t.id, `maker@${t.domain}`, 'admin');
      const demotee = await makeUser(s, t.id, `demotee@${t.domain}`, 'admin');
      const mk = async (token: string) =>
        (
          (await s.http.post('/api/api-keys', { name: 'k', role: 'admin' }, { token })).json as {
            secret: string;
          }
        ).secret;
      const k1 = await mk(maker.token);
      const k2 = await mk(demotee.token);
      assert.equal((await s.http.get('/api/users', { token: k1 })).status, 200);
      assert.equal(
        (await s.http.patch(`/api/users/${maker.id}`, { enabled: false }, { token: t.admin.token })).status,
        200,
      );
      assert.equal((await s.http.get('/api/users', { token: k1 })).status, 401);
      assert.equal(
        (await s.http.patch(`/api/users/${demotee.id}`, { role: 'user' }, { token: t.admin.token })).status,
        200,
      );
      assert.equal((await s.http.get('/api/users', { token: k2 })).status, 401);
    });
  });
}
