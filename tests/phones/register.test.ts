/**
 * Issue 16: baresip (Debian) as a desk phone registers with Parley's registrar (RFC 3261 section 10)
 * with digest, over UDP and over TLS. Registered, Bob is reachable: Alice, who has no other way to
 * know, sees him Available, and the registrar holds one binding per phone on the flow it came on (the
 * phone's own port, the transport it used). A phone that quits un-registers (Expires 0) and drops out;
 * with neither left Bob is Offline again. A wrong password is refused with 403 and binds nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { startPhoneServer, type PhoneServer } from './parley.ts';
import type { Binding } from '../../packages/server/src/sip/registrations.ts';
import { until } from './until.ts';

let server: PhoneServer;

before(async () => {
  server = await startPhoneServer();
});
after(async () => {
  await server?.close();
});

test('baresip registers with digest over UDP and TLS: Bob is Available, a binding per phone; quitting un-registers', async () => {
  const alice = await apiSession(server.web, demo.alice);
  const bobId = await alice.idOf(demo.bob);
  const bobSeen = () =>
    alice.call<{ availability: string }>('GET', `/api/presence/${bobId}`).then((p) => p.availability);
  assert.equal(await bobSeen(), 'offline', 'Bob has no device yet');

  const desk = await server.addDevice(demo.bob, 'bob-desk');
  const soft = await server.addDevice(demo.bob, 'bob-soft');
  const contacts = () => server.web.app.registrations.contactsOf(desk.tenantId, desk.userId);

  const udp = await server.phone('bob-desk', { device: desk, transport: 'udp' });
  await udp.waitFor('REGISTER_OK');
  const [first] = contacts();
  assert.ok(first, 'one binding');
  assert.equal(first.deviceId, desk.deviceId);
  assert.equal(first.aor, `sip:bob-desk@${desk.domain}`);
  assert.deepEqual(
    [first.flow.protocol, first.flow.address, first.flow.port],
    ['UDP', '127.0.0.1', udp.sipPort],
    'reached where the REGISTER came from',
  );
  await until('Alice sees Bob', bobSeen, (a) => a === 'available');

  const tls = await server.phone('bob-soft', { device: soft, transport: 'tls' });
  await tls.waitFor('REGISTER_OK');
  const both = contacts();
  assert.equal(both.length, 2, 'two phones, two bindings');
  const overTls = both.find((b: Binding) => b.deviceId === soft.deviceId);
  assert.equal(overTls?.flow.protocol, 'TLS');
  assert.match(overTls?.contact ?? '', /transport=tls/i);

  // Quitting sends REGISTER with Expires 0 (RFC 3261 section 10.2.2): the binding goes at once.
  await udp.stop();
  await until(
    'the desk phone un-registered',
    () => contacts().map((b) => b.deviceId),
    (ids) => ids.join() === soft.deviceId,
  );
  assert.equal(await bobSeen(), 'available', 'the TLS phone still makes Bob reachable');
  await tls.stop();
  await until(
    'no binding left',
    () => contacts().length,
    (n) => n === 0,
  );
  await until('Bob is Offline again', bobSeen, (a) => a === 'offline');
});

test('a wrong password is refused with 403 and binds nothing', async () => {
  const device = await server.addDevice(demo.carol, 'carol-desk');
  const phone = await server.phone('carol-desk', { device, password: 'not-the-password' });
  const fail = await phone.waitFor('REGISTER_FAIL');
  assert.match(fail.param ?? '', /^403\b/);
  assert.equal(server.web.app.registrations.contactsOf(device.tenantId, device.userId).length, 0);
  await phone.stop();
});
