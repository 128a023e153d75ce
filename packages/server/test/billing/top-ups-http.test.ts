/**
 * Money moves only with authority, exactly once, with its audit, over HTTP on both engines: a tenant
 * admin asks for credit and the operator approves or declines; every money-moving request needs an
 * Idempotency-Key, a retry answers the first result and moves nothing, the same key for another
 * request is refused; a ledger change whose audit entry cannot be written does not happen.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  engines,
  makeOperator,
  makeTenant,
  startServer,
  type TenantFixture,
  type TestServer,
} from '../helpers/server.ts';
import { code, type HttpResult } from '../helpers/http.ts';

interface Ledger {
  items: Array<{ id: string; kind: string; amount: string; reference: string | null }>;
}
interface Request {
  id: string;
  state: string;
  amount: string;
  ledgerId: string | null;
}

for (const engine of engines) {
  describe(`top-ups, requests and idempotency on ${engine}`, () => {
    let s: TestServer;
    let op: string;
    let a: TenantFixture;
    let b: TenantFixture;
    before(async () => {
      s = await startServer(engine);
      op = await makeOperator(s);
      a = await makeTenant(s, 'money');
      b = await makeTenant(s, 'moneyb');
    });
    after(() => s.close());

    let n = 0;
    const key = () => `key-${engine}-${++n}`;
    const balance = async (t: TenantFixture) =>
      ((await s.http.get('/api/billing/wallet', { token: t.admin.token })).json as { balance: string })
        .balance;
    const ledger = async (t: TenantFixture) =>
      (await s.http.get('/api/billing/ledger', { token: t.admin.token })).json as Ledger;
    const post = (url: string, body: unknown, k?: string, token = op): Promise<HttpResult> =>
      s.http.post(url, body, { token, headers: k ? { 'idempotency-key': k } : {} });
    const audits = async (action: string) =>
      (
        await s.app.storage.db
          .selectFrom('audit_log')
          .select(['target', 'tenant_id'])
          .where('action', '=', action)
          .execute()
      ).map((r) => r.target);

    test('a tenant admin cannot add credit: it requests, and only approval moves money', async () => {
      assert.equal(
        (await post('/api/billing/wallet/top-ups', { amount: '5' }, undefined, a.admin.token)).status,
        404,
      );
      assert.equal(
        (await post(`/api/operator/billing/tenants/${a.id}/top-ups`, { amount: '5' }, key(), a.admin.token))
          .status,
        403,
      );
      const req = await post(
        '/api/billing/wallet/top-up-requests',
        { amount: '12.5', note: 'nov' },
        undefined,
        a.admin.token,
      );
      assert.equal(req.status, 201, req.text);
      const r = req.json as Request;
      assert.equal(r.state, 'pending');
      assert.equal(await balance(a), '0');
      // A plain user may not ask; another tenant cannot see it.
      assert.equal(
        (await post('/api/billing/wallet/top-up-requests', { amount: '1' }, undefined, a.user.token)).status,
        403,
      );
      assert.equal(
        (await s.http.get(`/api/billing/wallet/top-up-requests/${r.id}`, { token: b.admin.token })).status,
        404,
      );
      const mine = (await s.http.get('/api/billing/wallet/top-up-requests', { token: a.admin.token }))
        .json as {
        items: Request[];
      };
      assert.deepEqual(
        mine.items.map((x) => x.id),
        [r.id],
      );
      const pending = (
        await s.http.get(`/api/operator/billing/top-up-requests?state=pending&tenantId=${a.id}`, {
          token: op,
        })
      ).json as { items: Request[] };
      assert.deepEqual(
        pending.items.map((x) => x.id),
        [r.id],
      );
      // The tenant admin cannot approve its own request.
      const url = `/api/operator/billing/top-up-requests/${r.id}/approve`;
      assert.equal((await post(url, {}, key(), a.admin.token)).status, 403);

      const k = key();
      const ok = await post(url, { note: 'paid' }, k);
      assert.equal(ok.status, 200, ok.text);
      const approved = ok.json as { request: Request; entry: { id: string; balanceAfter: string } };
      assert.equal(approved.request.state, 'approved');
      assert.equal(approved.request.ledgerId, approved.entry.id);
      assert.equal(approved.entry.balanceAfter, '12.5');
      // The retry answers the same, moving nothing; approving again under a new key is a conflict.
      const again = await post(url, { note: 'paid' }, k);
      assert.equal(again.status, 200);
      assert.deepEqual(again.json, ok.json);
      assert.equal(code(await post(url, { note: 'paid' }, key())), 'conflict');
      assert.equal(await balance(a), '12.5');
      assert.deepEqual(
        (await ledger(a)).items.map((e) => [e.kind, e.amount, e.reference]),
        [['top_up', '12.5', `request:${r.id}`]],
      );
      assert.deepEqual(await audits('billing.top_up_request.approve'), [r.id]);

      // Declined: nothing moves, and a declined request cannot be approved.
      const other = (
        await post('/api/billing/wallet/top-up-requests', { amount: '99' }, undefined, a.admin.token)
      ).json as Request;
      const declined = await post(`/api/operator/billing/top-up-requests/${other.id}/decline`, {
        note: 'no payment',
      });
      assert.equal(declined.status, 200, declined.text);
      assert.equal((declined.json as Request).state, 'declined');
      assert.equal(
        code(await post(`/api/operator/billing/top-up-requests/${other.id}/approve`, {}, key())),
        'conflict',
      );
      assert.equal(
        code(await post(`/api/operator/billing/top-up-requests/${other.id}/decline`, {})),
        'conflict',
      );
      assert.equal(await balance(a), '12.5');
      assert.equal(
        code(await post('/api/operator/billing/top-up-requests/tur_missing/approve', {}, key())),
        'not_found',
      );
    });

    test('every money-moving request needs an Idempotency-Key; a retry moves money once', async () => {
      const topUps = `/api/operator/billing/tenants/${b.id}/top-ups`;
      const adjust = `/api/operator/billing/tenants/${b.id}/adjustments`;
      for (const [url, body] of [
        [topUps, { amount: '1' }],
        [adjust, { amount: '1', note: 'x' }],
        ['/api/operator/billing/top-up-requests/tur_x/approve', {}],
      ] as const) {
        const r = await post(url, body);
        assert.equal(r.status, 400, r.text);
        assert.equal(code(r), 'idempotency_key_required');
        assert.equal(code(await post(url, body, 'has space')), 'idempotency_key_required');
      }
      assert.equal(await balance(b), '0');

      const k = key();
      const first = await post(topUps, { amount: '7', reference: 'wire-1' }, k);
      assert.equal(first.status, 201, first.text);
      // Retries, some at once: the same status and body, one ledger entry.
      const retries = await Promise.all(
        [1, 2, 3, 4].map(() => post(topUps, { amount: '7', reference: 'wire-1' }, k)),
      );
      for (const r of retries) {
        assert.equal(r.status, 201);
        assert.deepEqual(r.json, first.json);
      }
      assert.equal(await balance(b), '7');
      // The same key with another body, or on another route, is refused and moves nothing.
      const reused = await post(topUps, { amount: '70', reference: 'wire-1' }, k);
      assert.equal(reused.status, 409);
      assert.equal(code(reused), 'idempotency_key_reused');
      assert.equal(code(await post(adjust, { amount: '7', note: 'x' }, k)), 'idempotency_key_reused');
      // Keys are per tenant: tenant A's wallet may use the same key.
      assert.equal(
        (await post(`/api/operator/billing/tenants/${a.id}/top-ups`, { amount: '1' }, k)).status,
        201,
      );

      // Concurrent first requests under one new key: exactly one moves money.
      const k2 = key();
      const burst = await Promise.all(
        [1, 2, 3, 4, 5].map(() => post(adjust, { amount: '-2', note: 'fee' }, k2)),
      );
      assert.ok(burst.every((r) => r.status === 201));
      assert.equal(new Set(burst.map((r) => (r.json as { id: string }).id)).size, 1);
      assert.equal(await balance(b), '5');
      assert.deepEqual(
        (await ledger(b)).items.map((e) => [e.kind, e.amount]),
        [
          ['adjustment', '-2'],
          ['top_up', '7'],
        ],
      );
      // Each ledger entry has exactly one audit entry.
      const ids = (await ledger(b)).items.map((e) => e.id).sort();
      assert.deepEqual(
        [...(await audits('billing.top_up')), ...(await audits('billing.adjustment'))]
          .filter((t) => ids.includes(t!))
          .sort(),
        ids,
      );
    });

    test('OpenAPI publishes the required Idempotency-Key on exactly the money-moving routes', async () => {
      const doc = (await s.http.get('/api/openapi.json')).json as {
        paths: Record<
          string,
          Record<string, { parameters: Array<{ name: string; in: string; required: boolean }> }>
        >;
      };
      const keyed = Object.entries(doc.paths)
        .flatMap(([path, ops]) =>
          Object.entries(ops)
            .filter(([, op]) =>
              op.parameters.some((p) => p.in === 'header' && p.name === 'Idempotency-Key' && p.required),
            )
            .map(([method]) => `${method} ${path}`),
        )
        .sort();
      assert.deepEqual(keyed, [
        'post /api/operator/billing/tenants/{tenantId}/adjustments',
        'post /api/operator/billing/tenants/{tenantId}/top-ups',
        'post /api/operator/billing/top-up-requests/{requestId}/approve',
      ]);
    });

    test('answers are kept 24 h and then forgotten by the sweep', async () => {
      const k = key();
      const url = `/api/operator/billing/tenants/${b.id}/top-ups`;
      assert.equal((await post(url, { amount: '1' }, k)).status, 201);
      // Nothing younger than the retention is purged.
      assert.equal(await s.app.billing.store.purgeIdempotency(Date.now() - 24 * 3_600_000), 0);
      assert.equal((await post(url, { amount: '2' }, k)).status, 409);
      assert.ok((await s.app.billing.store.purgeIdempotency(Date.now() + 1)) >= 1);
      assert.equal((await post(url, { amount: '2' }, k)).status, 201);
    });

    test('a ledger change whose audit entry fails is not made', async () => {
      const before = await balance(b);
      const entries = (await ledger(b)).items.length;
      const db = s.app.storage.db;
      if (engine === 'sqlite')
        await sql`create trigger audit_down before insert on audit_log begin select raise(abort, 'audit down'); end`.execute(
          db,
        );
      else {
        await sql`create function audit_down() returns trigger language plpgsql as $$ begin raise exception 'audit down'; end $$`.execute(
          db,
        );
        await sql`create trigger audit_down before insert on audit_log for each row execute function audit_down()`.execute(
          db,
        );
      }
      try {
        const r = await post(`/api/operator/billing/tenants/${b.id}/top-ups`, { amount: '3' }, key());
        assert.equal(r.status, 500);
      } finally {
        await sql`drop trigger audit_down${engine === 'postgres' ? sql` on audit_log` : sql``}`.execute(db);
      }
      assert.equal(await balance(b), before);
      assert.equal((await ledger(b)).items.length, entries);
    });
  });
}
