/**
 * Calls from the phone network (issue 18 item 4, inbound): SIPp plays a carrier on 127.0.0.2 whose
 * trunk the operator set up over HTTP (billing's carrier, its SIP side allow-listing 127.0.0.2) and
 * whose number +44 20 7946 0123 the tenant admin gave to Bob. The carrier calls the number with PCMA
 * first and plays Debian's g711a.pcap: Bob's browser rings showing the caller's number, he answers
 * and hears the audio (inbound energy grows); the carrier hangs up, or Bob does and the carrier gets
 * BYE; the caller presses a key (RFC 4733) and Bob sees it; the carrier gives up while it rings
 * (CANCEL); Bob declines (603); nobody answers (480). A number nobody has (404), one not given to a
 * user (404), Bob's number from another carrier (404) and an INVITE from 127.0.0.9, no carrier's
 * address (challenged, 407), ring nobody. Each call's record says inbound, the caller's number, the
 * carrier, the codecs and the SIP code that ended the carrier leg. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { ringing } from '../web/call-steps.ts';
import { hearsSound } from '../phones/browser-suite.ts';
import { addCarrier, carrierCalls, carrierRefused, DTMF_5_PCAP, passed } from './sipp-inbound.ts';
import { answer, inboundSuite, incomingCall } from './inbound-steps.ts';

const CARRIER_IP = '127.0.0.2';
const OTHER_CARRIER_IP = '127.0.0.3';
const BOB_NUMBER = '+442079460123';
const SPARE_NUMBER = '+442079460124';
const CALLER = '+447700900123';
/** The ring timeout (PARLEY_CALL_RING_TIMEOUT): short, so the unanswered call ends soon. */
const RING_S = 8;

let carrierId = '';
// The operator's carrier and numbers, Bob's number (once, in the first test: the suite's server is up).
const { suite, bob, call, lastRecord, endedRecord, noCallsLeft } = inboundSuite({
  settings: () => ({ callRingTimeout: RING_S }),
  carriers: async ({ web, domain }) => {
    carrierId = await addCarrier(web, domain, {
      name: 'Carrier A',
      ip: CARRIER_IP,
      numbers: [BOB_NUMBER, SPARE_NUMBER],
      users: { [BOB_NUMBER]: demo.bob },
    });
    // Another carrier, which must not ring Carrier A's numbers.
    await addCarrier(web, domain, { name: 'Carrier B', ip: OTHER_CARRIER_IP, numbers: [] });
  },
  call: { from: CARRIER_IP, to: BOB_NUMBER, caller: CALLER },
});

test('a carrier calls Bob’s number with PCMA: his browser rings with the number, he answers and hears it; the carrier hangs up', async () => {
  const b = await bob();
  const run = await carrierCalls('answered-bye', call({ pauseMs: 6000 }));
  const incoming = await incomingCall(b, CALLER);
  assert.equal(await ringing(b), true, 'the browser rings');
  const view = await answer(b, CALLER, incoming);
  await hearsSound(b, 'Bob');
  await passed(run, 'the carrier’s call');
  await view.waitFor({ state: 'detached' });
  const r = await endedRecord();
  assert.equal(r.direction, 'inbound');
  assert.equal(r.caller_number, CALLER);
  assert.equal(r.caller_user_id, null);
  assert.equal(r.callee_user_id, await (await apiSession(suite.server.web, demo.bob)).userId);
  assert.equal(r.carrier, carrierId);
  assert.equal(r.carrier_codec, 'PCMA');
  assert.equal(r.user_codec, 'PCMA', 'the carrier’s PCMA passes through to the browser');
  assert.equal(r.end_reason, 'hangup');
  assert.equal(r.ended_by, null, 'the caller, a number, hung up');
  assert.deepEqual([r.sip_end_code, r.sip_end_text], [200, 'BYE']);
  await noCallsLeft();
});

test('Bob hangs up an inbound call: the carrier gets BYE', async () => {
  const b = await bob();
  const run = await carrierCalls('answered-wait', call());
  const view = await answer(b, CALLER);
  await hearsSound(b, 'Bob');
  await view.getByRole('button', { name: 'Hang up' }).click();
  await passed(run, 'the carrier’s call (BYE from Parley)');
  const r = await endedRecord();
  assert.equal(r.end_reason, 'hangup');
  assert.equal(r.ended_by, r.callee_user_id);
  assert.equal(r.sip_end_code, 200);
  await noCallsLeft();
});

