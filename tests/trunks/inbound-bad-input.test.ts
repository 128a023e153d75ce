/**
 * What carriers send beyond the plain call (issue 18, "Bad input"), with SIPp as the carriers:
 * a late offer (no SDP in the INVITE: the 200 offers, the ACK answers, the audio arrives);
 * odd caller IDs (withheld, named); malformed INVITEs (415, 488); compact headers and a session timer asked for in the INVITE (granted, the carrier refreshing),
 * a re-INVITE and an UPDATE refreshing the session (answered 200, the call goes on); an INVITE
 * retransmitted before any answer rings once; a trunk at its channel limit answers 503 with
 * Retry-After; a user already in a call is busy (486); and a flood from one carrier's address is throttled (503) while another carrier's
 * call still rings Bob.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { ringing } from '../web/call-steps.ts';
import { hearsSound } from '../phones/browser-suite.ts';
import { addCarrier, carrierCalls, carrierRefused, passed } from './sipp-inbound.ts';
import { answer, inboundSuite, incomingCall } from './inbound-steps.ts';

const FLOODER_IP = '127.0.0.2';
const CARRIER_IP = '127.0.0.3';
const LIMITED_IP = '127.0.0.4';
const BOB_NUMBER = '+442079460131';
const FLOODED_NUMBER = '+442079460132';
const LIMITED_NUMBER = '+442079460133';
const CALLER = '+447700900124';
/** Carrier requests per second and burst per address (PARLEY_SIP_CARRIER_RATE / _BURST): small. */
const RATE = 20;

const { suite, bob, call, endedRecord, noCallsLeft } = inboundSuite({
  // One call per user (PARLEY_CALL_MAX_PER_USER): a second call to Bob while one rings is busy.
  settings: () => ({
    sipCarrierRate: RATE,
    sipCarrierBurst: RATE,
    callRingTimeout: 20,
    callMaxPerUser: 1,
  }),
  carriers: async ({ web, domain }) => {
    await addCarrier(web, domain, { name: 'Carrier Flood', ip: FLOODER_IP, numbers: [FLOODED_NUMBER] });
    await addCarrier(web, domain, {
      name: 'Carrier Good',
      ip: CARRIER_IP,
      numbers: [BOB_NUMBER],
      users: { [BOB_NUMBER]: demo.bob },
    });
    await addCarrier(web, domain, {
      name: 'Carrier Small',
      ip: LIMITED_IP,
      numbers: [LIMITED_NUMBER],
      users: { [LIMITED_NUMBER]: demo.bob },
      channelLimit: 1,
    });
  },
  call: { from: CARRIER_IP, to: BOB_NUMBER, caller: CALLER },
});

test('compact headers and a session timer; a re-INVITE and an UPDATE refresh the call, which goes on', async () => {
  const b = await bob();
  const run = await carrierCalls('compact', call({ pauseMs: 1500 }));
  const view = await answer(b, CALLER);
  // SIPp checks the 200 granted Session-Expires 90 (refresher uac) and both refreshes got 200.
  await passed(run, 'the carrier’s compact call with refreshes');
  await view.waitFor({ state: 'detached' });
  await noCallsLeft();
});

test('a late offer (INVITE without SDP): the 200 offers, the ACK answers PCMA, Bob hears the caller', async () => {
  const b = await bob();
  const run = await carrierCalls('late-offer', call());
  const view = await answer(b, CALLER);
  await hearsSound(b, 'Bob');
  await view.getByRole('button', { name: 'Hang up' }).click();
  await passed(run, 'the late-offer carrier’s call');
  await noCallsLeft();
  const r = await endedRecord((row) => row.sip_end_code !== null, 'the record has its end code');
  assert.equal(r.carrier_codec, 'PCMA', 'the codec of the ACK’s answer');
  assert.equal(r.sip_end_code, 200);
});

