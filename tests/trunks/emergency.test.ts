/**
 * Issue 20 item 4, emergency calls, against a SIPp carrier on 127.0.0.2 (uas-emergency.xml). Alice
 * (Chromium) holds no licence and no credit; she is at Contoso's "Head office" site (a civic address
 * a tenant admin keeps). She dials 999 on the dial pad: not an extension, not refused, it goes to
 * the carrier marked `emergency` (a cheaper carrier listed first, unmarked, is not used), with 999
 * as dialled in the Request-URI, her callback number (her DID) in P-Asserted-Identity, and her site's
 * address as RFC 6442 PIDF-LO (the carrier takes it: `pidfLo`), all checked by the carrier's scenario.
 * The call connects (her echo comes back), she hangs up. Nothing is billed: no reservation, no charge,
 * no ledger entry. Bob, another admin, sees the alert on his screen at once, and both admins get the
 * e-mail (a local smtp-server on 127.0.0.1) saying who called 999, when, and from where.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { demo } from '../web/harness.ts';
import { hearsSound } from '../phones/browser-suite.ts';
import { until } from '../phones/until.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';
import { ALICE_NUMBER, assertCarrierPassed, CARRIER_IP, setUpTrunk, startCarrier } from './sipp-carrier.ts';
import { completeRecord, dialFrom, hangUp, outboundSuite } from './outbound-steps.ts';

interface Mail {
  to: string[];
  raw: string;
}
const mails: Mail[] = [];
const smtp = new SMTPServer({
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      mails.push({
        to: session.envelope.rcptTo.map((r) => r.address),
        raw: Buffer.concat(chunks).toString('utf8'),
      });
      cb();
    });
  },
});
// The mail server is up before Parley starts (the suite's settings are read in its `before`).
const suite = outboundSuite(
  async () => {
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
    const port = (smtp.server.address() as AddressInfo).port;
    return { smtpUrl: `smtp://127.0.0.1:${port}`, mailRetries: 0 };
  },
  () => new Promise<void>((r) => smtp.close(() => r())),
);

/** A mail's text part as written (quoted-printable soft breaks and escapes undone). */
function mailText(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

test('an emergency call with no licence and no credit connects through the emergency carrier with PIDF-LO, is not billed, and the admins are alerted', async () => {
  const app = suite.server.web.app;
  const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
  const scope = trustedScope(tenant.id);
  const alice = (await app.directory.findUserRecordByAddress(demo.alice))!;
  const bob = (await app.directory.findUserRecordByAddress(demo.bob))!;
  await app.directory.updateUser(scope, bob.id, { role: 'admin' });

  // Her location: the Head office site, kept by an admin.
  const site = await app.emergency.createSite(scope, 'Head office', {
    country: 'GB',
    city: 'London',
    street: 'Example Street',
    houseNumber: '1',
    floor: '3',
    postalCode: 'SW1A 1AA',
  });
  await app.emergency.setLocation(scope, alice.id, { siteId: site.id, address: null });

  // A cheaper carrier first, not marked for emergency (nothing listens there), then the emergency one.
  await setUpTrunk(app, 9, {
    name: 'Cheap Telecom',
    addresses: [{ host: '127.0.0.3', port: 9 }],
    allow: ['127.0.0.3'],
  });
  // Over TCP: an INVITE with a location is larger than 1,300 bytes (RFC 3261 section 18.1.1).
  const carrier = await startCarrier('uas-emergency.xml', {
    timeoutMs: 60_000,
    transport: 'tcp',
    fill: { NUMBER: '999', CALLBACK: '\\+442079460018' },
  });
  const sos = await setUpTrunk(app, carrier.port, {
    name: 'Emergency Telecom',
    allow: [CARRIER_IP],
    transport: 'tcp',
    emergency: true,
    pidfLo: true,
  });

  // Alice has no licence and no credit: the trunk set-up gave Contoso's users calling and credit
  // (credit control is on every call out), so both are taken away again.
  const db = app.storage.db;
  for (const p of await db
    .selectFrom('billing_assignments')
    .select('plan_id')
    .where('user_id', '=', alice.id)
    .execute())
    await app.billing.plans.unassign(scope, alice.id, p.plan_id);
  const held = await db
    .selectFrom('billing_accounts')
    .select('balance_micros')
    .where('tenant_id', '=', tenant.id)
    .executeTakeFirst();
  if (Number(held?.balance_micros ?? 0) > 0)
    await app.billing.wallet.adjust(scope, -Number(held!.balance_micros), 'no credit for this test');
  const seats = await db
    .selectFrom('billing_assignments')
    .selectAll()
    .where('user_id', '=', alice.id)
    .execute();
  assert.equal(seats.length, 0, 'Alice holds no licence');
  const account = await db
    .selectFrom('billing_accounts')
    .select('balance_micros')
    .where('tenant_id', '=', tenant.id)
    .executeTakeFirst();
  assert.equal(Number(account?.balance_micros ?? 0), 0, 'Contoso has no credit');
  const ledgerBefore = (
    await db.selectFrom('billing_ledger').selectAll().where('tenant_id', '=', tenant.id).execute()
  ).length;

  const bobPage = await suite.page(demo.bob);
  const a = await suite.page(demo.alice);
  assert.equal(await dialFrom(a, '999'), null, 'the call is placed, not refused');
  const view = a.getByRole('region', { name: 'Call with 999' });
  await view.waitFor();
  await view.getByRole('timer').waitFor({ timeout: 15_000 });
  await hearsSound(a, 'Alice (emergency call)');

  // Bob, an admin, sees the alert at once, with who, which number, and where.
  const alerts = bobPage.getByRole('region', { name: 'Emergency call alerts' });
  await alerts.waitFor({ timeout: 10_000 });
  const words = await alerts.innerText();
  assert.match(
    words,
    /Alice Archer called the emergency number 999 at \d\d:\d\d UTC from Head office: Floor 3, 1 Example Street, London, SW1A 1AA, GB\./,
  );
  assert.match(words, new RegExp(`Callback number: \\${ALICE_NUMBER}`));

  await hangUp(view);
  assertCarrierPassed(await carrier.done);

  const r = await completeRecord(suite);
  assert.equal(r.callee_number, '999');
  assert.equal(r.carrier, sos.id, 'the emergency carrier took it');
  assert.equal(r.caller_number, ALICE_NUMBER);
  assert.equal(r.disposition, 'answered');

  // Never billed: nothing held, no charge, nothing in the ledger.
  const reservations = await db
    .selectFrom('billing_reservations')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .execute();
  assert.equal(reservations.length, 0, 'no reservation');
  const charged = await db
    .selectFrom('billing_rated_calls')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .where('amount_micros', '>', 0)
    .execute();
  assert.equal(charged.length, 0, 'no rated charge');
  const ledger = await db
    .selectFrom('billing_ledger')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .execute();
  assert.equal(ledger.length, ledgerBefore, 'nothing more in the ledger');

  // Both admins were told in their event logs, and by one e-mail.
  const events = await db
    .selectFrom('user_events')
    .select(['user_id', 'data'])
    .where('tenant_id', '=', tenant.id)
    .where('kind', '=', 'emergency.call')
    .execute();
  assert.deepEqual(events.map((e) => e.user_id).sort(), [alice.id, bob.id].sort());
  const mail = await until('the alert mail arrives', async () => mails[0], Boolean);
  assert.deepEqual(mail.to.sort(), [demo.alice, demo.bob].sort());
  const text = mailText(mail.raw);
  assert.match(text, /^Subject: Emergency call: Alice Archer called 999$/m);
  assert.match(text, /Alice Archer <alice@contoso\.example> called the emergency number 999\./);
  assert.match(text, /When: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
  assert.match(text, /Callback number given: \+442079460018/);
  assert.match(text, /Location sent: Head office: Floor 3, 1 Example Street, London, SW1A 1AA, GB/);
});

test("Bob's desk phone dials 112: the call connects with Contoso's callback number (he has none) and his location; the admins are told", async () => {
  const server = suite.server;
  const app = server.web.app;
  const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
  const scope = trustedScope(tenant.id);
  const bob = (await app.directory.findUserRecordByAddress(demo.bob))!;
  assert.equal(await app.telephony.numberOfUser(tenant.id, bob.id), null, 'Bob has no number');
  await app.emergency.setCallbackNumber(scope, '+442079460000');
  const site = (await app.emergency.listSites(scope)).find((x) => x.name === 'Head office')!;
  await app.emergency.setLocation(scope, bob.id, { siteId: site.id, address: null });
  const carrier = await startCarrier('uas-emergency.xml', {
    timeoutMs: 60_000,
    transport: 'tcp',
    fill: { NUMBER: '112', CALLBACK: '\\+442079460000' },
  });
  await setUpTrunk(app, carrier.port, {
    name: 'Emergency Telecom',
    allow: [CARRIER_IP],
    transport: 'tcp',
    emergency: true,
    pidfLo: true,
  });
  const before = mails.length;
  const phone = await server.phone('bob-sos', { device: await server.addDevice(demo.bob, 'bob-sos') });
  try {
    await phone.waitFor('REGISTER_OK');
    await phone.dial(`sip:112@${server.domain}`);
    await phone.waitFor('CALL_ESTABLISHED');
    await new Promise((r) => setTimeout(r, 1000));
    await phone.hangup();
    await phone.waitFor('CALL_CLOSED');
  } finally {
    await phone.stop();
  }
  assertCarrierPassed(await carrier.done);
  const r = await completeRecord(suite);
  assert.equal(r.callee_number, '112');
  assert.equal(r.disposition, 'answered');
  const mail = await until('the alert mail arrives', async () => mails[before], Boolean);
  const text = mailText(mail.raw);
  assert.match(text, /^Subject: Emergency call: Bob Baker called 112$/m);
  assert.match(text, /Callback number given: \+442079460000/);
  assert.match(text, /Location sent: Head office: Floor 3, 1 Example Street, London, SW1A 1AA, GB/);
});
