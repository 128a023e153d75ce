/**
 * `GET /api/me/phone-number`: every user reads their own number (their caller ID) and the dial plan
 * country the dial pad uses; a user without a number reads null; another tenant's user never reads it.
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

describe('the user reads their own number', () => {
  let s: TestServer;
  let op: string;
  let a: TenantFixture;
  let b: TenantFixture;
  before(async () => {
    s = await startServer('sqlite');
    op = await makeOperator(s);
    a = await makeTenant(s, 'mya');
    b = await makeTenant(s, 'myb');
  });
  after(() => s.close());

  test('own number and dial plan country; null without one; walls', async () => {
    const carrier = await s.http.post('/api/operator/billing/carriers', { name: 'Trunk One' }, { token: op });
    const carrierId = (carrier.json as { id: string }).id;
    const add = await s.http.post(
      '/api/operator/telephony/numbers',
      { number: '+442079460111', carrierId, tenantId: a.id, userId: a.user.id },
      { token: op },
    );
    assert.equal(add.status, 201, add.text);
    await s.http.request('PUT', '/api/telephony/dial-plan', { country: 'GB' }, { token: a.admin.token });

    const mine = await s.http.get('/api/me/phone-number', { token: a.user.token });
    assert.equal(mine.status, 200, mine.text);
    assert.deepEqual(mine.json, { number: '+442079460111', country: 'GB' });
    const admin = await s.http.get('/api/me/phone-number', { token: a.admin.token });
    assert.equal((admin.json as { number: string | null }).number, null);
    // B's user (same user id space, other tenant) reads nothing of A's.
    const theirs = await s.http.get('/api/me/phone-number', { token: b.user.token });
    assert.equal((theirs.json as { number: string | null }).number, null);
    assert.equal((await s.http.get('/api/me/phone-number')).status, 401);
  });
});
