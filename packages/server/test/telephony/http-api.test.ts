/**
 * Telephony's HTTP API on a real server: the operator sets a carrier's trunk (billing's carrier id) and
 * stocks numbers for two tenants; a tenant admin sees only its own numbers, assigns one to its user and
 * sets the dial plan country; the other tenant's number is not_found; users and tenant admins cannot
 * reach the operator's routes; changes are audited.
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

describe('telephony HTTP API', () => {
  let s: TestServer;
  let op: string;
  let a: TenantFixture;
  let b: TenantFixture;
  before(async () => {
    s = await startServer('sqlite');
    op = await makeOperator(s);
    a = await makeTenant(s, 'tela');
    b = await makeTenant(s, 'telb');
  });
  after(() => s.close());

  test('operator trunks and numbers; tenant admin assignment and dial plan; walls', async () => {
    const carrier = await s.http.post('/api/operator/billing/carriers', { name: 'Trunk One' }, { token: op });
    assert.equal(carrier.status, 201, carrier.text);
    const carrierId = (carrier.json as { id: string }).id;

    const bad = await s.http.request(
      'PUT',
      `/api/operator/telephony/carriers/${carrierId}`,
      { addresses: [{ host: '127.0.0.2', port: 70000 }] },
      { token: op },
    );
    assert.equal(bad.status, 400);
    const missing = await s.http.request(
      'PUT',
      '/api/operator/telephony/carriers/car_nosuchcarrier0',
      { addresses: [{ host: '127.0.0.2', port: 5060 }] },
      { token: op },
    );
    assert.equal(missing.status, 404, missing.text);
    const put = await s.http.request(
      'PUT',
      `/api/operator/telephony/carriers/${carrierId}`,
      { addresses: [{ host: '127.0.0.2', port: 5060 }], allow: ['127.0.0.2'], channelLimit: 4 },
      { token: op },
    );
    assert.equal(put.status, 200, put.text);
    assert.equal((put.json as { name: string }).name, 'Trunk One');
    assert.equal(s.app.telephony.carrierBySource('127.0.0.2')?.id, carrierId);
    assert.equal(
      (
        await s.http.request(
          'PUT',
          `/api/operator/telephony/carriers/${carrierId}`,
          { addresses: [] },
          { token: a.admin.token },
        )
      ).status,
      403,
    );

    for (const [number, tenantId] of [
      ['+442079460101', a.id],
      ['+442079460102', b.id],
      ['+442079460103', null],
    ] as const) {
      const r = await s.http.post(
        '/api/operator/telephony/numbers',
        { number, carrierId, tenantId },
        { token: op },
      );
      assert.equal(r.status, 201, r.text);
    }
    const dup = await s.http.post(
      '/api/operator/telephony/numbers',
      { number: '+442079460101', carrierId },
      { token: op },
    );
    assert.equal(dup.status, 409);
    assert.equal(code(dup), 'conflict');
    assert.equal(
      (await s.http.post('/api/operator/telephony/numbers', { number: '020 7946', carrierId }, { token: op }))
        .status,
      400,
    );
    assert.equal((await s.http.get('/api/operator/telephony/numbers', { token: a.admin.token })).status, 403);

    // The tenant admin sees its own number only, and assigns it.
    const mine = await s.http.get('/api/telephony/numbers', { token: a.admin.token });
    assert.deepEqual(
      (mine.json as { items: { number: string }[] }).items.map((n) => n.number),
      ['+442079460101'],
    );
    assert.equal((await s.http.get('/api/telephony/numbers', { token: a.user.token })).status, 403);
    const assigned = await s.http.request(
      'PUT',
      `/api/telephony/numbers/${encodeURIComponent('+442079460101')}/user`,
      { userId: a.user.id },
      { token: a.admin.token },
    );
    assert.equal(assigned.status, 200, assigned.text);
    assert.equal(await s.app.telephony.numberOfUser(a.id, a.user.id), '+442079460101');

    // Walls: B's number, the unallocated stock, and B's user are all not_found to A.
    for (const [number, userId] of [
      ['+442079460102', a.user.id],
      ['+442079460103', a.user.id],
      ['+442079460101', b.user.id],
    ]) {
      const r = await s.http.request(
        'PUT',
        `/api/telephony/numbers/${encodeURIComponent(number!)}/user`,
        { userId },
        { token: a.admin.token },
      );
      assert.equal(r.status, 404, `${number} ${r.text}`);
      assert.equal(code(r), 'not_found');
    }
    assert.equal((await s.app.telephony.byNumber('+442079460102'))?.userId, null);

    // Dial plan country.
    const plan0 = await s.http.get('/api/telephony/dial-plan', { token: a.admin.token });
    assert.equal(plan0.status, 200, plan0.text);
    const set = await s.http.request(
      'PUT',
      '/api/telephony/dial-plan',
      { country: 'FR' },
      { token: a.admin.token },
    );
    assert.equal(set.status, 200, set.text);
    assert.deepEqual((await s.http.get('/api/telephony/dial-plan', { token: a.admin.token })).json, {
      country: 'FR',
    });
    assert.notDeepEqual((await s.http.get('/api/telephony/dial-plan', { token: b.admin.token })).json, {
      country: 'FR',
    });
    assert.equal(
      (
        await s.http.request(
          'PUT',
          '/api/telephony/dial-plan',
          { country: 'France' },
          { token: a.admin.token },
        )
      ).status,
      400,
    );

    // Audited: the operator's and the tenant admin's changes, each in its own tenant's log.
    const audit = (await s.http.get('/api/audit', { token: a.admin.token })).json as {
      items: Array<{ action: string; target: string }>;
    };
    assert.ok(
      audit.items.some((e) => e.action === 'telephony.number.assign' && e.target === '+442079460101'),
    );
    assert.ok(audit.items.some((e) => e.action === 'telephony.dial_plan.set'));
    assert.ok(!audit.items.some((e) => e.target === '+442079460102'));
  });
});
