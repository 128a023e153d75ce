/**
 * The emergency locations API on a real server (/api/admin/emergency/...): a tenant admin adds a site,
 * puts a user at it or gives a user an address of their own, sets the callback number and reads the
 * emergency numbers of the dial plan country; bad addresses are refused with coded errors naming the
 * field; another tenant's site and user are not_found; a plain user cannot reach the routes; a site
 * someone is at cannot be removed (site_in_use); every change is audited; an emergency call's
 * location is the site's, or the user's own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTenant, startServer, type TenantFixture, type TestServer } from '../helpers/server.ts';
import { trustedScope } from '../../src/directory/scope.ts';

type ErrorBody = { error: { code: string; field?: string } };

const OFFICE = {
  country: 'GB',
  city: 'London',
  street: 'Example Street',
  houseNumber: '1',
  floor: '3',
  postalCode: 'SW1A 1AA',
};

describe('emergency locations HTTP API', () => {
  let s: TestServer;
  let a: TenantFixture;
  let b: TenantFixture;
  before(async () => {
    s = await startServer('sqlite');
    a = await makeTenant(s, 'sosa');
    b = await makeTenant(s, 'sosb');
  });
  after(() => s.close());

  test('sites, user locations and the callback number; validation coded; walls; audit', async () => {
    const admin = { token: a.admin.token };
    // Validation: coded, naming the field.
    const noCity = await s.http.post(
      '/api/admin/emergency/sites',
      { name: 'HQ', address: { country: 'GB' } },
      admin,
    );
    assert.equal(noCity.status, 400, noCity.text);
    assert.equal((noCity.json as ErrorBody).error.code, 'validation_failed');
    assert.match((noCity.json as ErrorBody).error.field ?? '', /address\.city/);
    const badCountry = await s.http.post(
      '/api/admin/emergency/sites',
      { name: 'HQ', address: { country: 'Britain', city: 'London' } },
      admin,
    );
    assert.equal((badCountry.json as ErrorBody).error.code, 'validation_failed');
    assert.match((badCountry.json as ErrorBody).error.field ?? '', /address\.country/);
    const unknownPart = await s.http.post(
      '/api/admin/emergency/sites',
      { name: 'HQ', address: { ...OFFICE, planet: 'Earth' } },
      admin,
    );
    assert.equal(unknownPart.status, 400, 'an unknown part of an address is refused, not dropped');

    // A site, and Alice-like user at it.
    const made = await s.http.post(
      '/api/admin/emergency/sites',
      { name: 'Head office', address: OFFICE },
      admin,
    );
    assert.equal(made.status, 201, made.text);
    const site = made.json as { id: string; name: string; users: number };
    assert.equal(site.name, 'Head office');
    assert.equal(site.users, 0);
    const at = await s.http.request(
      'PUT',
      `/api/admin/emergency/locations/${a.user.id}`,
      { siteId: site.id },
      admin,
    );
    assert.equal(at.status, 200, at.text);
    assert.deepEqual(at.json, { userId: a.user.id, siteId: site.id, address: null });
    const both = await s.http.request(
      'PUT',
      `/api/admin/emergency/locations/${a.user.id}`,
      { siteId: site.id, address: OFFICE },
      admin,
    );
    assert.equal((both.json as ErrorBody).error.code, 'validation_failed', 'a site or an address, not both');
    const sites = (await s.http.get('/api/admin/emergency/sites', admin)).json as {
      items: Array<{ id: string; users: number }>;
    };
    assert.equal(sites.items.find((x) => x.id === site.id)?.users, 1);
    assert.deepEqual(await s.app.emergency.callerLocation(trustedScope(a.id), a.user.id), {
      address: OFFICE,
      site: 'Head office',
    });

    // Someone is at it: it cannot be removed.
    const inUse = await s.http.request('DELETE', `/api/admin/emergency/sites/${site.id}`, undefined, admin);
    assert.equal(inUse.status, 409, inUse.text);
    assert.equal((inUse.json as ErrorBody).error.code, 'site_in_use');

    // The admin's own address (a home worker), then the site can go.
    const home = { country: 'GB', city: 'Leeds', street: 'Home Lane', houseNumber: '7' };
    const own = await s.http.request(
      'PUT',
      `/api/admin/emergency/locations/${a.user.id}`,
      { address: home },
      admin,
    );
    assert.deepEqual(own.json, { userId: a.user.id, siteId: null, address: home });
    assert.deepEqual(await s.app.emergency.callerLocation(trustedScope(a.id), a.user.id), {
      address: home,
      site: null,
    });
    const gone = await s.http.request('DELETE', `/api/admin/emergency/sites/${site.id}`, undefined, admin);
    assert.deepEqual(gone.json, { removed: true });
    const listed = (await s.http.get('/api/admin/emergency/locations', admin)).json as { items: unknown[] };
    assert.equal(listed.items.length, 1);
    const cleared = await s.http.request(
      'PUT',
      `/api/admin/emergency/locations/${a.user.id}`,
      { siteId: null, address: null },
      admin,
    );
    assert.deepEqual(cleared.json, { userId: a.user.id, siteId: null, address: null });
    assert.equal(await s.app.emergency.callerLocation(trustedScope(a.id), a.user.id), null);

    // The callback number, and the numbers of GB.
    const badNumber = await s.http.request(
      'PUT',
      '/api/admin/emergency/settings',
      { callbackNumber: '0207' },
      admin,
    );
    assert.equal((badNumber.json as ErrorBody).error.code, 'validation_failed');
    assert.equal((badNumber.json as ErrorBody).error.field, 'body.callbackNumber');
    const set = await s.http.request(
      'PUT',
      '/api/admin/emergency/settings',
      { callbackNumber: '+442079460000' },
      admin,
    );
    assert.equal(set.status, 200, set.text);
    const settings = (await s.http.get('/api/admin/emergency/settings', admin)).json as {
      callbackNumber: string;
      country: string;
      numbers: string[];
    };
    assert.equal(settings.callbackNumber, '+442079460000');
    assert.equal(settings.country, 'GB');
    assert.deepEqual([...settings.numbers].sort(), ['112', '999']);

    // Audited in the tenant's own log.
    const audit = (await s.http.get('/api/audit', admin)).json as { items: Array<{ action: string }> };
    for (const action of [
      'emergency.site.add',
      'emergency.location.set',
      'emergency.site.remove',
      'emergency.settings.set',
    ])
      assert.ok(
        audit.items.some((e) => e.action === action),
        action,
      );
  });

  test("walls: another tenant's site and user are not_found; a plain user is refused", async () => {
    const theirs = (
      await s.http.post(
        '/api/admin/emergency/sites',
        { name: 'Their office', address: OFFICE },
        { token: b.admin.token },
      )
    ).json as { id: string };
    const admin = { token: a.admin.token };
    const site = await s.http.request(
      'PUT',
      `/api/admin/emergency/sites/${theirs.id}`,
      { name: 'Mine now', address: OFFICE },
      admin,
    );
    assert.equal(site.status, 404);
    assert.equal((site.json as ErrorBody).error.code, 'not_found');
    const atTheirs = await s.http.request(
      'PUT',
      `/api/admin/emergency/locations/${a.user.id}`,
      { siteId: theirs.id },
      admin,
    );
    assert.equal(atTheirs.status, 404, "one's user cannot be put at another tenant's site");
    const theirUser = await s.http.get(`/api/admin/emergency/locations/${b.user.id}`, admin);
    assert.equal(theirUser.status, 404);
    const list = (await s.http.get('/api/admin/emergency/sites', admin)).json as {
      items: Array<{ id: string }>;
    };
    assert.ok(!list.items.some((x) => x.id === theirs.id), "the other tenant's site is not listed");
    const plain = await s.http.get('/api/admin/emergency/sites', { token: a.user.token });
    assert.equal(plain.status, 403);
  });
});
