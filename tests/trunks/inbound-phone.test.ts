/**
 * A call from the phone network to a user whose desk phone is registered (no browser open): SIPp as
 * the carrier on 127.0.0.2 calls Bob's number with PCMA and plays Debian's g711a.pcap; Bob's baresip
 * rings showing the caller's number, answers (auto-answer), and the carrier's RTP is joined to the
 * phone's RTP server side (RTP to RTP; no WebRTC session is even offered, no browser being open):
 * the phone hears the caller. The carrier hangs
 * up; the phone's call closes, and the record says inbound with the phone's answer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demo } from '../web/harness.ts';
import { hear, SILENCE_DBFS } from '../phones/audio.ts';
import { startPhoneServer, type PhoneServer } from '../phones/parley.ts';
import { until } from '../phones/until.ts';
import { addCarrier, carrierCalls, passed, stopAll } from './sipp-inbound.ts';
import { endedRecord, noCallsLeft } from './inbound-steps.ts';

const CARRIER_IP = '127.0.0.2';
const BOB_NUMBER = '+442079460141';
const CALLER = '+447700900125';

let server: PhoneServer;
let carrierId = '';
before(async () => {
  server = await startPhoneServer();
  carrierId = await addCarrier(server.web, server.domain, {
    name: 'Carrier A',
    ip: CARRIER_IP,
    numbers: [BOB_NUMBER],
    users: { [BOB_NUMBER]: demo.bob },
  });
});
after(async () => {
  stopAll();
  await server?.close();
});

test('a carrier calls Bob’s number: his desk phone rings with the number, answers and hears the caller', async () => {
  const phone = await server.phone('bob', {
    device: await server.addDevice(demo.bob, 'bob-desk'),
    answer: 'auto',
    codecs: ['PCMA', 'PCMU'],
  });
  try {
    await phone.waitFor('REGISTER_OK');
    const run = await carrierCalls('answered-bye', {
      from: CARRIER_IP,
      port: server.port('udp'),
      to: BOB_NUMBER,
      caller: CALLER,
      pauseMs: 5000,
    });
    // Auto-answer: baresip's first call event is the established call, naming the caller.
    const established = await phone.waitFor('CALL_ESTABLISHED');
    assert.match(
      established.param ?? established.peeruri ?? '',
      /^sip:\+447700900125@/,
      'the phone shows the caller’s number',
    );
    assert.equal(server.web.app.mediaEndpoint.size, 0, 'no WebRTC session: only a phone rang');
    await until(
      'Bob’s phone hears the caller',
      async () =>
        (await hear(phone.recordings()[0]!.received).catch(() => undefined))?.loudestDbfs ?? -Infinity,
      (dbfs) => dbfs > SILENCE_DBFS,
    );
    await passed(run, 'the carrier’s call');
    await phone.waitFor('CALL_CLOSED');
    await noCallsLeft(server.web.app, 10_000);
    // The record's writes are chained after the call's end: wait for the last of them.
    const r = await endedRecord(server.web.app);
    assert.equal(r.direction, 'inbound');
    assert.equal(r.caller_number, CALLER);
    assert.equal(r.carrier, carrierId);
    assert.equal(r.carrier_codec, 'PCMA');
    assert.match(r.answer_device ?? '', /^sip\//, 'the desk phone answered');
    assert.equal(r.end_reason, 'hangup');
    assert.deepEqual([r.sip_end_code, r.sip_end_text], [200, 'BYE']);
  } finally {
    await phone.stop();
  }
});
