/**
 * SIP devices over the tenant admin's HTTP API, on SQLite and PostgreSQL, proved against the running
 * SIP listener: a device the admin adds authenticates by digest (SHA-256 and MD5) with the password
 * shown once, and stops when it is removed, its password reset or its user disabled. The database
 * holds HA1s, never the password.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { digestHa1 } from '@parley/sip';
import type { SipDevice, SipDeviceCredentials } from '@parley/protocol';
import {
  engines,
  makeTenant,
  makeUser,
  startServer,
  type TenantFixture,
  type TestServer,
} from '../helpers/server.ts';
import { UdpSipClient } from '../helpers/sip-client.ts';
import { registerDevice } from './register.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import type { SipDeviceRevokedEvent } from '../../src/devices/sip-device-directory.ts';

for (const engine of engines) {
  describe(`SIP devices over HTTP (${engine})`, () => {
    let s: TestServer;
    let t: TenantFixture;
    let sip: UdpSipClient;
    const revoked: SipDeviceRevokedEvent[] = [];
    before(async () => {
      s = await startServer(engine, { sipDevicesPerUser: 3, sipAuthFailures: 1000 });
      t = await makeTenant(s, 'phones');
      sip = await UdpSipClient.open('127.0.0.1', s.app.sip!.udpPort);
      s.app.bus.subscribe('sip.device.revoked', (e) => revoked.push(e));
    });
    after(async () => {
      await sip.close();
      await s.close();
    });

    const add = (userId: string, body: unknown, token = t.admin.token) =>
      s.http.post(`/api/users/${userId}/sip-devices`, body, { token });

    const register = (
      username: string,
      password: string,
      algorithm: 'SHA-256' | 'MD5' = 'SHA-256',
      domain = t.domain,
    ) => registerDevice(sip, username, password, domain, algorithm);
    /** Digest accepted and the contact bound (200 from the registrar). */
    const accepted = (status: number) => status === 200;

    test('an admin adds a phone: the password is shown once with the settings, and it authenticates by SHA-256 and MD5', async () => {
      const r = await add(t.user.id, { name: 'Desk phone' });
      assert.equal(r.status, 201, r.text);
      const c = r.json as SipDeviceCredentials;
      assert.equal(c.device.userId, t.user.id);
      assert.equal(c.device.username, 'user');
      assert.equal(c.device.domain, t.domain);
      assert.equal(c.settings.domain, t.domain);
      assert.equal(c.settings.proxyAddress, s.app.config.sipAddress);
      assert.equal(c.settings.port, s.app.sip!.udpPort);
      assert.equal(c.settings.tlsPort, s.app.sip!.tlsPort);
      assert.match(c.settings.password, /^[2-9a-zA-Z]{4}(-[2-9a-zA-Z]{4}){3}$/);
      // The provisioning text carries what the phone needs, password included.
      const baresip = c.provisioning.find((p) => p.kind === 'baresip')!;
      assert.ok(baresip.text.includes(`<sip:user@${t.domain};transport=udp>`));
      assert.ok(baresip.text.includes(`auth_pass=${c.settings.password}`));
      assert.ok(
        baresip.text.includes(`outbound="sip:${c.settings.proxyAddress}:${c.settings.port};transport=udp"`),
      );
      const yealink = c.provisioning.find((p) => p.kind === 'yealink')!;
      assert.ok(yealink.text.includes(`account.1.password = ${c.settings.password}`));

      assert.ok(accepted(await register('user', c.settings.password, 'SHA-256')));
      assert.ok(accepted(await register('user', c.settings.password, 'MD5')));
      assert.equal(await register('user', 'not-the-password', 'SHA-256'), 403);

      // Listed without any secret; the database holds the HA1s and never the password.
      const list = (await s.http.get(`/api/users/${t.user.id}/sip-devices`, { token: t.admin.token }))
        .json as {
        items: SipDevice[];
      };
      assert.deepEqual(list.items, [c.device]);
      assert.ok(!JSON.stringify(list).includes(c.settings.password));
      const row = await s.app.storage.db
        .selectFrom('sip_devices')
        .selectAll()
        .where('id', '=', c.device.id)
        .executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(c.settings.password));
      assert.equal(row.ha1_md5, digestHa1('MD5', 'user', t.domain, c.settings.password));
      assert.equal(row.ha1_sha256, digestHa1('SHA-256', 'user', t.domain, c.settings.password));

      // The SIP edge's lookup names the device and its user.
      assert.deepEqual(await s.app.devices.lookup.deviceByUsername(t.domain.toUpperCase(), 'user'), {
        deviceId: c.device.id,
        tenantId: t.id,
        userId: t.user.id,
        name: 'Desk phone',
      });
      assert.equal(await s.app.devices.lookup.deviceByUsername(t.domain, 'nobody'), null);

      const audit = (await s.http.get('/api/audit', { token: t.admin.token })).json as {
        items: Array<{ action: string; target: string }>;
      };
      assert.ok(audit.items.some((e) => e.action === 'sip_device.create' && e.target === c.device.id));
      assert.ok(!JSON.stringify(audit).includes(c.settings.password));
    });

    test('user names: the address local part, then -2; a chosen one; a taken one is refused and nothing is stored', async () => {
      const u = await makeUser(s, t.id, `Carol.Smith+desk@${t.domain}`.toLowerCase());
      const first = (await add(u.id, {})).json as SipDeviceCredentials;
      const second = (await add(u.id, { name: 'Softphone' })).json as SipDeviceCredentials;
      assert.equal(first.device.username, 'carol.smith-desk');
      assert.equal(first.device.name, 'Desk phone');
      assert.equal(second.device.username, 'carol.smith-desk-2');
      const taken = await add(u.id, { username: 'Carol.Smith-Desk' });
      assert.equal(taken.status, 409);
      assert.deepEqual(taken.json, {
        error: {
          code: 'duplicate_sip_username',
          message: `carol.smith-desk@${t.domain} is already a device`,
          field: 'username',
        },
      });
      const chosen = await add(u.id, { username: 'reception-1' });
      assert.equal(chosen.status, 201);
      // The limit (PARLEY_SIP_DEVICES_PER_USER=3 here) is reached.
      const over = await add(u.id, {});
      assert.equal(over.status, 422);
      assert.equal((over.json as { error: { code: string } }).error.code, 'limit_exceeded');
      const list = (await s.http.get(`/api/users/${u.id}/sip-devices`, { token: t.admin.token })).json as {
        items: SipDevice[];
      };
      assert.deepEqual(
        list.items.map((d) => d.username),
        ['carol.smith-desk', 'carol.smith-desk-2', 'reception-1'],
      );
    });

    test('a chosen password must pass the strength rule; bad input gets a coded error with its field', async () => {
      const u = await makeUser(s, t.id, `dave@${t.domain}`, 'user', 'Dave Dixon');
      const weak = await add(u.id, { password: 'dave12345' });
      assert.equal(weak.status, 400);
      assert.equal((weak.json as { error: { code: string; field: string } }).error.code, 'weak_password');
      assert.equal((weak.json as { error: { field: string } }).error.field, 'password');
      const quote = await add(u.id, { password: 'tangerine"orbit;velvet' });
      assert.equal(quote.status, 400);
      assert.equal((quote.json as { error: { code: string } }).error.code, 'validation_failed');
      assert.equal((quote.json as { error: { field: string } }).error.field, 'body.password');
      const badName = await add(u.id, { username: '-dave' });
      assert.equal((badName.json as { error: { field: string } }).error.field, 'body.username');
      const extra = await add(u.id, { name: 'x', ha1: 'abc' });
      assert.equal(extra.status, 400);
      assert.deepEqual((await s.http.get(`/api/users/${u.id}/sip-devices`, { token: t.admin.token })).json, {
        items: [],
      });
      const good = await add(u.id, { password: 'tangerine-orbit-velvet-42' });
      assert.equal(good.status, 201);
      const c = good.json as SipDeviceCredentials;
      assert.equal(c.settings.password, 'tangerine-orbit-velvet-42');
      assert.ok(accepted(await register('dave', 'tangerine-orbit-velvet-42', 'MD5')));
    });

    test('reset: the new password works, the old one stops, the registrar is told; rename; remove', async () => {
      const u = await makeUser(s, t.id, `erin@${t.domain}`);
      const c = (await add(u.id, {})).json as SipDeviceCredentials;
      const old = c.settings.password;
      assert.ok(accepted(await register('erin', old)));
      assert.equal(s.app.registrations.ofDevice(c.device.id).length, 1);
      const reset = await s.http.post(
        `/api/sip-devices/${c.device.id}/password`,
        {},
        { token: t.admin.token },
      );
      assert.equal(reset.status, 200, reset.text);
      const fresh = (reset.json as SipDeviceCredentials).settings.password;
      assert.notEqual(fresh, old);
      assert.equal(await register('erin', old), 403);
      // The reset ended the old registration; the new password registers again.
      assert.equal(s.app.registrations.ofDevice(c.device.id).length, 0);
      assert.ok(accepted(await register('erin', fresh)));
      assert.equal(s.app.registrations.ofDevice(c.device.id).length, 1);
      assert.deepEqual(revoked.at(-1), {
        tenantId: t.id,
        userId: u.id,
        deviceId: c.device.id,
        reason: 'password_reset',
      });

      const renamed = await s.http.patch(
        `/api/sip-devices/${c.device.id}`,
        { name: 'Reception phone' },
        { token: t.admin.token },
      );
      assert.equal((renamed.json as SipDevice).name, 'Reception phone');

      const del = await s.http.request('DELETE', `/api/sip-devices/${c.device.id}`, undefined, {
        token: t.admin.token,
      });
      assert.equal(del.status, 204);
      assert.equal(s.app.registrations.ofDevice(c.device.id).length, 0);
      assert.equal(await register('erin', fresh), 403);
      assert.equal(revoked.at(-1)?.reason, 'removed');
      const again = await s.http.request('DELETE', `/api/sip-devices/${c.device.id}`, undefined, {
        token: t.admin.token,
      });
      assert.equal(again.status, 404);
      // The user name is free again.
      assert.equal(((await add(u.id, {})).json as SipDeviceCredentials).device.username, 'erin');
    });

    test("a disabled user's phone no longer authenticates; enabled again, it does", async () => {
      const u = await makeUser(s, t.id, `frank@${t.domain}`);
      const c = (await add(u.id, {})).json as SipDeviceCredentials;
      await s.app.directory.updateUser(trustedScope(t.id), u.id, { enabled: false });
      assert.equal(await register('frank', c.settings.password), 403);
      assert.equal(await s.app.devices.lookup.deviceByUsername(t.domain, 'frank'), null);
      await s.app.directory.updateUser(trustedScope(t.id), u.id, { enabled: true });
      assert.ok(accepted(await register('frank', c.settings.password)));
    });

    test('only tenant admins manage devices; another tenant sees none of them', async () => {
      const mine = await add(t.user.id, {}, t.user.token);
      assert.equal(mine.status, 403);
      const other = await makeTenant(s, 'others');
      const list = await s.http.get(`/api/users/${t.user.id}/sip-devices`, { token: other.admin.token });
      assert.equal(list.status, 404);
      // The same user name in another tenant's domain is another device.
      const theirs = (await add(other.user.id, {}, other.admin.token)).json as SipDeviceCredentials;
      assert.equal(theirs.device.username, 'user');
      assert.equal(await register('user', theirs.settings.password, 'SHA-256', t.domain), 403);
      assert.ok(accepted(await register('user', theirs.settings.password, 'SHA-256', other.domain)));
    });
  });
}
