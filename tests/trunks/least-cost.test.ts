/**
 * Issue 20, least-cost routing and failover across carriers, with real SIP peers: two SIPp carriers
 * with different cost decks, Cheap Telecom on 127.0.0.2 (0.03 a minute to the UK, but 0.01 to London,
 * its longest prefix for the number called) and Dear Telecom on 127.0.0.3 (0.02 to the UK), and Alice
 * in Chromium calling a London number.
 * - The cheaper carrier is used: Cheap answers (early media, then the answer), Alice hears her echo,
 *   Dear gets no INVITE.
 * - Cheap answers 503: the call fails over to Dear, which answers; Alice hears her echo.
 * - Cheap answers 486 (the callee is busy): no failover, Dear gets no INVITE, the call ends busy.
 * Each record names the carrier that carried the call and keeps the decision: both candidates with
 * their matched prefix, cost per minute and deck version, the one chosen, and why the other was not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { demo } from '../web/harness.ts';
import { hearsSound } from '../phones/browser-suite.ts';
import { waitForStats } from '../web/call-steps.ts';
import type { RouteDecision } from '../../packages/server/src/telephony/least-cost.ts';
import type { TrunkCarrier } from '../../packages/server/src/telephony/carriers.ts';
import {
  assertCarrierPassed,
  CALLED_E164,
  CALLED_TYPED,
  CARRIER_IP,
  setUpTrunk,
  startCarrier,
  type CarrierRun,
} from './sipp-carrier.ts';
import { completeRecord, dialFrom, hangUp, outboundSuite, placeCall } from './outbound-steps.ts';
import { assertNoInvite, costDeck } from './least-cost-steps.ts';

const DEAR_IP = '127.0.0.3';

const suite = outboundSuite();

let cheap: TrunkCarrier;
let dear: TrunkCarrier;
let alice: Page | undefined;
const page = async () => (alice ??= await suite.page(demo.alice));

async function pointTrunks(cheapRun: CarrierRun, dearRun: CarrierRun): Promise<void> {
  const app = suite.server.web.app;
  cheap = await setUpTrunk(app, cheapRun.port, { name: 'Cheap Telecom' });
  dear = await setUpTrunk(app, dearRun.port, {
    name: 'Dear Telecom',
    addresses: [{ host: DEAR_IP, port: dearRun.port }],
    allow: [DEAR_IP],
  });
}

let priced = false;

/** Both carriers' trunks pointed at this test's SIPp runs (their cost decks imported the first time). */
async function trunks(cheapRun: CarrierRun, dearRun: CarrierRun): Promise<void> {
  await pointTrunks(cheapRun, dearRun);
  if (priced) return;
  priced = true;
  const app = suite.server.web.app;
  await costDeck(app, cheap.id, 'Cheap Telecom costs', [
    '44,United Kingdom,domestic,0.0300,0,60,60',
    '4420,United Kingdom London,domestic,0.0100,0,60,60',
  ]);
  await costDeck(app, dear.id, 'Dear Telecom costs', ['44,United Kingdom,domestic,0.0200,0,60,60']);
}

/** Dear's SIPp, answering like Cheap's would (183 with early media, then 200, echoing). */
const answering = (ip: string) =>
  startCarrier('uas-early-echo.xml', { ip, pauseMs: 500, keys: { session_expires: '1800' } });

/** Alice's call rings with early media and is answered: she hears her echo, then hangs up. */
async function answeredCall(): Promise<void> {
  const a = await page();
  const view = await placeCall(a);
  await hearsSound(a, 'Alice (early media)');
  await view.getByRole('timer').waitFor({ timeout: 10_000 });
  const answered = await waitForStats(a, 'Alice: inbound audio', (s) => s.audioEnergy > 0);
  await waitForStats(
    a,
    'Alice hears her echo after the answer',
    (s) => s.audioEnergy > answered.audioEnergy + 0.01,
  );
  await hangUp(view);
}

/** The newest record, complete, and its routing decision. */
async function record() {
  const r = await completeRecord(suite);
  assert.ok(r.route_decision, 'the record keeps the routing decision');
  return { r, decision: JSON.parse(r.route_decision) as RouteDecision };
}

function assertCandidates(d: RouteDecision): void {
  assert.equal(d.e164, CALLED_E164);
  assert.deepEqual(
    d.candidates.map((c) => [c.name, c.prefix, c.costPerMinute, c.deck?.version]),
    [
      ['Cheap Telecom', '4420', '0.01', 1],
      ['Dear Telecom', '44', '0.02', 1],
    ],
    'the cheaper carrier (by its longest prefix) first',
  );
}

test('the cheaper carrier is used: Cheap Telecom answers, Dear Telecom gets no INVITE', async () => {
  const cheapRun = await answering(CARRIER_IP);
  const dearRun = await answering(DEAR_IP);
  await trunks(cheapRun, dearRun);
  await answeredCall();
  assertCarrierPassed(await cheapRun.done);
  await assertNoInvite(dearRun, 'Dear Telecom');
  const { r, decision } = await record();
  assert.equal(r.carrier, cheap.id);
  assert.equal(r.disposition, 'answered');
  assertCandidates(decision);
  assert.equal(decision.chosen, cheap.id);
  assert.deepEqual(decision.skipped, []);
});

test('Cheap Telecom answers 503: the call fails over to Dear Telecom and connects', async () => {
  const cheapRun = await startCarrier('uas-refuse.xml', {
    pauseMs: 300,
    fill: { CODE: '503', TEXT: 'Service Unavailable' },
  });
  const dearRun = await answering(DEAR_IP);
  await trunks(cheapRun, dearRun);
  await answeredCall();
  assertCarrierPassed(await cheapRun.done); // it sent its 503 and got the ACK
  assertCarrierPassed(await dearRun.done); // INVITE, ACK, BYE
  const { r, decision } = await record();
  assert.equal(r.carrier, dear.id, 'the record names the carrier that carried the call');
  assert.equal(r.disposition, 'answered');
  assert.equal(r.sip_end_code, 200);
  assertCandidates(decision);
  assert.equal(decision.chosen, dear.id);
  assert.deepEqual(decision.skipped, [
    { carrierId: cheap.id, name: 'Cheap Telecom', why: 'failed', detail: '503 Service Unavailable' },
  ]);
  assert.equal(suite.server.web.app.trunkOutbound?.inUse(cheap.id), 0);
  assert.equal(suite.server.web.app.trunkOutbound?.inUse(dear.id), 0);
});

test('Cheap Telecom answers 486: no failover, Dear Telecom gets no INVITE, Alice reads that the number is busy', async () => {
  const cheapRun = await startCarrier('uas-refuse.xml', {
    pauseMs: 300,
    fill: { CODE: '486', TEXT: 'Busy Here' },
  });
  const dearRun = await answering(DEAR_IP);
  await trunks(cheapRun, dearRun);
  const a = await page();
  assert.equal(await dialFrom(a, CALLED_TYPED), null);
  await a
    .getByText(`The call to ${CALLED_E164} did not go through. The number is busy.`)
    .first()
    .waitFor({ timeout: 10_000 });
  assertCarrierPassed(await cheapRun.done);
  await assertNoInvite(dearRun, 'Dear Telecom');
  const { r, decision } = await record();
  assert.equal(r.carrier, cheap.id);
  assert.equal(r.end_reason, 'busy');
  assert.equal(r.sip_end_code, 486);
  assertCandidates(decision);
  assert.equal(decision.chosen, cheap.id);
  assert.deepEqual(decision.skipped, []);
  assert.equal(suite.server.web.app.trunkOutbound?.size, 0, 'no trunk leg is left');
});
