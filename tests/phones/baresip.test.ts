/**
 * The harness's own test, with no Parley in between: two Debian baresip phones call each other directly
 * on 127.0.0.1. One speaks (espeak-ng), the other plays a 600 Hz tone; the callee rings and answers,
 * digits typed on the caller arrive at the callee as RFC 4733 events, and each phone's recording of what
 * it received is the other's sound (speech above silence one way, the tone the other). A phone set to
 * answer by itself does, and the callee can hang up. If this fails, the end-to-end phone tests cannot
 * be believed either way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Baresip } from './baresip.ts';
import { hear, SILENCE_DBFS, speechWav, toneWav } from './audio.ts';

const TONE = 600;
let folder: string;
let speech: string;
let tone: string;
const phones: Baresip[] = [];

before(async () => {
  folder = mkdtempSync(join(tmpdir(), 'parley-phones-'));
  speech = await speechWav(folder, 'Hello, this is the desk phone speaking. One two three four five.');
  tone = await toneWav(folder, TONE);
});
after(async () => {
  for (const p of phones) await p.stop();
  rmSync(folder, { recursive: true, force: true });
});

async function phone(name: string, wav: string, answer: 'auto' | 'manual'): Promise<Baresip> {
  const p = await Baresip.start({ name, wav, account: { user: name, answer } });
  phones.push(p);
  return p;
}

test('two baresips call each other directly: ringing, answer, DTMF, each hears the other', async () => {
  const alice = await phone('alice', speech, 'manual');
  const bob = await phone('bob', tone, 'manual');

  await alice.dial(bob.uri);
  const incoming = await bob.waitFor('CALL_INCOMING');
  assert.match(incoming.peeruri ?? '', /^sip:alice@127\.0\.0\.1:\d+$/);
  await alice.waitFor('CALL_RINGING');
  await bob.accept();
  await alice.waitFor('CALL_ESTABLISHED');
  await bob.waitFor('CALL_ESTABLISHED');
  await alice.waitFor('CALL_RTPESTAB');
  await bob.waitFor('CALL_RTPESTAB');

  await alice.sendDigits('1234#');
  const digits: string[] = [];
  for (let i = 0; i < 5; i++) digits.push((await bob.waitFor('CALL_DTMF_START')).param ?? '');
  assert.deepEqual(digits, ['1', '2', '3', '4', '#'], 'the digits arrive in order as RFC 4733 events');

  await alice.hangup();
  await alice.waitFor('CALL_CLOSED');
  await bob.waitFor('CALL_CLOSED');

  const [a] = alice.recordings();
  const [b] = bob.recordings();
  assert.ok(a && b, 'each phone recorded the call');
  const bobHeard = await hear(b.received, TONE);
  const aliceHeard = await hear(a.received, TONE);
  assert.ok(bobHeard.seconds > 0.5, `Bob recorded ${bobHeard.seconds} s`);
  assert.ok(
    bobHeard.loudestDbfs > SILENCE_DBFS,
    `Bob hears Alice's speech (${bobHeard.loudestDbfs.toFixed(1)} dBFS)`,
  );
  assert.ok(bobHeard.toneAmplitude! < 0.05, `what Bob hears is not his own tone (${bobHeard.toneAmplitude})`);
  assert.ok(
    aliceHeard.toneAmplitude! > 0.2,
    `Alice hears Bob's ${TONE} Hz tone (${aliceHeard.toneAmplitude})`,
  );
});

test('a phone set to answer by itself answers, and the callee can hang up', async () => {
  const caller = await phone('carol', speech, 'manual');
  const callee = await phone('dave', tone, 'auto');
  await caller.dial(callee.uri);
  await callee.waitFor('CALL_ESTABLISHED');
  await caller.waitFor('CALL_ESTABLISHED');
  await caller.waitFor('CALL_RTPESTAB');
  await callee.hangup();
  await caller.waitFor('CALL_CLOSED');
  await callee.waitFor('CALL_CLOSED');
});