test('odd caller IDs: a withheld caller rings as Unknown caller, a named one by name', async () => {
  const b = await bob();
  for (const [caller, callerName, shown] of [
    ['anonymous', 'Anonymous', 'Unknown caller'],
    ['+447700900128', 'Acme Ltd', 'Acme Ltd'],
  ] as const) {
    const run = await carrierRefused(603, call({ caller, callerName }));
    const incoming = await incomingCall(b, shown);
    await incoming.getByRole('button', { name: /^Decline/ }).click();
    await passed(run, `the call from ${caller}`);
    await noCallsLeft();
  }
});

test('malformed INVITEs get their RFC answer and ring nobody: a body that is no SDP 415, SDP without audio 488', async () => {
  const b = await bob();
  await passed(
    await carrierRefused(415, call(), [], (x) =>
      x.replace('Content-Type: application/sdp', 'Content-Type: text/plain'),
    ),
    'a text/plain body',
  );
  await passed(
    await carrierRefused(488, call(), [], (x) =>
      x.replace('m=audio [media_port] RTP/AVP 8 0 101', 'm=video [media_port] RTP/AVP 96'),
    ),
    'SDP without audio',
  );
  assert.equal(await ringing(b), false, 'Bob’s browser never rang');
  await noCallsLeft();
});

test('an INVITE retransmitted before any answer rings Bob once', async () => {
  const b = await bob();
  const run = await carrierCalls('retransmit', call());
  const incoming = await incomingCall(b, CALLER);
  await new Promise((ok) => setTimeout(ok, 500));
  assert.equal(suite.server.web.app.calls.size, 1, 'one call');
  assert.equal(suite.server.web.app.trunkInbound?.size, 1, 'one carrier leg');
  assert.equal(await b.getByRole('alertdialog').count(), 1, 'one incoming call shown');
  await incoming.getByRole('button', { name: /^Decline/ }).click();
  await passed(run, 'the retransmitting carrier’s call');
  await noCallsLeft();
});

test('a trunk at its channel limit answers 503 with Retry-After', async () => {
  const b = await bob();
  const first = await carrierCalls('cancel', call({ from: LIMITED_IP, to: LIMITED_NUMBER, pauseMs: 4000 }));
  await incomingCall(b, CALLER);
  await passed(
    await carrierRefused(503, call({ from: LIMITED_IP, to: LIMITED_NUMBER })),
    'the second call on a one-channel trunk',
  );
  await passed(first, 'the first call, cancelled');
  await noCallsLeft();
});

test('Bob already has a call: a second carrier call gets 486 Busy Here', async () => {
  const b = await bob();
  const first = await carrierCalls('cancel', call({ pauseMs: 4000 }));
  await incomingCall(b, CALLER);
  await passed(await carrierRefused(486, call({ caller: '+447700900126' })), 'the second call');
  await passed(first, 'the first call, cancelled');
  await noCallsLeft();
});

test('a flood from one carrier address is throttled; another carrier’s call still rings Bob', async () => {
  const b = await bob();
  const policy = suite.server.web.app.sip!.peers;
  const overRate = policy.stats.carrierOverRate;
  // 400 calls at 200 a second to a number nobody has: far over the carrier's 20 a second.
  const flood = await carrierRefused(404, call({ from: FLOODER_IP, to: FLOODED_NUMBER }), [
    '-r',
    '200',
    '-m',
    '400',
    '-l',
    '400',
  ]);
  await new Promise((ok) => setTimeout(ok, 500));
  const run = await carrierRefused(603, call());
  const incoming = await incomingCall(b, CALLER);
  assert.equal(await ringing(b), true, 'Bob’s browser rings during the flood');
  await incoming.getByRole('button', { name: /^Decline/ }).click();
  await passed(run, 'the other carrier’s call');
  await flood.result();
  assert.ok(policy.stats.carrierOverRate > overRate, 'the flood was answered 503 beyond its rate');
  await noCallsLeft();
});
