/**
 * Issue 16: browsers and desk phones in the same calls. Chromium (fake microphone: a beeping tone) signs
 * in as Alice; Bob and Carol have baresip desk phones registered with Parley (UDP), speaking espeak-ng
 * speech through `aufile` and recording what they hear with `sndfile`.
 * - Alice calls Bob, whose phone answers by itself: the phone's speech reaches the browser (inbound
 *   `totalAudioEnergy` grows) and the phone's recording of the browser is above silence.
 * - Carol's phone calls Alice, who answers in the browser: each hears the other; Carol hangs up and
 *   Alice's call view goes.
 * - Forking: Bob is signed in in a browser and has his phone; Alice's call rings both; he answers on
 *   the phone and his browser stops ringing, saying the call was answered on another device.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo } from '../web/harness.ts';
import { ringing, waitForStats } from '../web/call-steps.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import { until } from './until.ts';
import { browserSuite, hearsSound } from './browser-suite.ts';

const suite = browserSuite();
const { page, call } = suite;

test('Alice’s browser calls Bob, whose desk phone answers by itself: speech reaches the browser, the phone hears the browser', async () => {
  const bob = await suite.server.phone('bob', {
    device: await suite.server.addDevice(demo.bob, 'bob-desk'),
    answer: 'auto',
  });
  try {
    await bob.waitFor('REGISTER_OK');
    const a = await page(demo.alice);
    await call(a, demo.bob, 'Bob Baker');
    await bob.waitFor('CALL_ESTABLISHED');
    const view = a.getByRole('region', { name: 'Call with Bob Baker' });
    await view.getByRole('timer').waitFor();
    await bob.waitFor('CALL_RTPESTAB');
    await hearsSound(a, 'Alice');
    // The browser's beeps come about once a second: Alice hangs up once Bob's phone has heard one.
    await until(
      'Bob’s phone hears the browser',
      async () =>
        (await hear(bob.recordings()[0]!.received).catch(() => undefined))?.loudestDbfs ?? -Infinity,
      (dbfs) => dbfs > SILENCE_DBFS,
    );

    await view.getByRole('button', { name: 'Hang up' }).click();
    await view.waitFor({ state: 'detached' });
    await bob.waitFor('CALL_CLOSED');
    const heard = await hear(bob.recordings()[0]!.received);
    assert.ok(
      heard.loudestDbfs > SILENCE_DBFS,
      `Bob’s phone heard the browser (${heard.loudestDbfs.toFixed(1)} dBFS)`,
    );
  } finally {
    await bob.stop(); // an auto-answering phone left registered would answer the next test's call
  }
});

test('Carol’s desk phone calls Alice, who answers in the browser; Carol hangs up', async () => {
  const carol = await suite.server.phone('carol', {
    device: await suite.server.addDevice(demo.carol, 'carol-desk'),
  });
  await carol.waitFor('REGISTER_OK');
  const a = await page(demo.alice);
  await carol.dial(`sip:alice@${suite.server.domain}`);
  const incoming = a.getByRole('alertdialog', { name: 'Carol Chen' });
  await incoming.waitFor();
  assert.equal(await ringing(a), true, 'the browser rings');
  await carol.waitFor('CALL_RINGING');
  await incoming.getByRole('button', { name: /^Answer with audio/ }).click();
  const view = a.getByRole('region', { name: 'Call with Carol Chen' });
  await view.getByRole('timer').waitFor();
  await carol.waitFor('CALL_ESTABLISHED');
  await carol.waitFor('CALL_RTPESTAB');
  await hearsSound(a, 'Alice');
  // The browser's beeps come about once a second: Carol hangs up once her phone has heard one.
  await until(
    'Carol’s phone hears Alice',
    async () =>
      (await hear(carol.recordings()[0]!.received).catch(() => undefined))?.loudestDbfs ?? -Infinity,
    (dbfs) => dbfs > SILENCE_DBFS,
  );

  await carol.hangup();
  await carol.waitFor('CALL_CLOSED');
  await view.waitFor({ state: 'detached' });
  const heard = await hear(carol.recordings()[0]!.received);
  assert.ok(
    heard.loudestDbfs > SILENCE_DBFS,
    `Carol’s phone heard Alice (${heard.loudestDbfs.toFixed(1)} dBFS)`,
  );
  await carol.stop();
});

test('a call forks to Bob’s browser and his desk phone: answering on the phone stops the browser ringing', async () => {
  const bob = await suite.server.phone('bob2', {
    device: await suite.server.addDevice(demo.bob, 'bob-phone2'),
  });
  await bob.waitFor('REGISTER_OK');
  const b = await page(demo.bob);
  const a = await page(demo.alice);
  await call(a, demo.bob, 'Bob Baker');

  const incoming = b.getByRole('alertdialog', { name: 'Alice Archer' });
  await incoming.waitFor();
  await bob.waitFor('CALL_INCOMING');
  assert.equal(await ringing(b), true, 'the browser rings beside the phone');

  await bob.accept();
  await bob.waitFor('CALL_ESTABLISHED');
  await incoming.waitFor({ state: 'detached' });
  await b.getByText('Call from Alice Archer answered on another device.').waitFor();
  assert.equal(await ringing(b), false, 'the browser stopped ringing');
  const view = a.getByRole('region', { name: 'Call with Bob Baker' });
  await view.getByRole('timer').waitFor();
  await hearsSound(a, 'Alice');
  await view.getByRole('button', { name: 'Hang up' }).click();
  await bob.waitFor('CALL_CLOSED');
});
