/**
 * Session timers on a call out (RFC 4028), with Parley as the refresher: SIPp as the carrier on
 * 127.0.0.2 shortens the timer Parley asked for to 90 s (the smallest allowed) with refresher=uac,
 * so within 45 s Parley must refresh it with an UPDATE (the carrier allows UPDATE), and the call goes
 * on past the point where an unrefreshed session would have been ended. Alice's baresip desk phone
 * places the call (no browser needed); this test waits about 50 s by design.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { startPhoneServer, type PhoneServer } from '../phones/parley.ts';
import { assertCarrierPassed, setUpTrunk, startCarrier, stopAll } from './sipp-carrier.ts';
import { completeRecord } from './outbound-steps.ts';

let server: PhoneServer;
before(async () => {
  server = await startPhoneServer();
});
after(async () => {
  stopAll();
  await server?.close();
});

test('Parley refreshes a 90 s session timer with UPDATE before it lapses, and the call goes on', async () => {
  const carrier = await startCarrier('uas-timer-uac.xml', { timeoutMs: 90_000 });
  await setUpTrunk(server.web.app, carrier.port);
  const phone = await server.phone('alice-timer', {
    device: await server.addDevice(demo.alice, 'alice-timer'),
  });
  try {
    await phone.waitFor('REGISTER_OK');
    await phone.dial(`sip:+442079460999@${server.domain}`);
    await phone.waitFor('CALL_ESTABLISHED');
    // Past half the interval (45 s) the UPDATE has gone; the call is still up.
    await new Promise((r) => setTimeout(r, 50_000));
    assert.equal(carrier.run.child.exitCode, null, 'the carrier still holds the call');
    assert.equal(server.web.app.calls.size, 1, 'the call is still up');
    await phone.hangup();
    await phone.waitFor('CALL_CLOSED');
    assertCarrierPassed(await carrier.done);
    const r = await completeRecord({ server }, (r) => r.ended_at !== null);
    assert.equal(r.end_reason, 'hangup');
  } finally {
    await phone.stop();
  }
});
