/**
 * Calls in real browsers (two headless Chromiums with fake camera and microphone): Alice video-calls
 * Bob, who is signed in twice, end to end (see `videoCallScenario`); and the missed-call path: a call
 * Alice cancels while Bob's tab is hidden notifies him, leaves a missed-call badge that clears when he
 * looks at his calls, and he calls back from the history (Alice declines with the keyboard); and a tab
 * closed mid-call hangs up at once rather than leaving the other side waiting out the lost grace.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import {
  apiSession,
  checkBothSchemes,
  demo,
  launchBrowser,
  mediaArgs,
  screenshot,
  seriousViolations,
  startWebServer,
  type WebServer,
} from './harness.ts';
import {
  notifications,
  openCallPage,
  ringing,
  setHidden,
  videoCallScenario,
  type CallPage,
} from './call-steps.ts';

let server: WebServer;
let aliceBrowser: Browser;
let bobBrowser: Browser;

before(async () => {
  server = await startWebServer();
  aliceBrowser = await launchBrowser(mediaArgs);
  bobBrowser = await launchBrowser(mediaArgs);
});
after(async () => {
  await aliceBrowser?.close();
  await bobBrowser?.close();
  await server?.close();
});

test('Alice video-calls Bob (signed in twice): one tab answers, media flows, camera off and on, both histories', async () => {
  await videoCallScenario(server, { alice: aliceBrowser, bob: bobBrowser }, { group: 'calls' });
});

test('a cancelled call is a missed call: notified while hidden, badged until seen, called back from history', async () => {
  const pages: CallPage[] = [];
  try {
    const alice = await openCallPage(aliceBrowser, server, demo.alice);
    pages.push(alice);
    const bob = await openCallPage(bobBrowser, server, demo.bob);
    pages.push(bob);
    const a = alice.page;
    const b = bob.page;
    await setHidden(b, true);

    // Alice calls (audio) from a 1:1 chat's header, then gives up before Bob answers.
    const bobId = await (await apiSession(server, demo.alice)).idOf(demo.bob);
    await a.goto(`${server.url}/people/${encodeURIComponent(bobId)}`);
    await a.getByRole('button', { name: 'Chat' }).click();
    await a.getByRole('heading', { name: 'Bob Baker', level: 2 }).waitFor();
    await a.getByRole('button', { name: 'Call Bob Baker', exact: true }).click();
    const incoming = b.getByRole('alertdialog', { name: 'Alice Archer' });
    await incoming.getByText('Incoming call').waitFor();
    assert.equal(await ringing(b), true);
    assert.deepEqual(
      (await notifications(b)).map((n) => [n.title, n.body]),
      [['Alice Archer is calling', 'Open Parley to answer.']],
    );
    const aliceView = a.getByRole('region', { name: 'Call with Bob Baker' });
    await aliceView.getByRole('button', { name: 'Hang up' }).click();
    await aliceView.waitFor({ state: 'detached' });
    await incoming.waitFor({ state: 'detached' });
    assert.equal(await ringing(b), false, 'the ringing stops when the caller gives up');

    // The badge: in the navigation and in the title, until Bob looks at his calls.
    const nav = b.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: /^Calls\s*\(1 missed call\)$/ }).waitFor();
    await b.waitForFunction(() => document.title.startsWith('(1) '));
    await setHidden(b, false);
    await nav.getByRole('link', { name: /^Calls/ }).click();
    const row = b
      .getByRole('list', { name: 'Call history' })
      .getByRole('listitem')
      .filter({ hasText: 'Alice Archer' })
      .first();
    await row.getByText('Missed call', { exact: true }).waitFor();
    await row.getByText('Caller hung up').waitFor();
    await nav.getByRole('link', { name: 'Calls', exact: true }).waitFor();
    await row.getByText('(new)').waitFor({ state: 'detached' }); // seen now
    await b.waitForFunction(() => !/^\(\d+\)/.test(document.title));
    assert.deepEqual(await checkBothSchemes(b, 'calls', 'history'), []);
    await b.emulateMedia({ colorScheme: 'light' });
    // At phone width the history fits (no sideways scrolling) and stays clean.
    await b.setViewportSize({ width: 360, height: 740 });
    const width = await b.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the history at 360 px is ${width} px wide`);
    assert.deepEqual(await seriousViolations(b), []);
    await screenshot(b, 'calls', 'history-360');
    await b.setViewportSize({ width: 1280, height: 800 });

    // Bob calls back from the history; Alice declines with the keyboard; Bob is told.
    await row.getByRole('button', { name: 'Call Alice Archer', exact: true }).click();
    const back = a.getByRole('alertdialog', { name: 'Bob Baker' });
    await back.waitFor();
    await back.getByRole('button', { name: /^Decline/ }).press('Enter');
    await back.waitFor({ state: 'detached' });
    await b.getByText('Alice Archer is busy and declined the call.').waitFor();
    await screenshot(b, 'calls', 'declined-notice');
  } finally {
    for (const p of pages) await p.context.close();
  }
});

test('calling someone who is offline says so at once, and the call buttons work again', async () => {
  const alice = await openCallPage(aliceBrowser, server, demo.alice);
  try {
    const a = alice.page;
    const daveId = await (await apiSession(server, demo.alice)).idOf(demo.dave);
    await a.goto(`${server.url}/people/${encodeURIComponent(daveId)}`);
    await a.getByRole('heading', { name: 'Dave Dixon', level: 1 }).waitFor();
    await a.getByRole('button', { name: 'Call Dave Dixon', exact: true }).click();
    await a.getByText('Dave Dixon is not available right now.').waitFor();
    await a.getByRole('region', { name: 'Call with Dave Dixon' }).waitFor({ state: 'detached' });
    assert.equal(await a.getByRole('button', { name: 'Call Dave Dixon', exact: true }).isEnabled(), true);
    assert.equal(await ringing(a), false);
  } finally {
    await alice.context.close();
  }
});

test('closing the tab mid-call hangs up at once: the other side is not left in silence for the grace', async () => {
  const alice = await openCallPage(aliceBrowser, server, demo.alice);
  const bob = await openCallPage(bobBrowser, server, demo.bob);
  try {
    const a = alice.page;
    const bobId = await (await apiSession(server, demo.alice)).idOf(demo.bob);
    await a.goto(`${server.url}/people/${encodeURIComponent(bobId)}`);
    await a.getByRole('heading', { name: 'Bob Baker', level: 1 }).waitFor();
    await a.getByRole('button', { name: 'Call Bob Baker', exact: true }).click();
    const incoming = bob.page.getByRole('alertdialog', { name: 'Alice Archer' });
    await incoming.getByRole('button', { name: 'Answer with audio' }).click();
    const aliceView = a.getByRole('region', { name: 'Call with Bob Baker' });
    await aliceView.getByRole('button', { name: 'Hang up' }).waitFor();
    await bob.page.getByRole('region', { name: 'Call with Alice Archer' }).waitFor();
    const closedAt = Date.now();
    await bob.page.close({ runBeforeUnload: true });
    // The server's lost grace is 20 s by default; a hang-up on pagehide ends the call long before.
    await aliceView.waitFor({ state: 'detached', timeout: 10_000 });
    assert.ok(Date.now() - closedAt < 10_000);
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});
