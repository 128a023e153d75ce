/**
 * Issue 17 item 2: G.722 between two phones. Bob's phone offers G722 first; Parley offers Carol's phone
 * what Bob's can pass through (G722, then G.711) and answers Bob with Carol's choice: two G.722 phones
 * talk G.722 on both legs (passed through, never decoded), a G.711-only callee makes the call G.711 on
 * both legs (each phone says which codec it encodes); audio both ways, by energy and by Carol's tone.
 *
 * The one-way audio an earlier build had: Bob's leg is answered (G.711) when his INVITE arrives and
 * re-made with G.722 once Carol answers, but it started sending silence in PCMU at once. Bob's
 * baresip took its decoder from those packets before the 200, and on the switch to G.722 at the 200
 * rebuilt its receive path without its filters (the recorder): Carol's audio arrived and was played
 * but never recorded. Phone legs now send nothing until joined (`paced: false`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import { startPhoneServer, TONE_HZ, type PhoneServer } from './parley.ts';
import type { Baresip } from './baresip.ts';

let server: PhoneServer;

before(async () => {
  server = await startPhoneServer();
});
after(async () => {
  await server?.close();
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

test('a G.722 phone calls a G.711-only phone: G.711 on both legs, audio both ways', async () => {
  assert.deepEqual(await call(['PCMU', 'PCMA'], 2), { bob: 'PCMU', carol: 'PCMU' });
});

test('two G.722 phones: G.722 on both legs, audio both ways', async () => {
  assert.deepEqual(await call(['G722/16000/1', 'PCMU', 'PCMA'], 3), { bob: 'G722', carol: 'G722' });
});
