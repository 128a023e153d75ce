/**
 * Billing's HTTP API end to end on a real server: the operator builds a plan on an imported deck, a
 * tenant admin licenses and assigns it, the operator tops the wallet up (the tenant admin cannot), and
 * the admin previews a call; roles and tenant walls hold and
 * billing's coded errors reach the client.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeOperator,
  makeTenant,
  startServer,
  type TenantFixture,
  type TestServer,
} from '../helpers/server.ts';
import { code } from '../helpers/http.ts';
import { GB_DECK_V1 } from './fixtures.ts';

describe('billing HTTP API', () => {
  let s: TestServer;
  let op: string;
  let a: TenantFixture;
  let b: TenantFixture;
  before(async () => {
    s = await startServer('sqlite');
    op = await makeOperator(s);
    a = await makeTenant(s, 'bill');
    b = await makeTenant(s, 'other');
  });
  after(() => s.close());

  test('operator: deck, malformed import refused with rows, plan; tenant admin: seats, assignment, preview; operator: top-up', async () => {
    const deck = await s.http.post(
      '/api/operator/billing/decks',
      { name: 'GB retail', kind: 'sell' },
      { token: op },
    );
    assert.equal(deck.status, 201, deck.text);
    const deckId = (deck.json as { id: string }).id;
    const bad = await s.http.post(
      `/api/operator/billing/decks/${deckId}/versions`,
      { csv: GB_DECK_V1 + '\n44,Dup,domestic,0.01,0,60,60', effectiveFrom: '2026-01-01T00:00:00Z' },
      { token: op },
    );
    assert.equal(bad.status, 400);
    assert.equal(code(bad), 'deck_invalid');
    assert.match(bad.text, /row 10/);
    const ok = await s.http.post(
      `/api/operator/billing/decks/${deckId}/versions`,
      { csv: GB_DECK_V1, effectiveFrom: '2026-01-01T00:00:00Z' },
      { token: op },
    );
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.json, { deckId, version: 1, rows: 8 });

    const plan = await s.http.post(
      '/api/operator/billing/plans',
      {
        name: 'Domestic Calling',
        pricePerUserMonth: '8.00',
        services: ['calling', 'voicemail'],
        allowedClasses: ['domestic', 'mobile', 'toll-free', 'emergency'],
        sellDeckId: deckId,
        includedMinutes: [{ country: 'GB', class: 'domestic', minutes: 3000 }],
      },
      { token: op },
    );
    assert.equal(plan.status, 201, plan.text);
    const planId = (plan.json as { id: string; pricePerUserMonthMicros: number }).id;
    assert.equal((plan.json as { pricePerUserMonthMicros: number }).pricePerUserMonthMicros, 8_000_000);

    // Tenant admin only: a plain user may not buy seats; the operator is not a tenant admin.
    assert.equal(
      (await s.http.request('PUT', '/api/billing/licences', { planId, seats: 2 }, { token: a.user.token }))
        .status,
      403,
    );
    const seats = await s.http.request(
      'PUT',
      '/api/billing/licences',
      { planId, seats: 2 },
      { token: a.admin.token },
    );
    assert.deepEqual(seats.json, { planId, planName: 'Domestic Calling', seats: 2, assigned: 0 });

    const noLicence = await s.http.post(
      '/api/billing/authorise-preview',
      { userId: a.user.id, destination: '+442071234567' },
      { token: a.admin.token },
    );
    assert.deepEqual((noLicence.json as { ok: boolean; code: string }).code, 'no_licence');

    assert.equal(
      (await s.http.post('/api/billing/assignments', { userId: a.user.id, planId }, { token: a.admin.token }))
        .status,
      204,
    );
    // Another tenant's user cannot be given this tenant's seat.
    const foreign = await s.http.post(
      '/api/billing/assignments',
      { userId: b.user.id, planId },
      { token: a.admin.token },
    );
    assert.equal(foreign.status, 404);

    // A tenant admin cannot add credit (there is no such tenant route, and the operator's is refused).
    assert.equal(
      (await s.http.post('/api/billing/wallet/top-ups', { amount: '10.50' }, { token: a.admin.token }))
        .status,
      404,
    );
    assert.equal(
      (
        await s.http.post(
          `/api/operator/billing/tenants/${a.id}/top-ups`,
          { amount: '10.50' },
          { token: a.admin.token, headers: { 'idempotency-key': 'k-0' } },
        )
      ).status,
      403,
    );
    const top = await s.http.post(
      `/api/operator/billing/tenants/${a.id}/top-ups`,
      { amount: '10.50', reference: 'pay-1' },
      { token: op, headers: { 'idempotency-key': 'k-1' } },
    );
    assert.equal(top.status, 201, top.text);
    assert.equal((top.json as { balanceAfter: string }).balanceAfter, '10.5');
    assert.equal(
      code(
        await s.http.post(
          `/api/operator/billing/tenants/${a.id}/top-ups`,
          { amount: '1.0000001' },
          { token: op, headers: { 'idempotency-key': 'k-2' } },
        ),
      ),
      'validation_failed',
    );

    const preview = await s.http.post(
      '/api/billing/authorise-preview',
      { userId: a.user.id, destination: '+442071234567' },
      { token: a.admin.token },
    );
    assert.equal(preview.status, 200, preview.text);
    // 6,000 pool minutes (2 seats x 3,000) cap at the 4-hour longest call; first slice 300 s, from the pool.
    assert.deepEqual(
      [
        (preview.json as { maxSeconds: number }).maxSeconds,
        (preview.json as { firstSliceSeconds: number }).firstSliceSeconds,
        (preview.json as { poolMinutes: number }).poolMinutes,
      ],
      [14_400, 300, 5],
    );
    const intl = await s.http.post(
      '/api/billing/authorise-preview',
      { userId: a.user.id, destination: '+12125550100' },
      { token: a.admin.token },
    );
    assert.equal((intl.json as { code: string }).code, 'class_not_allowed');

    const wallet = await s.http.get('/api/billing/wallet', { token: a.admin.token });
    assert.equal((wallet.json as { available: string }).available, '10.5');
    assert.equal(
      ((await s.http.get('/api/billing/wallet', { token: b.admin.token })).json as { balance: string })
        .balance,
      '0',
    );
    const ledger = await s.http.get('/api/billing/ledger', { token: a.admin.token });
    assert.equal(
      (ledger.json as { items: Array<{ kind: string; reference: string }> }).items[0].reference,
      'pay-1',
    );

    const userPlans = await s.http.get(`/api/billing/users/${a.user.id}/plans`, { token: a.admin.token });
    assert.equal((userPlans.json as { items: Array<{ planId: string }> }).items[0].planId, planId);
    assert.equal(
      (await s.http.get(`/api/billing/users/${a.user.id}/plans`, { token: b.admin.token })).status,
      404,
    );

    const adj = await s.http.post(
      `/api/operator/billing/tenants/${a.id}/adjustments`,
      { amount: '-0.50', note: 'correction' },
      { token: op, headers: { 'idempotency-key': 'k-3' } },
    );
    assert.equal(adj.status, 201, adj.text);
    assert.equal((adj.json as { balanceAfter: string }).balanceAfter, '10');
    assert.equal(
      (
        await s.http.post(
          `/api/operator/billing/tenants/${a.id}/adjustments`,
          { amount: '-0.50', note: 'x' },
          { token: a.admin.token },
        )
      ).status,
      403,
    );
  });
});
