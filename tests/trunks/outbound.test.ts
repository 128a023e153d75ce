/**
 * Issue 18, calls out to the phone network: Alice (Chromium, fake microphone) dials a number as a GB
 * user types it (`020 7946 0999`); Contoso's dial plan makes it +442079460999 and Parley, as a
 * B2BUA, places its own INVITE on the carrier, SIPp on 127.0.0.2, which answers 183 with SDP (early
 * media), then 200, and echoes the RTP it receives (`-rtp_echo`): Alice hears her own microphone
 * come back before the answer (the early media) and after it. The carrier's scenario checks what
 * Parley sent: PCMU first (the carrier's codec order), her number as caller ID, and the carrier's
 * Record-Route carried back on the ACK and the BYE. The call record says outbound, both numbers,
 * what was typed, the carrier, the codecs and the SIP end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { hearsSound } from '../phones/browser-suite.ts';
import { until } from '../phones/until.ts';
import { hear, SILENCE_DBFS } from '../phones/audio.ts';
import {
  ALICE_NUMBER,
  assertCarrierPassed,
  CALLED_E164,
  CALLED_TYPED,
  setUpTrunk,
  startCarrier,
} from './sipp-carrier.ts';
import {
  completeRecord,
  earlyMediaEchoCall,
  lastRecord,
  outboundSuite,
  placeCall,
} from './outbound-steps.ts';

const suite = outboundSuite();

test('Alice dials a number: early media reach her before the answer, the carrier echoes her voice, she hangs up', async () => {
  const trunk = await earlyMediaEchoCall(suite, await suite.page(demo.alice), 'Alice', 4000);
  const app = suite.server.web.app;
  const r = await completeRecord(suite);
  assert.equal(r.direction, 'outbound');
  assert.equal(r.caller_number, ALICE_NUMBER);
  assert.equal(r.callee_number, CALLED_E164);
  assert.equal(r.callee_number_typed, CALLED_TYPED);
  assert.equal(r.callee_user_id, null);
  assert.equal(r.carrier, trunk.id);
  assert.equal(r.carrier_codec, 'PCMU');
  assert.equal(r.user_codec, 'PCMU', 'G.711 passes through: the browser leg uses the carrier’s codec');
  assert.equal(r.sip_end_code, 200);
  assert.equal(r.end_reason, 'hangup');
  assert.equal(r.disposition, 'answered');
  assert.equal(app.trunkOutbound?.size, 0, 'no trunk leg is left');
  assert.equal(app.trunkOutbound?.inUse(trunk.id), 0, 'the channel is free again');
  assert.ok(app.calls.idle, 'call control holds nothing');
});

test('the called party hangs up: the carrier’s re-INVITE and UPDATE are answered in the call, then its BYE ends it for Alice', async () => {
  const carrier = await startCarrier('uas-refresh-bye.xml', { pauseMs: 8000 });
  await setUpTrunk(suite.server.web.app, carrier.port, { codecs: ['PCMA', 'PCMU'] });
  const a = await suite.page(demo.alice);
  const view = await placeCall(a, '+44 20 7946 0999');
  await view.getByRole('timer').waitFor({ timeout: 10_000 });
  // PCMA from the carrier: the browser's leg is answered PCMA too, so it passes through.
  await hearsSound(a, 'Alice (PCMA carrier)');
  assertCarrierPassed(await carrier.done);
  await view.waitFor({ state: 'detached', timeout: 5_000 });
  await a.getByText(`Call with ${CALLED_E164} ended.`).first().waitFor();
  const r = await completeRecord(suite);
  assert.equal(r.end_reason, 'hangup');
  assert.equal(r.ended_by, null, 'ended by the number, not by Alice');
  assert.equal(r.carrier_codec, 'PCMA');
  assert.equal(r.user_codec, 'PCMA', 'the browser leg takes the carrier’s G.711: no conversion');
  assert.equal(r.sip_end_code, 200);
  assert.equal(r.sip_end_text, 'BYE from the carrier');
  assert.equal(r.callee_number_typed, '+44 20 7946 0999');
});

test('Alice’s desk phone dials a national number: early media and the carrier’s echo reach it, and its hang-up reaches the carrier as BYE', async () => {
  const carrier = await startCarrier('uas-early-echo.xml', {
    pauseMs: 5000,
    keys: { session_expires: '1800' },
  });
  await setUpTrunk(suite.server.web.app, carrier.port);
  const phone = await suite.server.phone('alice-desk', {
    device: await suite.server.addDevice(demo.alice, 'alice-desk'),
  });
  try {
    await phone.waitFor('REGISTER_OK');
    await phone.dial(`sip:02079460999@${suite.server.domain}`);
    await phone.waitFor('CALL_PROGRESS'); // our 183 with SDP: the carrier's early media
    await until(
      'the phone hears its own speech back from the carrier before the answer',
      async () =>
        (await hear(phone.recordings()[0]!.received).catch(() => undefined))?.loudestDbfs ?? -Infinity,
      (dbfs) => dbfs > SILENCE_DBFS,
    );
    assert.equal((await lastRecord(suite)).answered_at, null, 'heard while the number still rings');
    assert.equal(suite.server.web.app.mediaEndpoint.size, 0, 'no WebRTC session: no browser takes part');
    await phone.waitFor('CALL_ESTABLISHED');
    await phone.hangup();
    await phone.waitFor('CALL_CLOSED');
    assertCarrierPassed(await carrier.done);
    const r = await completeRecord(suite);
    assert.equal(r.direction, 'outbound');
    assert.equal(r.callee_number, CALLED_E164);
    assert.equal(r.callee_number_typed, '02079460999');
    assert.equal(r.caller_number, ALICE_NUMBER);
    assert.equal(r.carrier_codec, 'PCMU');
    assert.equal(r.end_reason, 'hangup');
    assert.equal(suite.server.web.app.trunkOutbound?.size, 0);
  } finally {
    await phone.stop();
  }
});
