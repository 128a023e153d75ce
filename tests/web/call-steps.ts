/**
 * The steps the call tests share: a call page (fake camera and microphone, the app's test hook on, TURN
 * forced when asked), WebRTC statistics read inside the page through that hook, and the whole video
 * call between Alice and Bob (signed in twice) that both the direct and the TURN test run, so the TURN
 * test proves the same user-visible call through the relay.
 */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  apiSession,
  attentionSpy,
  checkBothSchemes,
  demo,
  pageProblems,
  screenshot,
  signIn,
  type WebServer,
} from './harness.ts';

export interface CallPage {
  context: BrowserContext;
  page: Page;
}

/**
 * A signed-in page for calls. `relay` sets the app's test-only `iceTransportPolicy: 'relay'`
 * (calls/test-hooks.ts); every page gets the Notification spy and the hidden-tab switch.
 */
export async function openCallPage(
  browser: Browser,
  server: WebServer,
  address: string,
  o: { relay?: boolean } = {},
): Promise<CallPage> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    reducedMotion: 'reduce',
  });
  await context.grantPermissions(['camera', 'microphone', 'notifications'], { origin: server.url });
  const settings = `localStorage.setItem('parley.test.hooks', '1');
    ${o.relay ? "localStorage.setItem('parley.test.iceTransportPolicy', 'relay');" : ''}`;
  await context.addInitScript({ content: settings + attentionSpy });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  (page as Page & { problems?: string[] }).problems = problems;
  await page.goto(server.url);
  await signIn(page, address);
  return { context, page };
}

export interface MediaStats {
  /** Sum of `totalAudioEnergy` over inbound audio (grows while sound arrives and plays). */
  audioEnergy: number;
  /** Sum of `framesDecoded` over inbound video. */
  framesDecoded: number;
  /** The selected candidate pair's local and remote candidate types (`host`, `srflx`, `relay`). */
  localType: string | null;
  remoteType: string | null;
}

// Source text (not a function): the test runner's transform would add helpers the page does not have.
const readStats = `(async () => {
  const pc = window.parleyCalls && window.parleyCalls.peerConnection();
  if (!pc) return null;
  const report = await pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  let audioEnergy = 0, framesDecoded = 0, pairId = null;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') audioEnergy += s.totalAudioEnergy || 0;
    if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += s.framesDecoded || 0;
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  const pair = pairId ? byId.get(pairId) : null;
  const type = (id) => (id && byId.get(id) ? byId.get(id).candidateType : null);
  return { audioEnergy, framesDecoded, localType: pair ? type(pair.localCandidateId) : null,
    remoteType: pair ? type(pair.remoteCandidateId) : null };
})()`;

export async function mediaStats(page: Page): Promise<MediaStats | null> {
  return (await page.evaluate(readStats)) as MediaStats | null;
}

/** Polls the page's stats until `ok` holds (10 s), returning the last reading. */
export async function waitForStats(
  page: Page,
  what: string,
  ok: (s: MediaStats) => boolean,
  ms = 10_000,
): Promise<MediaStats> {
  const deadline = Date.now() + ms;
  let last: MediaStats | null = null;
  while (Date.now() < deadline) {
    last = await mediaStats(page);
    if (last && ok(last)) return last;
    await page.waitForTimeout(200);
  }
  throw new Error(`${what}: not within ${ms} ms (last stats ${JSON.stringify(last)})`);
}

/** Inbound audio whose energy grows between two readings, and inbound video frames decoded. */
export async function assertMediaFlows(page: Page, who: string): Promise<MediaStats> {
  const first = await waitForStats(page, `${who}: inbound video decoded`, (s) => s.framesDecoded > 0);
  return waitForStats(
    page,
    `${who}: inbound audio energy grows`,
    (s) => s.audioEnergy > first.audioEnergy && s.framesDecoded > first.framesDecoded,
  );
}

