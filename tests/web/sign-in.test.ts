/**
 * Sign-in and the main screen in a real Chromium: the app loads under its strict CSP with no error,
 * signs in, keeps the session over a reload, signs out; axe finds no critical or serious violation on
 * the sign-in and main screens in light and dark mode.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import {
  checkBothSchemes,
  DEMO_PASSWORD,
  demo,
  launchBrowser,
  openPage,
  pageProblems,
  screenshot,
  signIn,
  startWebServer,
  type WebServer,
} from './harness.ts';

let server: WebServer;
let browser: Browser;

before(async () => {
  server = await startWebServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('sign in, reload still signed in, sign out; axe clean on both screens in light and dark', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await page.getByRole('heading', { name: 'Sign in to Parley' }).waitFor();
    assert.deepEqual(await checkBothSchemes(page, 'sign-in', 'sign-in'), []);
    await page.emulateMedia({ colorScheme: 'light' });

    // A wrong password is a sentence, not a code.
    await page.getByLabel('Email address').fill(demo.alice);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await screenshot(page, 'sign-in', 'wrong-password');

    await signIn(page, demo.alice);
    await page.getByRole('heading', { name: 'Contacts', level: 1 }).waitFor();
    await page
      .getByRole('button', { name: /Set your status/ })
      .getByText('Available')
      .waitFor();
    assert.deepEqual(await checkBothSchemes(page, 'sign-in', 'main'), []);
    await page.emulateMedia({ colorScheme: 'light' });

    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    await page
      .getByRole('button', { name: /Set your status/ })
      .getByText('Available')
      .waitFor();
    await screenshot(page, 'sign-in', 'after-reload');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Parley' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Parley' }).waitFor();
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});

test('keyboard only: sign in with Tab and Enter, then reach the main actions and the status dialog', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await page.getByRole('heading', { name: 'Sign in to Parley' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('type')), 'email');
    await page.keyboard.type(demo.bob);
    await page.keyboard.press('Tab');
    await page.keyboard.type(DEMO_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();

    // Tab order: skip link, brand, status, sign out, navigation, then the screen's own actions (the
    // first of them within a few presses after the last navigation item).
    const reached: string[] = [];
    for (let i = 0; i < 12 && !reached.includes('Add a contact'); i++) {
      await page.keyboard.press('Tab');
      reached.push(
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.innerText.trim() ?? ''),
      );
    }
    assert.equal(reached[0], 'Skip to content');
    assert.ok(
      reached.some((t) => t === 'Add a contact'),
      reached.join(' | '),
    );
    const status = reached.findIndex((t) => t.startsWith('Set your status'));
    assert.ok(status >= 0, reached.join(' | '));

    // Open the status dialog from the keyboard and leave it with Escape; focus stays in the page.
    await page.getByRole('button', { name: /Set your status/ }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Set your status' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  } finally {
    await context.close();
  }
});
