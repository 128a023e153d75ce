/**
 * Issue 19, registration trunks, inbound: a carrier that knows us by account sends its calls to the
 * contact we registered. SIPp on 127.0.0.2 is the carrier: its registrar challenges Parley's REGISTER
 * and grants the one with the account's credentials, keeping the Contact it carried; then, from the
 * registrar's address, it calls that contact (Request-URI the registered Contact URI, To the number
 * called, as such carriers send it). The number's user, Bob, has the web app open: his browser rings
 * with the caller's number, he answers and hears the carrier's audio, the carrier gets 200, ACKs,
 * and hangs up with BYE. The same contact called from 127.0.0.3 (not the registrar) is challenged
 * (407) as any unknown source, and nobody rings.
 */
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { ringing } from '../web/call-steps.ts';
import { browserSuite, hearsSound } from '../phones/browser-suite.ts';
import { contactUser } from '../../packages/server/src/telephony/trunk-registration.ts';
import { CARRIER_IP, startCarrier, stopAll as stopCarriers, type CarrierRun } from './sipp-carrier.ts';
import { carrierRefused, G711A_PCAP, passed, stopAll as stopCallers } from './sipp-inbound.ts';
import { answer, endedRecord, incomingCall, lastRecord, noCallsLeft } from './inbound-steps.ts';

const OTHER_IP = '127.0.0.3';
const BOB_NUMBER = '+442079460123';
const CALLER = '+447700900123';

const suite = browserSuite(
  () => ({ trunkRegisterRetryMin: 30 }),
  async () => {
    stopCarriers();
    stopCallers();
  },
);

let carrierId = '';
/** Bob's page (opened in the first test, before the trunk registers). */
let bobPage: Page | undefined;

/**
 * The operator's carrier with Bob's number (given him by Alice, the tenant admin), then, once Bob's
 * page is open, its trunk set to register with `registrar`: Parley registers at once.
 */
async function registrationTrunk(registrar: CarrierRun) {
  const { web, domain } = suite.server;
  const op = await apiSession(web, demo.operator.address, demo.operator.password);
  ({ id: carrierId } = await op.call<{ id: string }>('POST', '/api/operator/billing/carriers', {
    name: 'Reg Voice',
  }));
  const tenant = await web.app.directory.findTenantByDomain(domain);
  await op.call('POST', '/api/operator/telephony/numbers', {
    number: BOB_NUMBER,
    carrierId,
    tenantId: tenant!.id,
  });
  const admin = await apiSession(web, demo.alice);
  await admin.call('PUT', `/api/telephony/numbers/${encodeURIComponent(BOB_NUMBER)}/user`, {
    userId: await admin.idOf(demo.bob),
  });
  const bob = (bobPage = await suite.page(demo.bob));
  await op.call('PUT', `/api/operator/telephony/carriers/${carrierId}`, {
    addresses: [{ host: CARRIER_IP, port: registrar.port }],
    allow: [],
    // SIPp plays one scenario: an OPTIONS ping would be an unexpected message to it.
    healthCheck: false,
    auth: 'register',
    registration: {
      registrar: { host: CARRIER_IP, port: registrar.port },
      username: 'acct',
      password: 'account-password',
    },
  });
  return bob;
}

test('the carrier calls the contact Parley registered: Bob’s browser rings, he answers and hears it; the carrier hangs up', async () => {
  const registrar = await startCarrier('uas-registrar-call.xml', {
    fill: { EXPIRES: '3600' },
    keys: { number: BOB_NUMBER, caller: CALLER, pcap: G711A_PCAP },
    pauseMs: 5000,
    timeoutMs: 60_000,
  });
  const b = await registrationTrunk(registrar);
  const incoming = await incomingCall(b, CALLER);
  assert.equal(await ringing(b), true, 'Bob’s browser rings');
  const view = await answer(b, CALLER, incoming);
  await hearsSound(b, 'Bob');
  const sipp = await registrar.done;
  assert.equal(sipp.code, 0, `the carrier's scenario failed:\n${sipp.errors}`);
  assert.equal(sipp.stats['SuccessfulCall(C)'], '1');
  await view.waitFor({ state: 'detached' });
  const app = suite.server.web.app;
  const r = await endedRecord(app);
  assert.equal(r.direction, 'inbound');
  assert.equal(r.carrier, carrierId, 'the call is the registration trunk’s');
  assert.equal(r.caller_number, CALLER);
  assert.equal(r.callee_user_id, await (await apiSession(suite.server.web, demo.bob)).userId);
  assert.deepEqual([r.sip_end_code, r.sip_end_text], [200, 'BYE']);
  await noCallsLeft(app);
});

test('the same contact called from 127.0.0.3, not the registrar, is challenged (407) and rings nobody', async () => {
  const app = suite.server.web.app;
  const b = bobPage ?? (await suite.page(demo.bob));
  const trunk = (await app.telephony.listTrunks()).find((t) => t.id === carrierId)!;
  const before = await lastRecord(app).catch(() => null);
  const run = await carrierRefused(407, {
    from: OTHER_IP,
    port: suite.server.port('udp'),
    to: contactUser(trunk),
    caller: CALLER,
  });
  await passed(run, 'a call to the registered contact from elsewhere');
  assert.equal(await ringing(b), false, 'Bob’s browser never rang');
  assert.equal(await b.getByRole('alertdialog').count(), 0, 'no incoming call was shown');
  const after = await lastRecord(app).catch(() => null);
  assert.equal(after?.call_id, before?.call_id, 'no call was placed');
  await noCallsLeft(app);
});