export const ringing = (page: Page) =>
  page.evaluate(() => (window as unknown as { parleyCalls: { ringing(): boolean } }).parleyCalls.ringing());

export const setHidden = (page: Page, hidden: boolean) =>
  page.evaluate((h) => (window as unknown as { __setHidden(h: boolean): void }).__setHidden(h), hidden);

export const notifications = (page: Page) =>
  page.evaluate(
    () => (window as unknown as { __notifications: Array<{ title: string; body?: string }> }).__notifications,
  );

/** The durations (seconds) the Calls screen shows for the newest call with `peer`. */
export async function historyDuration(page: Page, peer: string, kind: RegExp): Promise<number> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: /^Calls/ })
    .click();
  const row = page
    .getByRole('list', { name: 'Call history' })
    .getByRole('listitem')
    .filter({ hasText: peer })
    .first();
  await row.getByText(kind).waitFor();
  const text = await row.locator('.history-duration').innerText({ timeout: 5_000 });
  const parts = text.split(':').map(Number);
  return parts.reduce((acc, n) => acc * 60 + n, 0);
}

/**
 * Alice video-calls Bob, who is signed in twice (one tab hidden: it gets a desktop notification); both
 * of Bob's tabs ring; he answers on one and the other stops ringing; media flows both ways (audio energy
 * grows, video frames decode); Carol, who watches Alice, sees her "In a call"; Bob turns his camera off
 * and on (renegotiation: Alice decodes his frames again); `whileConnected` runs (the TURN test checks the
 * relay there); Alice hangs up; both histories show the call with durations within a second.
 */
