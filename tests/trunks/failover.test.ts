/**
 * Issue 19, one carrier's several addresses and its health, with real SIP peers: SIPp as the
 * carrier's SBCs on 127.0.0.2 and 127.0.0.3, Alice in Chromium.
 * - Failover: the carrier's primary address (127.0.0.2) has nothing listening, its secondary
 *   (SIPp on 127.0.0.3) answers: Alice's call rings on the secondary once the primary has sent
 *   nothing for `trunkFailoverTimeout`, is answered there, and she hangs up.
 * - Health: with the OPTIONS check on and short intervals, a primary that does not answer is shown
 *   `down` in the operator's status (with the error in words), then `up` once a SIPp answering
 *   OPTIONS starts on its address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { until } from '../phones/until.ts';
import { freePort } from '../../packages/sip/test/sipp-harness.ts';
import { assertCarrierPassed, CARRIER_IP, setUpTrunk, startCarrier } from './sipp-carrier.ts';
import { completeRecord, hangUp, outboundSuite, placeCall } from './outbound-steps.ts';

const SECONDARY_IP = '127.0.0.3';

const suite = outboundSuite(() => ({
  trunkFailoverTimeout: 0.5,
  trunkOptionsInterval: 0.3,
  trunkOptionsDownAfter: 2,
  trunkOptionsUpAfter: 2,
}));

interface Status {
  items: Array<{
    carrierId: string;
    addresses: Array<{ host: string; port: number; state: string; lastError: string | null }>;
  }>;
}

test('the carrier’s primary address never answers: Alice’s call goes to its secondary and is answered there', async () => {
  const app = suite.server.web.app;
  const dead = await freePort(); // nothing listens there on 127.0.0.2
  const secondary = await startCarrier('uas-early-echo.xml', {
    ip: SECONDARY_IP,
    pauseMs: 500,
    keys: { session_expires: '1800' },
  });
  const trunk = await setUpTrunk(app, secondary.port, {
    addresses: [
      { host: CARRIER_IP, port: dead },
      { host: SECONDARY_IP, port: secondary.port },
    ],
    allow: [CARRIER_IP, SECONDARY_IP],
  });
  try {
    const a = await suite.page(demo.alice);
    const started = Date.now();
    const view = await placeCall(a);
    await view.getByRole('timer').waitFor({ timeout: 10_000 }); // answered (by the secondary)
    assert.ok(Date.now() - started >= 500, 'the primary had its failover timeout first');
    await hangUp(view);
    assertCarrierPassed(await secondary.done); // it got the INVITE, the ACK and the BYE
    const r = await completeRecord(suite);
    assert.equal(r.carrier, trunk.id);
    assert.equal(r.disposition, 'answered');
    assert.equal(r.sip_end_code, 200);
    assert.equal(app.trunkOutbound?.size, 0, 'no trunk leg is left');
  } finally {
    await setUpTrunk(app, secondary.port, { enabled: false });
  }
});

test('OPTIONS: a primary that does not answer shows down to the operator, then up once it answers', async () => {
  const app = suite.server.web.app;
  const port = await freePort();
  const trunk = await setUpTrunk(app, port, {
    name: 'Health Telecom',
    addresses: [{ host: CARRIER_IP, port }],
    healthCheck: true,
  });
  const op = await apiSession(suite.server.web, demo.operator.address, demo.operator.password);
  const primary = async () =>
    (await op.call<Status>('GET', '/api/operator/telephony/carriers/status')).items.find(
      (s) => s.carrierId === trunk.id,
    )!.addresses[0]!;
  try {
    const down = await until('the primary is down', primary, (s) => s.state === 'down', 10_000);
    assert.equal(down.host, CARRIER_IP);
    assert.equal(down.port, port);
    assert.match(down.lastError ?? '', /^(408: no answer to OPTIONS|unreachable)/);
    // The SBC comes back: SIPp answers OPTIONS on the primary's address.
    await startCarrier('uas-options.xml', { port, calls: 1000, timeoutMs: 30_000 });
    const up = await until('the primary is up again', primary, (s) => s.state === 'up', 10_000);
    assert.equal(up.lastError, null);
  } finally {
    await setUpTrunk(app, port, { name: 'Health Telecom', enabled: false });
  }
});
