/**
 * What the operator console needs beyond creating tenants: suspending and resuming a tenant (its users
 * and keys are refused at once, its connections cut), taking a domain back, listing a tenant's admins,
 * reading a tenant's ledger; and a refused rate deck names its rows in the error body.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
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
  describe(`operator: tenant lifecycle (${engine})`, () => {
    let s: TestServer;
    let op: string;
    before(async () => {
      s = await startServer(engine);
      op = await makeOperator(s);
    });
    after(() => s.close());

    test('a suspended tenant: sign-in, tokens, refresh and API keys refused, sockets closed; resume restores', async () => {
      const t = await makeTenant(s, 'suspend');
      const other = await makeTenant(s, 'bystander');
      const key = (
        await s.http.post('/api/api-keys', { name: 'bot', role: 'admin' }, { token: t.admin.token })
      ).json as { secret: string };
      const login = (await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD }))
        .json as { accessToken: string; refreshToken: string };
      const ws = new WebSocket(`${s.url.replace('http', 'ws')}/api/realtime`, {
        headers: { authorization: `Bearer ${login.accessToken}` },
      });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));

      const r = await s.http.post(`/api/operator/tenants/${t.id}/suspend`, undefined, { token: op });
      assert.equal(r.status, 200, r.text);
      assert.equal((r.json as { suspended: boolean }).suspended, true);
      assert.notEqual(await closed, 1000);

      const again = await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD });
      assert.equal(again.status, 403);
      assert.equal(code(again), 'tenant_suspended');
      // A wrong password is still just wrong: the suspension is told only to who knows the password.
      const wrong = await s.http.post('/api/auth/login', { address: t.user.address, password: 'nope' });
      assert.equal(code(wrong), 'invalid_credentials');
      assert.equal(code(await s.http.get('/api/me', { token: t.admin.token })), 'tenant_suspended');
      assert.equal(code(await s.http.get('/api/users', { token: key.secret })), 'tenant_suspended');
      assert.equal(
        code(await s.http.post('/api/auth/refresh', { refreshToken: login.refreshToken })),
        'tenant_suspended',
      );
      // Other tenants carry on.
      assert.equal((await s.http.get('/api/me', { token: other.user.token })).status, 200);
      const listed = (await s.http.get('/api/operator/tenants', { token: op })).json as {
        items: Array<{ id: string; suspended: boolean }>;
      };
      assert.equal(listed.items.find((x) => x.id === t.id)?.suspended, true);
      assert.equal(listed.items.find((x) => x.id === other.id)?.suspended, false);

      const resumed = await s.http.post(`/api/operator/tenants/${t.id}/resume`, undefined, { token: op });
      assert.equal((resumed.json as { suspended: boolean }).suspended, false);
      assert.equal((await s.http.get('/api/me', { token: t.admin.token })).status, 200);
      assert.equal(
        (await s.http.post('/api/auth/login', { address: t.user.address, password: PASSWORD })).status,
        200,
      );
      const audit = (await s.http.get('/api/audit', { token: t.admin.token })).json as {
        items: Array<{ action: string }>;
      };
      assert.deepEqual(
        audit.items.map((e) => e.action).filter((a) => a.startsWith('tenant.')),
        ['tenant.resume', 'tenant.suspend'],
      );
    });

    test("the operator's own organisation cannot be suspended; unknown tenants are 404", async () => {
      const own = await s.app.directory.operatorTenant('ops.example');
      const r = await s.http.post(`/api/operator/tenants/${own.id}/suspend`, undefined, { token: op });
      assert.equal(r.status, 403);
      const none = await s.http.post('/api/operator/tenants/ten_nope/suspend', undefined, { token: op });
      assert.equal(none.status, 404);
      const t = await makeTenant(s, 'nosuspend');
      const asAdmin = await s.http.post(`/api/operator/tenants/${t.id}/suspend`, undefined, {
        token: t.admin.token,
      });
      assert.equal(asAdmin.status, 403);
    });

    test('domains: one in use or the last cannot be removed; a spare one can', async () => {
      const t = await makeTenant(s, 'domains');
      const path = `/api/operator/tenants/${t.id}/domains`;
      const inUse = await s.http.delete(`${path}/${t.domain}`, { token: op });
      assert.equal(code(inUse), 'conflict');
      await s.http.post(path, { domain: `spare-${t.domain}` }, { token: op });
      const gone = await s.http.delete(`${path}/spare-${t.domain}`, { token: op });
      assert.equal(gone.status, 200, gone.text);
      assert.deepEqual((gone.json as { domains: string[] }).domains, [t.domain]);
      assert.equal((await s.http.delete(`${path}/spare-${t.domain}`, { token: op })).status, 404);
      // Its last domain, even with no users in it.
      const bare = (
        await s.http.post(
          '/api/operator/tenants',
          { name: 'Bare', domains: [`bare-${t.domain}`] },
          { token: op },
        )
      ).json as { id: string };
      const last = await s.http.delete(`/api/operator/tenants/${bare.id}/domains/bare-${t.domain}`, {
        token: op,
      });
      assert.equal(code(last), 'conflict');
    });

    test("a tenant's admins, and its users by name, are listed for the operator", async () => {
      const t = await makeTenant(s, 'admins');
      await makeUser(s, t.id, `second@${t.domain}`, 'admin');
      const admins = (await s.http.get(`/api/operator/tenants/${t.id}/users?role=admin`, { token: op }))
        .json as { items: Array<{ address: string; role: string }> };
      assert.deepEqual(admins.items.map((u) => u.address).sort(), [
        `admin@${t.domain}`,
        `second@${t.domain}`,
      ]);
      const all = (await s.http.get(`/api/operator/tenants/${t.id}/users`, { token: op })).json as {
        items: unknown[];
      };
      assert.equal(all.items.length, 3);
      // A tenant admin sees their own admins the same way.
      const own = (await s.http.get('/api/users?role=admin', { token: t.admin.token })).json as {
        items: unknown[];
      };
      assert.equal(own.items.length, 2);
    });

    test("a tenant's ledger, newest first, for the operator", async () => {
      const t = await makeTenant(s, 'ledger');
      for (const [i, amount] of ['10.00', '2.50'].entries()) {
        const r = await s.http.post(
          `/api/operator/billing/tenants/${t.id}/top-ups`,
          { amount, reference: `pay-${i}` },
          { token: op, headers: { 'idempotency-key': `ledger-${t.id}-${i}` } },
        );
        assert.equal(r.status, 201, r.text);
      }
      const ledger = (await s.http.get(`/api/operator/billing/tenants/${t.id}/ledger`, { token: op }))
        .json as { items: Array<{ amount: string; balanceAfter: string }> };
      assert.deepEqual(
        ledger.items.map((e) => [e.amount, e.balanceAfter]),
        [
          ['2.5', '12.5'],
          ['10', '10'],
        ],
      );
      const none = await s.http.get('/api/operator/billing/tenants/ten_nope/ledger', { token: op });
      assert.equal(none.status, 404);
    });

    test("a tenant admin lists who holds the tenant's seats", async () => {
      const plan = (
        await s.http.post(
          '/api/operator/billing/plans',
          {
            name: `Seats ${engine}`,
            pricePerUserMonth: '5.00',
            services: ['calling'],
            allowedClasses: ['domestic'],
            includedMinutes: [],
          },
          { token: op },
        )
      ).json as { id: string };
      const t = await makeTenant(s, 'seats');
      await s.http.request(
        'PUT',
        '/api/billing/licences',
        { planId: plan.id, seats: 2 },
        { token: t.admin.token },
      );
      const a = await s.http.post(
        '/api/billing/assignments',
        { userId: t.user.id, planId: plan.id },
        { token: t.admin.token },
      );
      assert.equal(a.status, 204, a.text);
      const list = (await s.http.get(`/api/billing/assignments?planId=${plan.id}`, { token: t.admin.token }))
        .json as { items: Array<{ userId: string; planId: string }> };
      assert.deepEqual(
        list.items.map((x) => [x.userId, x.planId]),
        [[t.user.id, plan.id]],
      );
      const other = await makeTenant(s, 'seats-other');
      const theirs = (await s.http.get('/api/billing/assignments', { token: other.admin.token })).json as {
        items: unknown[];
      };
      assert.equal(theirs.items.length, 0);
    });

    test('a refused rate deck lists its bad rows, with row numbers, in the error body', async () => {
      const deck = (
        await s.http.post(
          '/api/operator/billing/decks',
          { name: `Rows ${engine}`, kind: 'sell' },
          { token: op },
        )
      ).json as { id: string };
      const csv = [
        'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment',
        '44,United Kingdom,domestic,0.01,0,60,60',
        '447,UK mobile,mobile,not-a-rate,0,60,60',
        '33,France,domestic,0.02,0,60,60',
      ].join('\n');
      const r = await s.http.post(
        `/api/operator/billing/decks/${deck.id}/versions`,
        { csv, effectiveFrom: '2026-12-01T00:00:00Z' },
        { token: op },
      );
      assert.equal(r.status, 400);
      const error = (r.json as { error: { code: string; rows: Array<{ row: number; column?: string }> } })
        .error;
      assert.equal(error.code, 'deck_invalid');
      assert.deepEqual(
        error.rows.map((p) => p.row),
        [3],
      );
      assert.equal(error.rows[0]!.column, 'rate_per_minute');
    });
  });
}
