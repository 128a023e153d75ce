/**
 * Issue 17: two baresip desk phones call each other through Parley with the media on a real rtpengine
 * daemon (`PARLEY_MEDIA=rtpengine`). The calling phone's leg starts paired with a WebRTC offer that no
 * browser takes; once the callee answers it moves into the callee's rtpengine call (phone-media-
 * rtpengine.ts). Both phones hear each other, Bob's digits reach Carol, nothing is left on either driver.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import { startPhoneServer, TONE_HZ, type PhoneServer } from './parley.ts';
import { rtpengineSetup, type RtpengineSetup } from './rtpengine.ts';
import { until } from './until.ts';

let server: PhoneServer;
let engine: RtpengineSetup;

before(async () => {
  engine = await rtpengineSetup();
  server = await startPhoneServer(engine.settings);
});
after(async () => {
  await server?.close();
  await engine?.node.stop();
});

test('on rtpengine: Bob’s phone calls Carol’s by extension; both hear each other, digits cross, nothing left over', async () => {
  const alice = await apiSession(server.web, demo.alice);
  const carolId = await alice.idOf(demo.carol);
  await alice.call('PUT', `/api/users/${carolId}/extension`, { extension: '203' });
  const bob = await server.phone('bob', { device: await server.addDevice(demo.bob, 'bob-desk') });
  const carol = await server.phone('carol', {
    device: await server.addDevice(demo.carol, 'carol-desk'),
    sound: 'tone',
  });
  await bob.waitFor('REGISTER_OK');
  await carol.waitFor('REGISTER_OK');

  await bob.dial(`sip:203@${server.domain}`);
  await carol.waitFor('CALL_INCOMING');
  await carol.accept();
  await bob.waitFor('CALL_ESTABLISHED');
  await carol.waitFor('CALL_ESTABLISHED');
  assert.equal(server.web.app.phoneMedia.rtp.size, 0, 'no RTP leg in Parley: rtpengine carries both');
  assert.equal(server.web.app.rtpengine!.nodes[0]!.legs.size, 2, 'both phones in one rtpengine call');
  await bob.waitFor('CALL_RTPESTAB');
  await carol.waitFor('CALL_RTPESTAB');

  await bob.sendDigits('42#');
  const digits: string[] = [];
  for (let i = 0; i < 3; i++) digits.push((await carol.waitFor('CALL_DTMF_START')).param ?? '');
  assert.deepEqual(digits, ['4', '2', '#'], 'Bob’s digits reach Carol’s phone in order');

  await until(
    'Bob hears Carol’s tone',
    async () =>
      (await hear(bob.recordings()[0]!.received, TONE_HZ).catch(() => undefined))?.toneAmplitude ?? 0,
    (a) => a > 0.2,
  );
  await carol.hangup();
  await carol.waitFor('CALL_CLOSED');
  await bob.waitFor('CALL_CLOSED');
  await until(
    'rtpengine legs closed',
    async () => server.web.app.rtpengine!.nodes[0]!.legs.size,
    (n) => n === 0,
  );

  const carolHeard = await hear(carol.recordings()[0]!.received, TONE_HZ);
  assert.ok(
    carolHeard.loudestDbfs > SILENCE_DBFS,
    `Carol hears Bob (${carolHeard.loudestDbfs.toFixed(1)} dBFS)`,
  );
  assert.ok(carolHeard.toneAmplitude! < 0.05, `not her own tone (${carolHeard.toneAmplitude})`);
});
