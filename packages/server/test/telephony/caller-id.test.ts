/**
 * `GET/PUT /api/me/caller-id`: a user's "withhold my number" setting. It starts off; turning it on
 * is kept (read back, and what calls out use), and off again; a body that is not `{withheld: boolean}`
 * is refused with a coded validation error naming the field; an API key is no user and may not read
 * or set it; another tenant's user with the setting on changes nothing here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { trustedScope } from '../../src/directory/scope.ts';
import { makeTenant, startServer, type TenantFixture, type TestServer } from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

const fieldOf = (r: { json: unknown }) => (r.json as { error?: { field?: string } }).error?.field;

describe('the user withholds their number', () => {
  let s: TestServer;
  let a: TenantFixture;
  let b: TenantFixture;
  before(async () => {
    s = await startServer('sqlite');
    a = await makeTenant(s, 'cida');
    b = await makeTenant(s, 'cidb');
  });
  after(() => s.close());

  test('off by default; on is kept (the store calls out read says so); off again', async () => {
    const first = await s.http.get('/api/me/caller-id', { token: a.user.token });
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(first.json, { withheld: false });

    const on = await s.http.request('PUT', '/api/me/caller-id', { withheld: true }, { token: a.user.token });
    assert.equal(on.status, 200, on.text);
    assert.deepEqual(on.json, { withheld: true });
    assert.deepEqual((await s.http.get('/api/me/caller-id', { token: a.user.token })).json, {
      withheld: true,
    });
    assert.equal(await s.app.telephony.withholdsCallerId(trustedScope(a.id), a.user.id), true);
    // Only hers: the admin beside her still shows their number.
    assert.deepEqual((await s.http.get('/api/me/caller-id', { token: a.admin.token })).json, {
      withheld: false,
    });

    const off = await s.http.request(
      'PUT',
      '/api/me/caller-id',
      { withheld: false },
      { token: a.user.token },
    );
    assert.deepEqual(off.json, { withheld: false });
    assert.deepEqual((await s.http.get('/api/me/caller-id', { token: a.user.token })).json, {
      withheld: false,
    });
  });

  test('a body that is not {withheld: boolean} is refused, coded, naming the field', async () => {
    for (const body of [{ withheld: 'yes' }, {}, { withheld: true, extra: 1 }, { withheld: 1 }]) {
      const r = await s.http.request('PUT', '/api/me/caller-id', body, { token: a.user.token });
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      assert.equal(code(r), 'validation_failed', JSON.stringify(body));
    }
    const bad = await s.http.request(
      'PUT',
      '/api/me/caller-id',
      { withheld: 'yes' },
      { token: a.user.token },
    );
    assert.equal(fieldOf(bad), 'body.withheld');
    // Nothing was changed by the refused bodies.
    assert.deepEqual((await s.http.get('/api/me/caller-id', { token: a.user.token })).json, {
      withheld: false,
    });
  });

  test('an API key is not a user: refused; signed out: 401', async () => {
    const key = (
      await s.http.post('/api/api-keys', { name: 'dialler bot', role: 'admin' }, { token: a.admin.token })
    ).json as { secret: string };
    const get = await s.http.get('/api/me/caller-id', { token: key.secret });
    assert.equal(get.status, 403, get.text);
    assert.equal(code(get), 'forbidden');
    const put = await s.http.request('PUT', '/api/me/caller-id', { withheld: true }, { token: key.secret });
    assert.equal(put.status, 403, put.text);
    assert.equal((await s.http.get('/api/me/caller-id')).status, 401);
    assert.equal((await s.http.request('PUT', '/api/me/caller-id', { withheld: true })).status, 401);
  });

  test('another tenant’s user withholding changes nothing for this tenant', async () => {
    await s.http.request('PUT', '/api/me/caller-id', { withheld: true }, { token: b.user.token });
    assert.deepEqual((await s.http.get('/api/me/caller-id', { token: b.user.token })).json, {
      withheld: true,
    });
    assert.deepEqual((await s.http.get('/api/me/caller-id', { token: a.user.token })).json, {
      withheld: false,
    });
  });
});
