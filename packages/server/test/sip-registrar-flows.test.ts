/**
 * Registrations and the flows they came on (issue 16 items 2 and 5): a restart keeps a binding (on
 * SQLite and PostgreSQL) and the phone is reached again; OPTIONS keep-alive keeps an answering phone
 * and removes a silent one (it drops out of presence); over TCP and TLS the keep-alive reaches the
 * phone on the connection it registered on, CRLF pings are answered, and a phone whose connection is
 * gone is removed at the next probe.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { engines } from './helpers/server.ts';
import { registrarSetup } from './helpers/registrar-setup.ts';
import type { RegistrationChange } from '../src/sip/registrations.ts';

const options = (p: { requests: Array<{ request: { method: string } }> }) =>
  p.requests.filter((r) => r.request.method === 'OPTIONS').length;

describe('SIP registrations across restarts and flows', () => {
  for (const engine of engines) {
    test(`${engine}: a restart keeps the binding, its user reachable, and the phone answers the new server`, async () => {
      const r = await registrarSetup({}, undefined, engine);
      try {
        const phone = await r.phone();
        assert.equal((await phone.register({ expires: 600 })).status, 200);
        const before = r.s.app.registrations.contactsOf(r.t.id, r.t.user.id);
        assert.equal(before.length, 1);
        await r.restart();
        const after = r.s.app.registrations.contactsOf(r.t.id, r.t.user.id);
        assert.equal(after.length, 1, 'reloaded from storage');
        const { connectionId: _c, ...flow } = before[0]!.flow;
        assert.deepEqual(
          { ...after[0]!, flow: { ...after[0]!.flow } },
          { ...before[0]!, flow },
          'the same binding, flow and expiry',
        );
        assert.equal(r.s.app.presence.get(r.t.user.id).availability, 'available');
        assert.equal(await r.s.app.sip!.keepAlive!.probe(after[0]!), true, 'the phone is reached');
        assert.equal(options(phone), 1);
        // A refresh after the restart is the same binding (same Call-ID, higher CSeq).
        assert.equal((await phone.register({ expires: 600 })).status, 200);
        assert.equal(r.s.app.registrations.all()[0]!.bindingId, before[0]!.bindingId);
      } finally {
        await r.close();
      }
    });
  }

  test('an unregistered binding is gone after a restart too', async () => {
    const r = await registrarSetup();
    try {
      const phone = await r.phone();
      assert.equal((await phone.register({ expires: 600 })).status, 200);
      assert.equal((await phone.register({ expires: 0 })).status, 200);
      await r.restart();
      assert.equal(r.s.app.registrations.size, 0);
      assert.equal(r.s.app.presence.get(r.t.user.id).availability, 'offline');
    } finally {
      await r.close();
    }
  });

  test('OPTIONS keep-alive: an answering phone stays; one that stops answering is removed and leaves presence', async () => {
    const r = await registrarSetup({ sipKeepAliveMs: 150, sipKeepAliveTimeoutMs: 400 });
    try {
      const changes: RegistrationChange[] = [];
      r.s.app.registrations.onChange((c) => changes.push(c));
      const phone = await r.phone();
      assert.equal((await phone.register({ expires: 600 })).status, 200);
      assert.ok(await phone.until(() => options(phone) >= 3), 'probes arrive');
      assert.equal(r.s.app.registrations.size, 1, 'answered: kept');
      const req = phone.requests.find((x) => x.request.method === 'OPTIONS')!.request;
      assert.equal(req.uriText, `sip:desk@127.0.0.3:${phone.port}`, 'sent to the contact');
      phone.answering = false;
      assert.ok(await phone.until(() => r.s.app.registrations.size === 0, 5000), 'removed');
      const last = changes.at(-1)!;
      assert.equal(last.type === 'removed' && last.reason, 'unreachable');
      assert.equal(r.s.app.presence.get(r.t.user.id).availability, 'offline');
    } finally {
      await r.close();
    }
  });

  for (const protocol of ['TCP', 'TLS'] as const) {
    test(`${protocol}: the binding keeps the connection; keep-alives come on it; CRLF is answered; a closed connection is removed`, async () => {
      const r = await registrarSetup({ sipKeepAliveMs: 150, sipKeepAliveTimeoutMs: 2000 });
      try {
        const phone = await r.phone({ protocol });
        const ok = await phone.register({ expires: 600 });
        assert.equal(ok.status, 200);
        const b = r.s.app.registrations.contactsOf(r.t.id, r.t.user.id)[0]!;
        assert.equal(b.flow.protocol, protocol);
        assert.equal(b.flow.port, phone.port);
        assert.ok(b.flow.connectionId !== undefined, 'the connection is part of the flow');
        assert.ok(await phone.until(() => options(phone) >= 2));
        assert.ok(
          phone.requests.every((x) => x.connection === 1),
          'every request came on the connection the phone registered on',
        );
        phone.ping();
        assert.ok(await phone.until(() => phone.pongs >= 1), 'CRLF keep-alive answered');
        phone.disconnect();
        assert.ok(await phone.until(() => r.s.app.registrations.size === 0, 5000), 'removed');
      } finally {
        await r.close();
      }
    });
  }
});
