/**
 * `PARLEY_CREDIT_CONTROL=false` (a PBX whose calls are paid for elsewhere): a call out is routed with
 * no authorisation, so a user without any calling licence or credit is not refused and nothing is
 * held; with it on (the default), the same user is refused `no_licence` in words.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeOperator, makeTenant, startServer, type TestServer } from '../helpers/server.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import type { NumberRoute } from '../../src/calls/call-control.ts';

async function trunkFor(s: TestServer): Promise<{ tenantId: string; userId: string }> {
  const op = await makeOperator(s);
  const c = await s.http.post('/api/operator/billing/carriers', { name: 'Carrier' }, { token: op });
  const id = (c.json as { id: string }).id;
  const put = await s.http.request(
    'PUT',
    `/api/operator/telephony/carriers/${id}`,
    { addresses: [{ host: '127.0.0.2', port: 5060 }], healthCheck: false },
    { token: op },
  );
  assert.equal(put.status, 200, put.text);
  const t = await makeTenant(s, 'nobilling');
  await s.app.telephony.setDialPlanCountry(trustedScope(t.id), 'GB');
  return { tenantId: t.id, userId: t.admin.id };
}

describe('credit control switched off', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('sqlite', { creditControl: false });
  });
  after(() => s.close());

  test('a user with no licence and no credit is routed to the carrier, with no grant and nothing held', async () => {
    const caller = await trunkFor(s);
    const route = (await s.app.trunkOutbound!.route(caller, '020 7946 0999')) as NumberRoute;
    assert.equal(route.kind, 'number');
    assert.equal(route.e164, '+442079460999');
    assert.equal(route.grant, undefined);
    const held = await s.app.storage.db.selectFrom('billing_reservations').selectAll().execute();
    assert.equal(held.length, 0);
  });
});

describe('credit control on (the default)', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('sqlite');
  });
  after(() => s.close());

  test('the same user is refused no_licence, in words', async () => {
    const caller = await trunkFor(s);
    await assert.rejects(s.app.trunkOutbound!.route(caller, '020 7946 0999'), {
      code: 'no_licence',
      message: 'You have no calling licence, so +442079460999 cannot be called.',
    });
  });
});