test('the caller presses 5 (RFC 4733 from the carrier): Bob’s call view shows the key', async () => {
  const b = await bob();
  const run = await carrierCalls('answered-bye', call({ pcap: DTMF_5_PCAP, pauseMs: 4000 }));
  const view = await answer(b, CALLER);
  await view.getByText('Keys pressed by the other side: 5', { exact: true }).waitFor({ timeout: 10_000 });
  await passed(run, 'the carrier’s call with a key press');
  await view.waitFor({ state: 'detached' });
  await noCallsLeft();
});

test('the carrier cancels while Bob’s browser rings: it stops ringing, the carrier gets 487', async () => {
  const b = await bob();
  const run = await carrierCalls('cancel', call({ pauseMs: 1500 }));
  const incoming = await incomingCall(b, CALLER);
  await passed(run, 'the carrier’s CANCEL');
  await incoming.waitFor({ state: 'detached' });
  const r = await endedRecord();
  assert.equal(r.end_reason, 'cancelled');
  assert.equal(r.sip_end_code, 487);
  await noCallsLeft();
});

test('a CANCEL racing Bob’s answer changes nothing: the call is up until the carrier’s BYE', async () => {
  const b = await bob();
  const run = await carrierCalls('cancel-race', call({ pauseMs: 1500 }));
  const view = await answer(b, CALLER);
  await passed(run, 'the carrier’s late CANCEL, then BYE');
  await view.waitFor({ state: 'detached' });
  const r = await endedRecord();
  assert.ok(r.answered_at !== null, 'answered');
  assert.equal(r.end_reason, 'hangup', 'ended by the BYE, not the CANCEL');
  assert.deepEqual([r.sip_end_code, r.sip_end_text], [200, 'BYE']);
  await noCallsLeft();
});

test('a call to Bob’s number in national form (02079460123) rings him; he declines: the carrier gets 603', async () => {
  const b = await bob();
  // Carrier A is the operator's: a national number is read in the country of its numbers (GB).
  const run = await carrierRefused(603, call({ to: '02079460123' }));
  const incoming = await incomingCall(b, CALLER);
  await incoming.getByRole('button', { name: /^Decline/ }).click();
  await passed(run, 'the carrier’s call declined');
  const r = await endedRecord();
  assert.equal(r.end_reason, 'declined');
  assert.deepEqual([r.sip_end_code, r.sip_end_text], [603, 'Decline']);
  await noCallsLeft();
});

test('nobody answers: after the ring timeout the carrier gets 480', async () => {
  const b = await bob();
  const run = await carrierRefused(480, call());
  const incoming = await incomingCall(b, CALLER);
  await passed(run, 'the carrier’s unanswered call');
  await incoming.waitFor({ state: 'detached' });
  const r = await endedRecord();
  assert.equal(r.end_reason, 'no_answer');
  assert.deepEqual([r.sip_end_code, r.sip_end_text], [480, 'Temporarily Unavailable']);
  assert.ok(r.ended_at! - r.placed_at >= (RING_S - 1) * 1000, 'it rang for the ring timeout');
  await noCallsLeft();
});

test('numbers nobody has, and INVITEs from no carrier’s address, ring nobody', async () => {
  const b = await bob();
  const before = await lastRecord().catch(() => null);
  // Not in the inventory; in it but given to no user; Bob's number from 127.0.0.9 (no carrier's),
  // and from Carrier B (the number is Carrier A's).
  await passed(await carrierRefused(404, call({ to: '+442079460999' })), 'an unknown number');
  await passed(await carrierRefused(404, call({ to: SPARE_NUMBER })), 'a number with no user');
  await passed(await carrierRefused(407, call({ from: '127.0.0.9' })), 'an unknown source');
  await passed(await carrierRefused(404, call({ from: OTHER_CARRIER_IP })), 'another carrier’s number');
  assert.equal(await ringing(b), false, 'Bob’s browser never rang');
  assert.equal(await b.getByRole('alertdialog').count(), 0, 'no incoming call was shown');
  const after = await lastRecord().catch(() => null);
  assert.equal(after?.call_id, before?.call_id, 'no call was placed');
  await noCallsLeft();
});
