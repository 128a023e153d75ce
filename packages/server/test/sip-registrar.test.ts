/**
 * The registrar at the running server (issue 16 item 2): a phone registers with digest SHA-256 or
 * MD5 in its tenant's realm and becomes one of its user's devices (reachable in presence, listed by
 * `contactsOf` with the flow it came on); several contacts, 423 with Min-Expires, a too long
 * expiry shortened, un-REGISTER by Expires 0 and by `*`, another device's address-of-record
 * refused, out-of-order refreshes refused, and a binding lapsing on the injected clock.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@parley/sip';
import { registrarSetup } from './helpers/registrar-setup.ts';
import type { RegistrationChange } from '../src/sip/registrations.ts';

const expiresOf = (c: string) => Number(/;expires=(\d+)/.exec(c)?.[1]);

describe('SIP registrar', () => {
  for (const algorithm of ['SHA-256', 'MD5'] as const) {
    test(`a phone registers with digest ${algorithm}: 200 lists its contact, contactsOf has the flow, presence has the device`, async () => {
      const r = await registrarSetup();
      try {
        const changes: RegistrationChange[] = [];
        r.s.app.registrations.onChange((c) => changes.push(c));
        const phone = await r.phone();
        const ok = await phone.register({ algorithm, expires: 600 });
        assert.equal(ok.status, 200);
        const contacts = ok.getAll('contact');
        assert.equal(contacts.length, 1);
        assert.ok(contacts[0]!.startsWith(`<sip:desk@127.0.0.3:${phone.port}>`), contacts[0]);
        assert.ok(expiresOf(contacts[0]!) >= 599 && expiresOf(contacts[0]!) <= 600);
        const bindings = r.s.app.registrations.contactsOf(r.t.id, r.t.user.id);
        assert.equal(bindings.length, 1);
        const b = bindings[0]!;
        assert.equal(b.deviceId, 'dev-desk');
        assert.equal(b.contact, `sip:desk@127.0.0.3:${phone.port}`);
        assert.deepEqual(
          { ...b.flow },
          { protocol: 'UDP', address: '127.0.0.3', port: phone.port },
          'the source address and port (rport)',
        );
        assert.equal(b.aor, `sip:desk@${r.t.domain}`);
        assert.deepEqual(
          changes.map((c) => c.type),
          ['added'],
        );
        assert.equal(
          r.s.app.presence.get(r.t.user.id).availability,
          'available',
          'the phone makes Bob reachable',
        );
        assert.deepEqual(r.s.app.registrations.contactsOf(r.t.id, r.t.admin.id), [], 'nobody else');
        // A refresh keeps the binding (same id), with a new expiry.
        const again = await phone.register({ algorithm, expires: 300 });
        assert.equal(again.status, 200);
        assert.ok(expiresOf(again.get('contact')!) <= 300);
        assert.equal(r.s.app.registrations.contactsOf(r.t.id, r.t.user.id)[0]!.bindingId, b.bindingId);
        assert.deepEqual(
          changes.map((c) => c.type),
          ['added', 'refreshed'],
        );
      } finally {
        await r.close();
      }
    });
  }

  test('PARLEY_SIP_DIGEST_ALGORITHMS orders the challenges: MD5 first for phones that read only the first', async () => {
    const r = await registrarSetup({ sipDigestAlgorithms: 'MD5' });
    try {
      const phone = await r.phone();
      await assert.rejects(phone.register({ algorithm: 'SHA-256' }), /no SHA-256 challenge/);
      assert.equal((await phone.register({ algorithm: 'MD5' })).status, 200);
    } finally {
      await r.close();
    }
  });

  test('a wrong password gets 403 and binds nothing; To naming another device gets 403', async () => {
    const r = await registrarSetup();
    try {
      const phone = await r.phone();
      assert.equal((await phone.register({ password: 'wrong' })).status, 403);
      const other = await phone.register({ to: `other@${r.t.domain}` });
      assert.equal(other.status, 403, 'desk may not bind the address-of-record of other');
      assert.equal(r.s.app.registrations.size, 0);
      assert.equal(r.s.app.presence.get(r.t.user.id).availability, 'offline');
    } finally {
      await r.close();
    }
  });

  test('423 Interval Too Brief with Min-Expires; a too long expiry is shortened to the maximum', async () => {
    const r = await registrarSetup({ sipRegisterMinExpires: 120, sipRegisterMaxExpires: 1800 });
    try {
      const phone = await r.phone();
      const brief = await phone.register({ expires: 30 });
      assert.equal(brief.status, 423);
      assert.equal(brief.get('min-expires'), '120');
      assert.equal(r.s.app.registrations.size, 0);
      const brief2 = await phone.register({ contacts: [`${phone.contact};expires=119`] });
      assert.equal(brief2.status, 423, 'the contact parameter counts too');
      const long = await phone.register({ expires: 86_400 });
      assert.equal(long.status, 200);
      assert.ok(expiresOf(long.get('contact')!) <= 1800 && expiresOf(long.get('contact')!) >= 1799);
    } finally {
      await r.close();
    }
  });

  test('several contacts; Expires 0 removes one; Contact * with Expires 0 removes all; * without Expires 0 is 400', async () => {
    const r = await registrarSetup();
    try {
      const phone = await r.phone();
      const a = `<sip:desk@127.0.0.3:5071>`;
      const b = `<sip:desk@127.0.0.3:5072>`;
      const c = `<sip:desk@127.0.0.3:5073>;q=0.5`;
      const ok = await phone.register({ contacts: [a, b, c], expires: 600 });
      assert.equal(ok.status, 200);
      assert.equal(ok.values('contact').length, 3);
      const list = () =>
        r.s.app.registrations
          .contactsOf(r.t.id, r.t.user.id)
          .map((x) => x.contact)
          .sort();
      assert.deepEqual(list(), [
        'sip:desk@127.0.0.3:5071',
        'sip:desk@127.0.0.3:5072',
        'sip:desk@127.0.0.3:5073',
      ]);
      assert.equal(
        r.s.app.registrations.contactsOf(r.t.id, r.t.user.id).find((x) => x.contact.endsWith('5073'))!.q,
        0.5,
      );
      const one = await phone.register({ contacts: [`${b};expires=0`] });
      assert.equal(one.status, 200);
      assert.equal(one.values('contact').length, 2, 'the 200 lists what is left');
      assert.deepEqual(list(), ['sip:desk@127.0.0.3:5071', 'sip:desk@127.0.0.3:5073']);
      const twice = await phone.register({ contacts: [a, `${a};expires=900`] });
      assert.equal(twice.status, 200, 'one URI twice in a request is one binding');
      assert.ok(
        expiresOf(twice.values('contact').find((x) => x.includes(':5071'))!) > 600,
        'the last counts',
      );
      const query = await phone.register({ contacts: [] });
      assert.equal(query.status, 200);
      assert.equal(query.values('contact').length, 2, 'a REGISTER without Contact lists the bindings');
      assert.equal((await phone.register({ contacts: '*' })).status, 400, '* needs Expires: 0');
      assert.equal((await phone.register({ contacts: '*', expires: 0 })).status, 200);
      assert.deepEqual(list(), []);
      assert.equal(r.s.app.presence.get(r.t.user.id).availability, 'offline');
    } finally {
      await r.close();
    }
  });

  test('a phone back on another port with the same +sip.instance replaces its old contact (RFC 5626)', async () => {
    const r = await registrarSetup();
    try {
      const changes: RegistrationChange[] = [];
      r.s.app.registrations.onChange((c) => changes.push(c));
      const phone = await r.phone();
      const inst = '+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>"';
      assert.equal((await phone.register({ contacts: [`<sip:desk@127.0.0.3:5091>;${inst}`] })).status, 200);
      const ok = await phone.register({
        contacts: [`<sip:desk@127.0.0.3:5092>;${inst}`],
        callId: 'rebooted',
      });
      assert.equal(ok.status, 200);
      assert.deepEqual(
        r.s.app.registrations.all().map((b) => b.contact),
        ['sip:desk@127.0.0.3:5092'],
      );
      const removed = changes.find((c) => c.type === 'removed');
      assert.equal(removed?.type === 'removed' && removed.reason, 'replaced');
    } finally {
      await r.close();
    }
  });

  test('an out-of-order refresh (same Call-ID, lower CSeq) is refused; another Call-ID replaces', async () => {
    const r = await registrarSetup();
    try {
      const phone = await r.phone();
      assert.equal((await phone.register({ expires: 600 })).status, 200);
      const stored = r.s.app.registrations.all()[0]!.cseq;
      const stale = await phone.register({ expires: 900, cseq: stored });
      assert.equal(stale.status, 500, 'the same CSeq again is out of order');
      assert.ok(r.s.app.registrations.all()[0]!.expiresAt < Date.now() + 700_000, 'unchanged');
      const newer = await phone.register({ expires: 600 });
      assert.equal(newer.status, 200, 'a higher CSeq refreshes');
      const other = await phone.register({ expires: 600, callId: 'another-call-id' });
      assert.equal(other.status, 200, 'a new Call-ID (the phone rebooted) updates the binding');
      assert.equal(r.s.app.registrations.size, 1);
      assert.equal(r.s.app.registrations.all()[0]!.callId, 'another-call-id');
    } finally {
      await r.close();
    }
  });

  test('more contacts than PARLEY_SIP_REGISTER_MAX_CONTACTS get 403 and change nothing', async () => {
    const r = await registrarSetup({ sipRegisterMaxContacts: 2 });
    try {
      const phone = await r.phone();
      const cs = [5081, 5082, 5083].map((p) => `<sip:desk@127.0.0.3:${p}>`);
      assert.equal((await phone.register({ contacts: cs, expires: 600 })).status, 403);
      assert.equal(r.s.app.registrations.size, 0);
      assert.equal((await phone.register({ contacts: cs.slice(0, 2), expires: 600 })).status, 200);
      assert.equal(r.s.app.registrations.size, 2);
    } finally {
      await r.close();
    }
  });

  test('a binding lapses at its expiry: it leaves contactsOf with reason expired, and the user goes offline', async () => {
    const clock = new FakeClock();
    const base = Date.now();
    const r = await registrarSetup({}, { clock, now: () => base + clock.now() });
    try {
      const changes: RegistrationChange[] = [];
      r.s.app.registrations.onChange((c) => changes.push(c));
      const phone = await r.phone();
      assert.equal((await phone.register({ expires: 60 })).status, 200);
      clock.advance(59_999);
      assert.equal(r.s.app.registrations.contactsOf(r.t.id, r.t.user.id).length, 1, 'not yet');
      clock.advance(1);
      assert.deepEqual(r.s.app.registrations.contactsOf(r.t.id, r.t.user.id), []);
      const last = changes.at(-1)!;
      assert.equal(last.type, 'removed');
      assert.equal(last.type === 'removed' && last.reason, 'expired');
      assert.equal(r.s.app.presence.get(r.t.user.id).availability, 'offline');
    } finally {
      await r.close();
    }
  });
});
