/**
 * Tenant walls, generated from the route table: for every tenant route that takes an id, a user of
 * tenant A asking for tenant B's resource gets 404, while B's own user gets 2xx on the same request (the
 * positive control proves the id is real). New routes are covered automatically; a route whose ids are
 * not declared, or whose resource kind has no factory, fails here.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { engines, makeTenant, startServer, type TestServer, type TenantFixture } from '../helpers/server.ts';
import { resourceFactories } from '../helpers/resources.ts';
import { pathParams } from '../../src/http/route.ts';

for (const engine of engines) {
  describe(`tenant walls on every route with ids (${engine})`, () => {
    let s: TestServer;
    let a: TenantFixture;
    let b: TenantFixture;
    before(async () => {
      s = await startServer(engine);
      a = await makeTenant(s, 'walla');
      b = await makeTenant(s, 'wallb');
    });
    after(() => s.close());

    test('the route table has tenant routes with ids (the generator found something to check)', () => {
      const n = s.app.routes.filter(
        (r) => (r.access === 'user' || r.access === 'admin') && pathParams(r.url).length,
      ).length;
      assert.ok(n >= 3, `only ${n} routes found`);
    });

    // The route table exists once the server is built, so each route is a subtest of this one.
    test('every tenant route with ids refuses the other tenant with 404 and serves its own', async (t) => {
      const routes = s.app.routes.filter(
        (r) => (r.access === 'user' || r.access === 'admin') && pathParams(r.url).length,
      );
      for (const route of routes) {
        await t.test(`${route.method} ${route.url}`, async () => {
          const params = pathParams(route.url);
          const ids: Record<string, string> = {};
          for (const p of params) {
            const kind = route.resources?.[p];
            assert.ok(
              kind,
              `${route.method} ${route.url}: declare the resource kind of :${p} in the route's resources`,
            );
            const make = resourceFactories[kind];
            assert.ok(make, `no factory for resource kind '${kind}': add one to test/helpers/resources.ts`);
            ids[p] = await make(s, b);
          }
          if (route.body)
            assert.ok(
              route.example !== undefined,
              `${route.method} ${route.url}: give the route an example body`,
            );
          const path = route.url.replace(/:([A-Za-z0-9_]+)/g, (_, p: string) => ids[p]!);
          const as = (f: TenantFixture) => (route.access === 'admin' ? f.admin.token : f.user.token);
          const foreign = await s.http.request(route.method, path, route.example, { token: as(a) });
          assert.equal(foreign.status, 404, `tenant A got ${foreign.status} ${foreign.text}`);
          assert.equal((foreign.json as { error: { code: string } }).error.code, 'not_found');
          const own = await s.http.request(route.method, path, route.example, { token: as(b) });
          assert.ok(
            own.status >= 200 && own.status < 300,
            `tenant B's own request got ${own.status} ${own.text}`,
          );
        });
      }
    });

    test('listings never show another tenant: directory search and the audit log', async () => {
      const users = (await s.http.get('/api/users?limit=200', { token: a.user.token })).json as {
        items: Array<{ tenantId: string; address: string }>;
      };
      assert.ok(users.items.length >= 2);
      assert.ok(users.items.every((u) => u.tenantId === a.id));
      const byAddress = (
        await s.http.get(`/api/users?query=${encodeURIComponent(b.user.address)}`, { token: a.user.token })
      ).json as { items: unknown[] };
      assert.equal(byAddress.items.length, 0);
      await s.http.patch(`/api/users/${b.user.id}`, { title: 'Secret Title' }, { token: b.admin.token });
      const audit = (await s.http.get('/api/audit', { token: a.admin.token })).json as {
        items: Array<{ tenantId: string; target: string }>;
      };
      assert.ok(audit.items.every((e) => e.tenantId === a.id));
      const own = (await s.http.get('/api/audit', { token: b.admin.token })).json as {
        items: Array<{ action: string; target: string }>;
      };
      assert.ok(own.items.some((e) => e.action === 'user.update' && e.target === b.user.id));
    });
  });
}
