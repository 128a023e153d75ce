/**
 * The session in a real browser: an expired session returns to sign-in with a sentence saying so; the
 * reconnect banner shows while the server is down and goes, quietly, when it is back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ParleyClient } from '../../packages/sdk/src/index.ts';
import {
  apiSession,
  DEMO_PASSWORD,
  demo,
  launchBrowser,
  openPage,
  screenshot,
  signIn,
  startWebServer,
  type WebServer,
} from './harness.ts';

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

describe('an expired session', () => {
  let server: WebServer;
  before(async () => {
    // Sessions last 3 s; open connections are checked every second.
    server = await startWebServer({ refreshTokenTtl: 3, accessTokenTtl: 1, sessionRecheck: 1 });
  });
  after(async () => {
    await server?.close();
  });

  test('returns to sign-in with its message, and a new sign-in works', async () => {
    const { context, page } = await openPage(browser, server.url);
    try {
      await signIn(page, demo.alice);
      await page.getByRole('heading', { name: 'Sign in to Parley' }).waitFor({ timeout: 15_000 });
      await page
        .getByRole('status')
        .filter({ hasText: 'Your session has ended. Please sign in again.' })
        .waitFor();
      await screenshot(page, 'session', 'expired');
      // Reloading does not bring the dead session back.
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in to Parley' }).waitFor();
      await signIn(page, demo.alice);
      await page.getByRole('heading', { name: 'Contacts', level: 1 }).waitFor();
    } finally {
      await context.close();
    }
  });
});

describe('the connection drops', () => {
  let server: WebServer;
  before(async () => {
    server = await startWebServer();
    await (await apiSession(server, demo.alice)).addContacts([demo.bob]);
  });
  after(async () => {
    await server?.close();
  });

  test('the reconnect banner shows while the server is stopped and goes when it is back', async () => {
    const { context, page } = await openPage(browser, server.url);
    try {
      await signIn(page, demo.alice);
      const bobRow = page.getByRole('listitem').filter({ hasText: 'Bob Baker' });
      await bobRow.getByText('Offline').waitFor();
      const banner = page.getByRole('status').filter({ hasText: 'Connection lost' });
      assert.equal(await banner.count(), 0);

      await server.stop();
      await banner.waitFor({ timeout: 10_000 });
      await screenshot(page, 'session', 'reconnecting');
      // The screen stays usable meanwhile: the list is still there.
      await bobRow.waitFor();

      await server.start();
      await banner.waitFor({ state: 'detached', timeout: 15_000 });
      // Quiet recovery: still signed in, presence live again (Bob signs in elsewhere and shows).
      await page
        .getByRole('button', { name: /Set your status/ })
        .getByText('Available')
        .waitFor();
      const bob = new ParleyClient({ baseUrl: server.url });
      await bob.signIn(demo.bob, DEMO_PASSWORD);
      await bob.connect();
      await bobRow.getByText('Available').waitFor({ timeout: 5_000 });
      await bob.signOut();
      await screenshot(page, 'session', 'recovered');
      assert.equal(await page.getByRole('heading', { name: 'Sign in to Parley' }).count(), 0);
    } finally {
      await context.close();
    }
  });
});
