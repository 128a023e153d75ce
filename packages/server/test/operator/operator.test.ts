/** The operator's API: tenants across the platform, their domains and first admins, the audit trail. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeOperator, makeTenant, startServer, PASSWORD, type TestServer } from '../helpers/server.ts';
import { code } from '../helpers/http.ts';

describe('operator console API', () => {
  let s: TestServer;
  let op: string;
  before(async () => {
    s = await startServer('sqlite');
    op = await makeOperator(s);
  });
  after(() => s.close());

  test('creates a tenant with a domain and its first admin, who can then sign in and administer', async () => {
    const t = await s.http.post(
      '/api/operator/tenants',
      { name: 'Tailspin', domains: ['tailspin.example'], country: 'US', timeZone: 'America/New_York' },
      { token: op, from: '127.0.0.5' },
    );
    assert.equal(t.status, 201, t.text);
    const tenant = t.json as { id: string; timeZone: string };
    assert.equal(tenant.timeZone, 'America/New_York');
    const d = await s.http.post(
      `/api/operator/tenants/${tenant.id}/domains`,
      { domain: 'tailspin-toys.example' },
      { token: op },
    );
    assert.deepEqual((d.json as { domains: string[] }).domains, [
      'tailspin-toys.example',
      'tailspin.example',
    ]);
    const u = await s.http.post(
      `/api/operator/tenants/${tenant.id}/users`,
      { address: 'tom@tailspin-toys.example', displayName: 'Tom', password: PASSWORD, role: 'admin' },
      { token: op },
    );
    assert.equal(u.status, 201, u.text);
    const login = await s.http.post('/api/auth/login', {
      address: 'tom@tailspin-toys.example',
      password: PASSWORD,
    });
    const token = (login.json as { accessToken: string }).accessToken;
    const tenantView = await s.http.get('/api/tenant', { token });
    assert.equal((tenantView.json as { id: string }).id, tenant.id);
    // The operator's actions are audited with who, what and from where, visible to the tenant's admin.
    const audit = (await s.http.get('/api/audit', { token })).json as {
      items: Array<{ action: string; sourceAddress: string; actorAddress: string }>;
    };
    const create = audit.items.find((e) => e.action === 'tenant.create');
    assert.ok(create);
    assert.equal(create.sourceAddress, '127.0.0.5');
    assert.match(create.actorAddress, /@ops\.example$/);
    assert.ok(audit.items.some((e) => e.action === 'user.create'));
  });

  test('operators see every tenant; tenants cannot use operator routes; unknown ids are 404', async () => {
    const other = await makeTenant(s, 'visible');
    const list = (await s.http.get('/api/operator/tenants', { token: op })).json as {
      items: Array<{ id: string }>;
    };
    assert.ok(list.items.some((t) => t.id === other.id));
    assert.equal((await s.http.get('/api/operator/tenants', { token: other.admin.token })).status, 403);
    assert.equal(code(await s.http.get('/api/operator/tenants/ten_nope', { token: op })), 'not_found');
    const patched = await s.http.patch(
      `/api/operator/tenants/${other.id}`,
      { name: 'Renamed' },
      { token: op },
    );
    assert.equal((patched.json as { name: string }).name, 'Renamed');
    const platform = (await s.http.get('/api/operator/audit?limit=2', { token: op })).json as {
      items: unknown[];
      nextCursor: string | null;
    };
    assert.equal(platform.items.length, 2);
    assert.ok(platform.nextCursor);
  });

  test('the OpenAPI document lists every route with its access and schemas', async () => {
    const doc = (await s.http.get('/api/openapi.json')).json as {
      openapi: string;
      paths: Record<string, Record<string, { 'x-parley-access': string; requestBody?: unknown }>>;
    };
    assert.equal(doc.openapi, '3.1.0');
    for (const r of s.app.routes) {
      const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op = doc.paths[path]?.[r.method.toLowerCase()];
      assert.ok(op, `${r.method} ${r.url} missing from OpenAPI`);
      assert.equal(op['x-parley-access'], r.access);
      assert.equal(Boolean(op.requestBody), Boolean(r.body));
    }
    assert.ok(doc.paths['/api/auth/login']?.post);
  });

  test('the address serve prints answers with a page (the app, or one pointing at the API)', async () => {
    const r = await s.http.get('/');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /text\/html/);
  });
});
