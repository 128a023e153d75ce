/**
 * Issue 17: a browser that offers only Opus calls a desk phone that speaks only G.711 (PCMU). The two
 * legs share no codec, so the embedded bridge transcodes (Opus decoded, resampled and paced out as
 * PCMU, and back). Chromium is made to offer Opus alone with `setCodecPreferences` before each offer
 * (as an app that wants wideband would), baresip is given `audio_codecs=PCMU`. What a user notices:
 * Alice hears Bob's phone (the browser's inbound audio energy grows, decoded from Opus) and Bob's phone
 * hears Alice (its recording of what it received is above silence), and the browser's call really is
 * Opus both ways (its statistics name the codec).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { apiSession, demo, launchBrowser, mediaArgs } from '../web/harness.ts';
import { openCallPage, waitForStats, type CallPage } from '../web/call-steps.ts';
import { hear, SILENCE_DBFS } from './audio.ts';
import { startPhoneServer, type PhoneServer } from './parley.ts';
import { until } from './until.ts';
import { codecsInUse, OPUS_ONLY } from './opus-only.ts';

let server: PhoneServer;
let browser: Browser;
const pages: CallPage[] = [];

before(async () => {
  server = await startPhoneServer();
  browser = await launchBrowser(mediaArgs);
});
after(async () => {
  for (const p of pages) await p.context.close();
  await browser?.close();
  await server?.close();
});

async function opusOnlyPage(address: string): Promise<Page> {
  const p = await openCallPage(browser, server.web, address);
  pages.push(p);
  await p.context.addInitScript({ content: OPUS_ONLY });
  return p.page;
}

test('a browser offering only Opus calls a G.711-only desk phone: transcoded, each hears the other', async () => {
  const bob = await server.phone('bob-g711', {
    device: await server.addDevice(demo.bob, 'bob-g711'),
    answer: 'auto',
    codecs: ['PCMU'],
  });
  try {
    await bob.waitFor('REGISTER_OK');
    const a = await opusOnlyPage(demo.alice);
    const id = await (await apiSession(server.web, demo.alice)).idOf(demo.bob);
    await a.goto(`${server.web.url}/people/${encodeURIComponent(id)}`); // the init script applies from here
    await a.getByRole('heading', { name: 'Bob Baker', level: 1 }).waitFor();
    await a.getByRole('button', { name: 'Call Bob Baker', exact: true }).click();
    const established = await bob.waitFor('CALL_ESTABLISHED');
    assert.ok(established, 'the phone answered');
    const view = a.getByRole('region', { name: 'Call with Bob Baker' });
    await view.getByRole('timer').waitFor();
    await bob.waitFor('CALL_RTPESTAB');

    const first = await waitForStats(a, 'Alice: inbound audio', (s) => s.audioEnergy > 0, 15_000);
    await waitForStats(
      a,
      'Alice hears Bob’s phone (energy grows)',
      (s) => s.audioEnergy > first.audioEnergy + 0.01,
      15_000,
    );
    const codecs = (await a.evaluate(codecsInUse)) as Record<string, string | null> | null;
    assert.deepEqual(
      codecs,
      { 'inbound-rtp': 'audio/opus', 'outbound-rtp': 'audio/opus' },
      'the browser’s call is Opus both ways',
    );
    await until(
      'Bob’s phone hears the browser',
      async () =>
        (await hear(bob.recordings()[0]!.received).catch(() => undefined))?.loudestDbfs ?? -Infinity,
      (dbfs) => dbfs > SILENCE_DBFS,
      15_000,
    );

    await view.getByRole('button', { name: 'Hang up' }).click();
    await view.waitFor({ state: 'detached' });
    await bob.waitFor('CALL_CLOSED');
  } finally {
    await bob.stop();
  }
});
