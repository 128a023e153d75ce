/**
 * The registration password is write-only over HTTP: never in an answer, and a PUT that leaves it out
 * keeps the stored one (the operator's Carriers screen saves a registration trunk without retyping
 * it); a new registration without one is refused on `registration.password`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeOperator, startServer, type TestServer } from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

describe('registration password over HTTP', () => {
  let s: TestServer;
  let op: string;
  before(async () => {
    s = await startServer('sqlite');
    op = await makeOperator(s);
  });
  after(() => s.close());

  test('kept when left out, never answered, required for a new registration', async () => {
    const carrier = async (name: string) =>
      ((await s.http.post('/api/operator/billing/carriers', { name }, { token: op })).json as { id: string })
        .id;
    const id = await carrier('Reg Keep');
    const trunk = (registration: Record<string, unknown>) => ({
      addresses: [{ host: '127.0.0.9', port: 5060 }],
      auth: 'register',
      registration: { registrar: { host: '127.0.0.9', port: 5060 }, username: 'acct7', ...registration },
      enabled: false,
    });
    const first = await s.http.request(
      'PUT',
      `/api/operator/telephony/carriers/${id}`,
      trunk({ password: 'first-secret' }),
      { token: op },
    );
    assert.equal(first.status, 200, first.text);
    assert.doesNotMatch(first.text, /first-secret/);
    const again = await s.http.request(
      'PUT',
      `/api/operator/telephony/carriers/${id}`,
      { ...trunk({ username: 'acct8' }), identity: 'rpid', healthCheck: false },
      { token: op },
    );
    assert.equal(again.status, 200, again.text);
    const stored = await s.app.telephony.get(id);
    assert.equal(stored?.registration?.password, 'first-secret');
    assert.equal(stored?.registration?.username, 'acct8');
    assert.equal(stored?.identity, 'rpid');
    assert.equal(stored?.healthCheck, false);
    assert.doesNotMatch(
      (await s.http.get('/api/operator/telephony/carriers', { token: op })).text,
      /first-secret/,
    );

    const fresh = await s.http.request(
      'PUT',
      `/api/operator/telephony/carriers/${await carrier('Reg New')}`,
      trunk({}),
      { token: op },
    );
    assert.equal(fresh.status, 400, fresh.text);
    assert.equal(code(fresh), 'validation_failed');
    assert.equal((fresh.json as { error: { field?: string } }).error.field, 'registration.password');
  });
});
