/**
 * Where "Test my audio" lives besides the Calls screen (calls-echo.test.ts proves the echo's sound):
 * Parley Echo in everyone's contact list, called in one click; Settings, whose chosen microphone is the
 * one the echo call opens (and the next calls too, after a reload); the in-call device picker, which in
 * the echo call starts the test again and in a call with someone else says it can be used afterwards.
 * Axe-clean screens, and Settings at 360 px wide.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  apiSession,
  demo,
  launchBrowser,
  mediaArgs,
  seriousViolations,
  startWebServer,
  type WebServer,
} from './harness.ts';
import { openCallPage } from './call-steps.ts';

let server: WebServer;
let browser: Browser;

before(async () => {
  server = await startWebServer({ echoRecordSeconds: 2 });
  browser = await launchBrowser(mediaArgs);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** The deviceId of the microphone the call in progress sends (read through the app's test hook). */
const sentMicrophone = (page: Page) =>
  page.evaluate(() => {
    const pc = (
      window as unknown as { parleyCalls: { peerConnection(): RTCPeerConnection | null } }
    ).parleyCalls.peerConnection();
    return (
      pc
        ?.getSenders()
        .find((s) => s.track?.kind === 'audio')
        ?.track?.getSettings().deviceId ?? null
    );
  });

/** Waits until the Microphone list holds the system default and at least two microphones. */
async function micListed(page: Page): Promise<void> {
  await page.getByLabel('Microphone').locator('option').nth(2).waitFor({ state: 'attached' });
}

async function hangUp(page: Page, who: string): Promise<void> {
  const region = page.getByRole('region', { name: `Call with ${who}` });
  await region.getByRole('button', { name: 'Hang up' }).click();
  await region.waitFor({ state: 'detached' });
}

test('Parley Echo is a built-in contact: one click calls it; the device picker starts the test again', async () => {
  const { context, page } = await openCallPage(browser, server, demo.carol);
  try {
    // Carol has added nobody, and still has Parley Echo.
    const section = page.getByRole('list', { name: /Built in/ });
    const row = section.getByRole('listitem').filter({ hasText: 'Parley Echo' });
    await row.waitFor();
    await page.getByText('No contacts yet').waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'the contact list with Parley Echo');
    // The filter finds it by name, and hides it for another name.
    await page.getByLabel('Filter contacts').fill('echo');
    await row.waitFor();
    assert.equal(await page.getByText('No contact matches').count(), 0);
    await page.getByLabel('Filter contacts').fill('bob');
    await row.waitFor({ state: 'detached' });
    await page.getByLabel('Filter contacts').fill('');

    await row.getByRole('button', { name: 'Call Parley Echo' }).click();
    const region = page.getByRole('region', { name: 'Call with Parley Echo' });
    await region.getByText('Connected').waitFor();

    // Devices: the picker has Test again beside it, which hangs up and calls the echo again.
    await region.getByRole('button', { name: 'Devices' }).click();
    const dialog = page.getByRole('dialog', { name: 'Call devices' });
    await dialog.getByLabel('Microphone').waitFor();
    assert.deepEqual(await seriousViolations(page), [], 'the device picker in the echo call');
    const pcBefore = await page.evaluateHandle(() =>
      (
        window as unknown as { parleyCalls: { peerConnection(): RTCPeerConnection | null } }
      ).parleyCalls.peerConnection(),
    );
    await dialog.getByRole('button', { name: 'Test again' }).click();
    await page.waitForFunction(
      (old) =>
        (
          window as unknown as { parleyCalls: { peerConnection(): RTCPeerConnection | null } }
        ).parleyCalls.peerConnection() !== old,
      pcBefore,
    );
    await region.getByText('Connected').waitFor();
    const history = await (
      await apiSession(server, demo.carol)
    ).call<{
      calls: Array<{ peer: { displayName: string | null } }>;
    }>('GET', '/api/calls/history?limit=5');
    const echoCalls = history.calls.filter((c) => c.peer.displayName === 'Parley Echo');
    assert.equal(echoCalls.length, 2, 'Test again placed a second echo call');
    await hangUp(page, 'Parley Echo');
  } finally {
    await context.close();
  }
});

test('Settings: the chosen microphone is the one the echo test sends, kept after a reload', async () => {
  const { context, page } = await openCallPage(browser, server, demo.dave);
  try {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    const mic = page.getByLabel('Microphone');
    await micListed(page);
    // By deviceId (a label can change while the browser fills in device names).
    const values = await mic
      .locator('option')
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    const chosen = values.filter((v) => v !== '')[1] ?? values.filter((v) => v !== '')[0];
    assert.ok(chosen, `a microphone to choose (${values.join(', ')})`);
    await mic.selectOption(chosen);
    assert.deepEqual(await seriousViolations(page), [], 'the settings screen');

    await page.reload();
    await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    await micListed(page);
    assert.equal(await mic.inputValue(), chosen, 'the choice is kept');

    await page.getByRole('button', { name: 'Test my audio' }).click();
    const region = page.getByRole('region', { name: 'Call with Parley Echo' });
    await region.getByText('Connected').waitFor();
    assert.equal(await sentMicrophone(page), chosen, 'the echo call sends the chosen microphone');
    await hangUp(page, 'Parley Echo');

    await page.setViewportSize({ width: 360, height: 740 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `settings at 360 px: the page is ${width} px wide`);
    assert.deepEqual(await seriousViolations(page), [], 'the settings screen at 360 px');
  } finally {
    await context.close();
  }
});

test('In a call with someone, the device picker says Test my audio comes after the call', async () => {
  const alice = await openCallPage(browser, server, demo.alice);
  const bob = await openCallPage(browser, server, demo.bob);
  try {
    const bobId = await (await apiSession(server, demo.alice)).idOf(demo.bob);
    await alice.page.goto(`${server.url}/people/${encodeURIComponent(bobId)}`);
    await alice.page.getByRole('button', { name: 'Call Bob Baker', exact: true }).click();
    await bob.page
      .getByRole('alertdialog', { name: 'Alice Archer' })
      .getByRole('button', { name: /^Answer with audio/ })
      .click();
    const region = alice.page.getByRole('region', { name: 'Call with Bob Baker' });
    await region.getByText('Connected').waitFor();
    await region.getByRole('button', { name: 'Devices' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Call devices' });
    assert.equal(await dialog.getByRole('button', { name: 'Test my audio' }).isDisabled(), true);
    await dialog.getByText('You can test your audio with Parley Echo after this call.').waitFor();
    assert.deepEqual(await seriousViolations(alice.page), [], 'the device picker in a call');
    await dialog.getByRole('button', { name: /Close/ }).click();
    await hangUp(alice.page, 'Bob Baker');
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});
