/**
 * The main flows at 360 px wide (a small phone): sign in, the contact list, a contact card (which
 * replaces the list, with a way back), setting a status, signing out; nothing wider than the screen,
 * and axe clean on each screen.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  apiSession,
  demo,
  launchBrowser,
  openPage,
  pageProblems,
  screenshot,
  seriousViolations,
  signIn,
  startWebServer,
  type WebServer,
} from './harness.ts';

let server: WebServer;
let browser: Browser;
before(async () => {
  server = await startWebServer();
  browser = await launchBrowser();
  await (await apiSession(server, demo.alice)).addContacts([demo.bob, demo.carol]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** The page is not wider than the viewport (no sideways scrolling), and axe finds nothing serious. */
async function fits(page: Page, name: string): Promise<void> {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `${name}: the page is ${width} px wide`);
  assert.deepEqual(await seriousViolations(page), [], name);
  await screenshot(page, 'narrow', name);
}

test('at 360 px: sign in, contacts, a card and back, status, sign out', async () => {
  const { context, page } = await openPage(browser, server.url, { viewport: { width: 360, height: 740 } });
  try {
    await page.getByRole('heading', { name: 'Sign in to Parley' }).waitFor();
    await fits(page, 'sign-in');
    await signIn(page, demo.alice);
    const bobRow = page.getByRole('listitem').filter({ hasText: 'Bob Baker' });
    await bobRow.waitFor();
    await fits(page, 'contacts');

    await bobRow.getByRole('link').click();
    await page.getByRole('heading', { name: 'Bob Baker', level: 1 }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Contacts', level: 1 }).isVisible(), false);
    await fits(page, 'card');
    await page.getByRole('link', { name: 'Contacts' }).first().click();
    await bobRow.waitFor();

    await page.getByRole('button', { name: /Set your status/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Set your status' });
    await dialog.getByLabel('Availability').selectOption('be_right_back');
    await fits(page, 'status-dialog');
    await dialog.getByRole('button', { name: 'Save status' }).click();
    await page
      .getByRole('button', { name: /Set your status/ })
      .getByText('Be right back')
      .waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Parley' }).waitFor();
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});
