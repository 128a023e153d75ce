/**
 * Bad input at the edge: every malformed request gets a coded 4xx, the server keeps serving, and
 * nothing is half-written.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  engines,
  makeOperator,
  makeTenant,
  startServer,
  PASSWORD,
  type TestServer,
  type TenantFixture,
} from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

for (const engine of engines) {
  describe(`bad input (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    let operator: string;
    before(async () => {
      s = await startServer(engine, { bodyLimit: 4096 });
      t = await makeTenant(s, 'bad');
      operator = await makeOperator(s);
    });
    after(() => s.close());

    const alive = async () => assert.equal((await s.http.get('/api/health')).status, 200);

    test('malformed JSON is 400 malformed_json', async () => {
      for (const raw of ['{"address":', '{', 'nul', '{"a":1}}', '\u0000\u0001', '[1,2']) {
        const r = await s.http.post('/api/auth/login', undefined, { raw });
        assert.equal(r.status, 400, raw);
        assert.equal(code(r), 'malformed_json', raw);
      }
      const empty = await s.http.post('/api/auth/login', undefined, { raw: '' });
      assert.equal(empty.status, 400);
      await alive();
    });

    test('wrong types and missing fields name the field', async () => {
      const r1 = await s.http.post('/api/auth/login', { address: 42, password: PASSWORD });
      assert.equal(r1.status, 400);
      assert.equal(code(r1), 'validation_failed');
      assert.equal((r1.json as { error: { field: string } }).error.field, 'body.address');
      const r2 = await s.http.post('/api/auth/login', { address: t.user.address });
      assert.equal((r2.json as { error: { field: string } }).error.field, 'body.password');
      const r3 = await s.http.post('/api/auth/login', [1, 2, 3]);
      assert.equal(code(r3), 'validation_failed');
      const r4 = await s.http.get('/api/users?limit=lots', { token: t.user.token });
      assert.equal(r4.status, 400);
      assert.equal((r4.json as { error: { field: string } }).error.field, 'query.limit');
      await alive();
    });

    test('unknown fields are refused, not ignored', async () => {
      const r = await s.http.post('/api/auth/login', {
        address: t.user.address,
        password: PASSWORD,
        admin: true,
      });
      assert.equal(r.status, 400);
      assert.equal((r.json as { error: { field: string } }).error.field, 'body.admin');
      const p = await s.http.patch(
        `/api/users/${t.user.id}`,
        { role: 'admin', tenantId: 'other' },
        { token: t.admin.token },
      );
      assert.equal(p.status, 400);
      const after = (await s.http.get(`/api/users/${t.user.id}`, { token: t.admin.token })).json as {
        role: string;
      };
      assert.equal(after.role, 'user', 'a refused request changed nothing');
      assert.equal(
        code(await s.http.get('/api/users?sort=evil', { token: t.user.token })),
        'validation_failed',
      );
    });

    test('an oversize body is 413 payload_too_large and the server keeps serving', async () => {
      const r = await s.http.post('/api/auth/login', {
        address: t.user.address,
        password: 'x'.repeat(10_000),
      });
      assert.equal(r.status, 413);
      assert.equal(code(r), 'payload_too_large');
      await alive();
    });

    test('a wrong content type is 415, an unknown route is 404, both coded', async () => {
      const r = await s.http.post('/api/auth/login', undefined, {
        raw: 'address=a',
        contentType: 'application/x-www-form-urlencoded',
      });
      assert.equal(r.status, 415);
      assert.equal(code(r), 'unsupported_media_type');
      const nf = await s.http.get('/api/nothing-here');
      assert.equal(nf.status, 404);
      assert.equal(code(nf), 'not_found');
    });

    test('SQL-ish and unicode edge strings are stored and searched literally', async () => {
      const names = [
        "Robert'); DROP TABLE users;--",
        'Zoë Ñandú 🎉',
        '100% _match_ \\ back',
        'أحمد', // a right-to-left script (bidi override characters are refused: loose-input.test.ts)
      ];
      const ids: string[] = [];
      for (const [i, displayName] of names.entries()) {
        const r = await s.http.post(
          '/api/users',
          { address: `edge${i}@${t.domain}`, displayName, password: PASSWORD },
          { token: t.admin.token },
        );
        assert.equal(r.status, 201, `${displayName}: ${r.text}`);
        assert.equal((r.json as { displayName: string }).displayName, displayName);
        ids.push((r.json as { id: string }).id);
      }
      const q = async (query: string) =>
        (
          (await s.http.get(`/api/users?query=${encodeURIComponent(query)}`, { token: t.user.token }))
            .json as { items: Array<{ displayName: string }> }
        ).items.map((u) => u.displayName);
      assert.deepEqual(await q("Robert'); DROP"), [names[0]]);
      assert.deepEqual(await q('zoë'), [names[1]]);
      assert.deepEqual(await q('100%'), [names[2]], 'a % in the query is literal, not a wildcard');
      assert.deepEqual(await q('1_0'), [], 'an _ in the query is literal, not a wildcard');
      assert.deepEqual(await q('_match'), [names[2]], 'a later word of the name matches by prefix');
      assert.deepEqual(await q('أحمد'), [names[3]]);
      // Control characters and empty names are refused.
      const ctl = await s.http.post(
        '/api/users',
        { address: `ctl@${t.domain}`, displayName: 'bell\u0007', password: PASSWORD },
        { token: t.admin.token },
      );
      assert.equal(ctl.status, 400);
      const blank = await s.http.post(
        '/api/users',
        { address: `blank@${t.domain}`, displayName: '   ', password: PASSWORD },
        { token: t.admin.token },
      );
      assert.equal(blank.status, 400);
      for (const address of [
        "o'brien@x'.example",
        'a b@example.com',
        'ünï@bad.example',
        '@nolocal.example',
        `${'a'.repeat(70)}@${t.domain}`,
      ]) {
        const r = await s.http.post(
          '/api/users',
          { address, displayName: 'Bad', password: PASSWORD },
          { token: t.admin.token },
        );
        assert.equal(r.status, 400, address);
        assert.equal(code(r), 'validation_failed');
      }
      await alive();
    });

    test('duplicates are 409 with their code; a failed multi-row create leaves nothing behind', async () => {
      const dup = await s.http.post(
        '/api/users',
        { address: t.user.address, displayName: 'Dup', password: PASSWORD },
        { token: t.admin.token },
      );
      assert.equal(dup.status, 409);
      assert.equal(code(dup), 'duplicate_address');
      const before = (await s.http.get('/api/operator/tenants', { token: operator })).json as {
        items: unknown[];
      };
      // The second domain belongs to another tenant: the whole tenant must not be created.
      const r = await s.http.post(
        '/api/operator/tenants',
        { name: 'Half', domains: ['half-new.example', t.domain] },
        { token: operator },
      );
      assert.equal(r.status, 409);
      assert.equal(code(r), 'duplicate_domain');
      const after = (await s.http.get('/api/operator/tenants', { token: operator })).json as {
        items: unknown[];
      };
      assert.equal(after.items.length, before.items.length);
      const again = await s.http.post(
        '/api/operator/tenants',
        { name: 'Whole', domains: ['half-new.example'] },
        { token: operator },
      );
      assert.equal(again.status, 201, 'the first domain was not left claimed by the failed create');
    });

    test('a user address outside the tenant domains is refused', async () => {
      const r = await s.http.post(
        '/api/users',
        { address: 'mallory@elsewhere.example', displayName: 'M', password: PASSWORD },
        { token: t.admin.token },
      );
      assert.equal(r.status, 400);
      assert.equal((r.json as { error: { field: string } }).error.field, 'address');
    });
  });
}