export async function videoCallScenario(
  server: WebServer,
  browsers: { alice: Browser; bob: Browser },
  o: { relay?: boolean; group: string; whileConnected?: (alice: Page, bob: Page) => Promise<void> },
): Promise<void> {
  const aliceApi = await apiSession(server, demo.alice);
  await aliceApi.addContacts([demo.bob]);
  const carolApi = await apiSession(server, demo.carol);
  await carolApi.addContacts([demo.alice]);
  const pages: CallPage[] = [];
  try {
    const alice = await openCallPage(browsers.alice, server, demo.alice, o);
    pages.push(alice);
    const bob1 = await openCallPage(browsers.bob, server, demo.bob, o);
    pages.push(bob1);
    const bob2 = await openCallPage(browsers.bob, server, demo.bob, o);
    pages.push(bob2);
    const carol = await openCallPage(browsers.alice, server, demo.carol);
    pages.push(carol);
    const a = alice.page;
    const b1 = bob1.page;
    const b2 = bob2.page;
    const aliceRow = carol.page.getByRole('listitem').filter({ hasText: 'Alice Archer' }).first();
    await aliceRow.getByText('Available').waitFor();
    await setHidden(b2, true);

    // Alice opens Bob's card and video-calls him.
    await a.getByRole('listitem').filter({ hasText: 'Bob Baker' }).first().getByRole('link').click();
    await a.getByRole('heading', { name: 'Bob Baker', level: 1 }).waitFor();
    await a.getByRole('button', { name: 'Video call Bob Baker' }).click();
    const aliceView = a.getByRole('region', { name: 'Call with Bob Baker' });
    await aliceView.waitFor();

    // Both of Bob's tabs ring; the hidden one also notifies.
    const incoming1 = b1.getByRole('alertdialog', { name: 'Alice Archer' });
    const incoming2 = b2.getByRole('alertdialog', { name: 'Alice Archer' });
    await incoming1.waitFor();
    await incoming2.waitFor();
    await incoming1.getByText('Incoming video call').waitFor();
    await aliceView.getByText('Ringing…').waitFor();
    assert.equal(await ringing(b1), true, 'the first tab rings');
    assert.equal(await ringing(b2), true, 'the second tab rings');
    assert.deepEqual(
      (await notifications(b2)).map((n) => n.title),
      ['Alice Archer is calling'],
      'the hidden tab shows a desktop notification',
    );
    assert.deepEqual(await notifications(b1), [], 'the visible tab shows none');
    assert.deepEqual(await checkBothSchemes(b1, o.group, 'incoming-call'), []);
    await b1.emulateMedia({ colorScheme: 'light' });

    // Bob answers on the first tab: the second stops ringing and says where the call went.
    await incoming1.getByRole('button', { name: /^Answer with video/ }).click();
    const bobView = b1.getByRole('region', { name: 'Call with Alice Archer' });
    await bobView.getByRole('timer').waitFor();
    assert.equal(
      await b1.evaluate(() => document.activeElement?.textContent),
      'Alice Archer',
      'the keyboard continues in the call (its heading has the focus)',
    );
    await incoming2.waitFor({ state: 'detached' });
    await b2.getByText('Call from Alice Archer answered on another device.').waitFor();
    assert.equal(await ringing(b2), false, 'the second tab stopped ringing');
    assert.equal(await ringing(b1), false, 'the answering tab stopped ringing');
    await aliceView.getByRole('timer').waitFor();

    // Media both ways.
    await assertMediaFlows(a, 'Alice');
    await assertMediaFlows(b1, 'Bob');
    await aliceView.getByText(/^(Good|Fair|Poor) connection$/).waitFor();

    // Carol sees Alice in a call.
    await aliceRow.getByText('In a call').waitFor({ timeout: 5_000 });

    assert.deepEqual(await checkBothSchemes(a, o.group, 'in-call'), []);
    await a.emulateMedia({ colorScheme: 'light' });

    // Bob's camera off, then on: after on, Alice decodes his video again.
    await bobView.getByRole('button', { name: 'Turn camera off' }).click();
    await bobView.getByRole('button', { name: 'Turn camera on' }).waitFor();
    await a.waitForTimeout(600); // frames already in flight arrive; the count then stands still
    const stopped = await waitForStats(a, 'Alice: stats', () => true);
    await a.waitForTimeout(1_000);
    const settled = await waitForStats(a, 'Alice: stats', () => true);
    assert.ok(
      settled.framesDecoded - stopped.framesDecoded <= 2,
      `no new frames while the camera is off (${stopped.framesDecoded} then ${settled.framesDecoded})`,
    );
    await bobView.getByRole('button', { name: 'Turn camera on' }).click();
    await bobView.getByRole('button', { name: 'Turn camera off' }).waitFor();
    await waitForStats(
      a,
      'Alice: Bob’s video decodes again',
      (s) => s.framesDecoded > settled.framesDecoded + 10,
    );
    await assertMediaFlows(b1, 'Bob after renegotiation');

    if (o.whileConnected) await o.whileConnected(a, b1);
    await screenshot(b1, o.group, 'bob-in-call');

    // Alice hangs up: both views go, and each says so.
    await aliceView.getByRole('button', { name: 'Hang up' }).click();
    await aliceView.waitFor({ state: 'detached' });
    await bobView.waitFor({ state: 'detached' });
    await b1.getByText('Call with Alice Archer ended.').waitFor();
    await aliceRow.getByText('Available').waitFor({ timeout: 5_000 });

    // Both histories: the same call, durations within a second.
    const aliceSeconds = await historyDuration(a, 'Bob Baker', /^Outgoing video call$/);
    const bobSeconds = await historyDuration(b1, 'Alice Archer', /^Incoming video call$/);
    assert.ok(aliceSeconds > 0, `Alice's history shows a duration (${aliceSeconds} s)`);
    assert.ok(Math.abs(aliceSeconds - bobSeconds) <= 1, `durations ${aliceSeconds} s and ${bobSeconds} s`);
    await screenshot(a, o.group, 'alice-history');
    for (const p of pages) assert.deepEqual(pageProblems(p.page), []);
  } finally {
    for (const p of pages) await p.context.close();
  }
}
