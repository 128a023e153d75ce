/**
 * Issue 18, calls out that do not connect, with SIPp as the carrier on 127.0.0.2 and Alice in
 * Chromium: a busy number (486) and a carrier out of service (503) end the call with a sentence that
 * says why (trunk-codes.ts's words, shown by the web app); a number that does not exist (404) too;
 * Alice hanging up while it rings sends CANCEL (the carrier answers 487); a 200 racing that CANCEL
 * is ACKed and ended with BYE; a carrier at its channel limit takes no more calls (busy). Each
 * record keeps the SIP code and reason phrase.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { demo } from '../web/harness.ts';
import { assertCarrierPassed, CALLED_E164, CALLED_TYPED, setUpTrunk, startCarrier } from './sipp-carrier.ts';
import { completeRecord, dialFrom, hangUp, lastRecord, outboundSuite, placeCall } from './outbound-steps.ts';

const suite = outboundSuite();

let alice: Page | undefined;
async function page(): Promise<Page> {
  return (alice ??= await suite.page(demo.alice));
}

async function refusedWith(code: string, text: string, sentence: string): Promise<void> {
  const carrier = await startCarrier('uas-refuse.xml', { pauseMs: 500, fill: { CODE: code, TEXT: text } });
  await setUpTrunk(suite.server.web.app, carrier.port);
  const a = await page();
  assert.equal(await dialFrom(a, CALLED_TYPED), null);
  await a.getByText(sentence).first().waitFor({ timeout: 10_000 });
  await a.getByRole('region', { name: `Call with ${CALLED_E164}` }).waitFor({ state: 'detached' });
  assertCarrierPassed(await carrier.done);
  const r = await completeRecord(suite, (r) => r.ended_at !== null);
  assert.equal(r.sip_end_code, Number(code));
  assert.equal(r.sip_end_text, text);
  assert.equal(r.direction, 'outbound');
  assert.equal(r.answered_at, null);
  assert.equal(suite.server.web.app.trunkOutbound?.size, 0, 'no trunk leg is left');
}

test('a busy number (486): Alice reads that the number is busy', async () => {
  await refusedWith('486', 'Busy Here', `The call to ${CALLED_E164} did not go through. The number is busy.`);
  assert.equal((await lastRecord(suite)).end_reason, 'busy');
});

test('the carrier is out of service (503): Alice reads that the phone network is not taking calls', async () => {
  await refusedWith(
    '503',
    'Service Unavailable',
    `The call to ${CALLED_E164} did not go through. The phone network is not taking calls right now.`,
  );
  assert.equal((await lastRecord(suite)).end_reason, 'failed');
});

test('a number that does not exist (404)', async () => {
  await refusedWith(
    '404',
    'Not Found',
    `The call to ${CALLED_E164} did not go through. That number does not exist.`,
  );
});

test('Alice hangs up while the number rings: the carrier gets CANCEL', async () => {
  const carrier = await startCarrier('uas-ring-cancel.xml');
  await setUpTrunk(suite.server.web.app, carrier.port);
  const a = await page();
  const view = await placeCall(a);
  await a.waitForTimeout(1000); // the carrier's 180 has come
  await hangUp(view);
  assertCarrierPassed(await carrier.done);
  const r = await completeRecord(suite, (r) => r.ended_at !== null);
  assert.equal(r.end_reason, 'cancelled');
  assert.equal(r.sip_end_code, 487);
  assert.equal(suite.server.web.app.trunkOutbound?.size, 0);
});

test('a 200 crossing Alice’s CANCEL is ACKed, then ended with BYE', async () => {
  const carrier = await startCarrier('uas-cancel-race.xml');
  await setUpTrunk(suite.server.web.app, carrier.port);
  const a = await page();
  const view = await placeCall(a);
  await a.waitForTimeout(1000);
  await hangUp(view);
  assertCarrierPassed(await carrier.done); // it got the ACK and the BYE
  const r = await completeRecord(suite, (r) => r.ended_at !== null);
  assert.equal(r.end_reason, 'cancelled');
  assert.equal(r.answered_at, null, 'the call was never answered for Alice');
});

test('a carrier at its channel limit takes no more calls: the second call ends busy, and never reaches it', async () => {
  const carrier = await startCarrier('uas-ring-cancel.xml');
  const trunk = await setUpTrunk(suite.server.web.app, carrier.port, { channelLimit: 1 });
  try {
    const a = await page();
    const view = await placeCall(a);
    assert.equal(suite.server.web.app.trunkOutbound?.inUse(trunk.id), 1);
    // Bob tries while Alice's call holds the only channel.
    const b = await suite.page(demo.bob);
    await dialFrom(b, '+44 20 7946 0777', { wait: false });
    await b
      .getByText(`The call to +442079460777 did not go through. Every line to the phone network is in use.`)
      .first()
      .waitFor({ timeout: 10_000 });
    await hangUp(view);
    assertCarrierPassed(await carrier.done);
    assert.equal(suite.server.web.app.trunkOutbound?.inUse(trunk.id), 0);
  } finally {
    await setUpTrunk(suite.server.web.app, carrier.port, { channelLimit: null });
  }
});
