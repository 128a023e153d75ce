/**
 * Issue 16: two baresip desk phones call each other through Parley. Bob's phone dials Carol's extension
 * (203, given by Alice, the tenant admin); Parley authenticates the INVITE by digest, finds Carol by her
 * extension and rings her registered phone; she answers; the media are anchored in Parley (each phone's
 * SDP names Parley's address, not the other phone's); digits Bob types reach Carol's phone as RFC 4733
 * events; Carol shows "In a call" to Alice while it lasts; each phone's recording holds the other's
 * sound (Bob speaks, Carol's phone plays a 600 Hz tone); Carol hangs up and Bob's phone is told.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import { startPhoneServer, TONE_HZ, type PhoneServer } from './parley.ts';
import { until } from './until.ts';

let server: PhoneServer;

before(async () => {
  server = await startPhoneServer();
});
after(async () => {
  await server?.close();
});

test('Bob’s phone calls Carol’s by extension through Parley: ring, answer, digits, both hear each other, hang up', async () => {
  const alice = await apiSession(server.web, demo.alice);
  const carolId = await alice.idOf(demo.carol);
  await alice.call('PUT', `/api/users/${carolId}/extension`, { extension: '203' });
  const carolSeen = () =>
    alice.call<{ activity: string }>('GET', `/api/presence/${carolId}`).then((p) => p.activity);

  const bob = await server.phone('bob', { device: await server.addDevice(demo.bob, 'bob-desk') });
  const carol = await server.phone('carol', {
    device: await server.addDevice(demo.carol, 'carol-desk'),
    transport: 'tls',
    sound: 'tone',
  });
  await bob.waitFor('REGISTER_OK');
  await carol.waitFor('REGISTER_OK');

  await bob.dial(`sip:203@${server.domain}`);
  const incoming = await carol.waitFor('CALL_INCOMING');
  assert.match(incoming.peeruri ?? '', /@contoso\.example/, 'the call comes from Parley for Carol’s address');
  await carol.accept();
  await bob.waitFor('CALL_ESTABLISHED');
  await carol.waitFor('CALL_ESTABLISHED');
  await bob.waitFor('CALL_RTPESTAB');
  await carol.waitFor('CALL_RTPESTAB');
  await until('Carol is In a call', carolSeen, (a) => a === 'in_a_call');

  await bob.sendDigits('42#');
  const digits: string[] = [];
  for (let i = 0; i < 3; i++) digits.push((await carol.waitFor('CALL_DTMF_START')).param ?? '');
  assert.deepEqual(digits, ['4', '2', '#'], 'Bob’s digits reach Carol’s phone in order');

  await carol.hangup();
  await carol.waitFor('CALL_CLOSED');
  await bob.waitFor('CALL_CLOSED');
  await until('Carol is no longer in a call', carolSeen, (a) => a === 'none');

  const carolHeard = await hear(carol.recordings()[0]!.received, TONE_HZ);
  const bobHeard = await hear(bob.recordings()[0]!.received, TONE_HZ);
  assert.ok(
    carolHeard.loudestDbfs > SILENCE_DBFS,
    `Carol hears Bob (${carolHeard.loudestDbfs.toFixed(1)} dBFS)`,
  );
  assert.ok(carolHeard.toneAmplitude! < 0.05, `not her own tone (${carolHeard.toneAmplitude})`);
  assert.ok(
    bobHeard.toneAmplitude! > 0.2,
    `Bob hears Carol’s ${TONE_HZ} Hz tone (${bobHeard.toneAmplitude})`,
  );
});
