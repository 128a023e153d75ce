/**
 * Issue 17 item 2 on rtpengine (`PARLEY_MEDIA=rtpengine`, a real daemon on free ports): G.722 between
 * two phones. rtpengine forwards the codecs the phones offer (the ringing phone's offer is made from the
 * calling phone's), so two G.722 phones talk G.722 through it untouched, and a G.722 phone calling a
 * G.711-only phone ends up on G.711; audio both ways (energy, and Carol's tone at Bob), no RTP leg in
 * Parley. The embedded driver's twin is g722-phones.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import { startPhoneServer, TONE_HZ, type PhoneServer } from './parley.ts';
import type { Baresip } from './baresip.ts';
import { rtpengineSetup, type RtpengineSetup } from './rtpengine.ts';

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

/** The codec a phone's audio encodes (baresip's `audio_debug` names it). */
async function encoding(phone: Baresip): Promise<string> {
  const text = await phone.command('audio_debug');
  return /G722/.test(text) ? 'G722' : /PCMU/.test(text) ? 'PCMU' : /PCMA/.test(text) ? 'PCMA' : text;
}

async function call(carolCodecs: string[], n: number): Promise<{ bob: string; carol: string }> {
  const alice = await apiSession(server.web, demo.alice);
  const carolId = await alice.idOf(demo.carol);
  await alice.call('PUT', `/api/users/${carolId}/extension`, { extension: '203' });
  const bob = await server.phone(`bob${n}`, {
    device: await server.addDevice(demo.bob, `bob-desk-${n}`),
    codecs: ['G722/16000/1', 'PCMU', 'PCMA'],
  });
  const carol = await server.phone(`carol${n}`, {
    device: await server.addDevice(demo.carol, `carol-desk-${n}`),
    codecs: carolCodecs,
    sound: 'tone',
  });
  try {
    await bob.waitFor('REGISTER_OK');
    await carol.waitFor('REGISTER_OK');
    await bob.dial(`sip:203@${server.domain}`);
    await carol.waitFor('CALL_INCOMING');
    await carol.accept();
    await bob.waitFor('CALL_RTPESTAB');
    await carol.waitFor('CALL_RTPESTAB');
    assert.equal(server.web.app.phoneMedia.rtp.size, 0, 'no RTP leg in Parley');
    assert.equal(server.web.app.rtpengine!.nodes[0]!.legs.size, 2, 'both phones in one rtpengine call');
    await new Promise((r) => setTimeout(r, 1500));
    const codecs = { bob: await encoding(bob), carol: await encoding(carol) };
    await carol.hangup();
    await carol.waitFor('CALL_CLOSED');
    await bob.waitFor('CALL_CLOSED');
    const carolHeard = await hear(carol.recordings()[0]!.received, TONE_HZ);
    const bobHeard = await hear(bob.recordings()[0]!.received, TONE_HZ);
    assert.ok(
      carolHeard.loudestDbfs > SILENCE_DBFS,
      `Carol hears Bob (${carolHeard.loudestDbfs.toFixed(1)} dBFS)`,
    );
    assert.ok(bobHeard.toneAmplitude! > 0.2, `Bob hears Carol’s tone (${bobHeard.toneAmplitude})`);
    return codecs;
  } finally {
    await bob.stop();
    await carol.stop();
  }
}

test('on rtpengine: a G.722 phone calls a G.711-only phone: G.711 on both legs, audio both ways', async () => {
  assert.deepEqual(await call(['PCMU', 'PCMA'], 2), { bob: 'PCMU', carol: 'PCMU' });
});

test('on rtpengine: two G.722 phones: G.722 on both legs, audio both ways', async () => {
  assert.deepEqual(await call(['G722/16000/1', 'PCMU', 'PCMA'], 3), { bob: 'G722', carol: 'G722' });
});
