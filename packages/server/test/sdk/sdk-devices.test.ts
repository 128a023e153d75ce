/**
 * The SDK's SIP device and extension calls (what the admin screens use) against a real server: each
 * call reaches its route and its answer has the protocol's shape; a refusal is a ParleyError with its
 * code and field.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ParleyClient, ParleyError } from '@parley/sdk';
import { makeTenant, startServer, type TenantFixture, type TestServer } from '../helpers/server.ts';

describe('SDK SIP device and extension calls', () => {
  let s: TestServer;
  let t: TenantFixture;
  let admin: ParleyClient;
  before(async () => {
    s = await startServer('sqlite');
    t = await makeTenant(s, 'sdkphones');
    admin = new ParleyClient({ baseUrl: s.url });
    admin.useTokens({ accessToken: t.admin.token, expiresIn: 900 });
  });
  after(() => s.close());

  test('add, list, rename, reset the password, remove', async () => {
    const added = await admin.admin.addSipDevice(t.user.id, { name: 'Desk phone' });
    assert.equal(added.device.username, 'user');
    assert.equal(added.settings.port, s.app.sip!.udpPort);
    const listed = await admin.admin.sipDevices(t.user.id);
    assert.deepEqual(listed.items, [added.device]);
    const renamed = await admin.admin.renameSipDevice(added.device.id, 'Reception');
    assert.equal(renamed.name, 'Reception');
    const chosen = await admin.admin.resetSipPassword(added.device.id, 'marble-comet-harbour-17');
    assert.equal(chosen.settings.password, 'marble-comet-harbour-17');
    const generated = await admin.admin.resetSipPassword(added.device.id);
    assert.notEqual(generated.settings.password, 'marble-comet-harbour-17');
    await admin.admin.removeSipDevice(added.device.id);
    assert.deepEqual((await admin.admin.sipDevices(t.user.id)).items, []);
    await assert.rejects(
      admin.admin.removeSipDevice(added.device.id),
      (e: unknown) => e instanceof ParleyError && e.code === 'not_found',
    );
  });

  test('set, read, list and clear extensions; a taken number is duplicate_extension on its field', async () => {
    assert.deepEqual(await admin.admin.setExtension(t.user.id, '3001'), {
      userId: t.user.id,
      extension: '3001',
    });
    assert.equal((await admin.admin.extensionOf(t.user.id)).extension, '3001');
    await assert.rejects(
      admin.admin.setExtension(t.admin.id, '3001'),
      (e: unknown) => e instanceof ParleyError && e.code === 'duplicate_extension' && e.field === 'extension',
    );
    assert.deepEqual(
      (await admin.admin.extensions()).items.map((e) => [e.extension, e.userId]),
      [['3001', t.user.id]],
    );
    await admin.admin.clearExtension(t.user.id);
    assert.equal((await admin.admin.extensionOf(t.user.id)).extension, null);
  });
});
