/**
 * The tenant admin screens in a real Chromium: an admin adds a user who then signs in; a CSV import
 * with a bad row reports that row by its line and imports the rest; every admin screen is axe-clean in
 * light and dark mode and fits a 360 px wide phone. Screenshots go under test-output/web/admin/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  checkBothSchemes,
  loaded,
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

const NEW_PASSWORD = 'velvet-orchard-compass';

async function openAdmin(page: Page, link: string, heading = link): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

test('an admin adds a user in the admin screens, and the new user signs in', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.alice);
    await openAdmin(page, 'Users');
    await page.getByRole('table', { name: 'Users' }).getByText(demo.bob).waitFor();
    await page.getByRole('button', { name: 'Add a user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    await dialog.getByLabel('Name', { exact: true }).fill('Nina Newcomer');
    await dialog.getByLabel('Email address').fill('nina@contoso.example');
    // A guessable password is refused with a sentence, and nothing is created.
    await dialog.getByLabel('Password').fill('password123');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'too easy to guess' }).waitFor();
    await screenshot(page, 'admin', 'add-user-weak-password');
    await dialog.getByLabel('Password').fill(NEW_PASSWORD);
    await dialog.getByLabel('Job title').fill('Analyst');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('table', { name: 'Users' }).getByText('nina@contoso.example').waitFor();
    await screenshot(page, 'admin', 'users-after-add');

    const second = await openPage(browser, server.url);
    try {
      await signIn(second.page, 'nina@contoso.example', NEW_PASSWORD);
      await second.page.getByRole('heading', { name: 'Contacts', level: 1 }).waitFor();
      // Nina is a user, not an admin: the admin screens are not in her navigation.
      const nav = second.page.getByRole('navigation', { name: 'Main' });
      assert.equal(await nav.getByRole('link', { name: 'Users', exact: true }).count(), 0);
      await screenshot(second.page, 'admin', 'new-user-signed-in');
    } finally {
      await second.context.close();
    }

    // Disabling her is one button, and she can no longer sign in.
    await page.getByRole('button', { name: 'Disable Nina Newcomer' }).click();
    await page
      .getByRole('row', { name: /Nina Newcomer/ })
      .getByText('Disabled')
      .waitFor();
    const third = await openPage(browser, server.url);
    try {
      await third.page.getByLabel('Email address').fill('nina@contoso.example');
      await third.page.getByLabel('Password').fill(NEW_PASSWORD);
      await third.page.getByRole('button', { name: 'Sign in' }).click();
      await third.page.getByRole('alert').waitFor();
    } finally {
      await third.context.close();
    }
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});

test('a CSV import with a bad row reports that row by its line and imports the rest', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.alice);
    await openAdmin(page, 'Users');
    await page.getByRole('link', { name: 'Import from CSV' }).click();
    await page.getByRole('heading', { name: 'Import users', level: 1 }).waitFor();
    const csv = [
      'Email,Name,Password,Department',
      `omar@contoso.example,Omar Okafor,${NEW_PASSWORD},Sales`,
      `not-an-address,Bad Row,${NEW_PASSWORD},Sales`,
      `"pia@contoso.example","Pia, the Second",${NEW_PASSWORD},`,
    ].join('\n');
    await page.getByLabel('CSV text', { exact: true }).fill(csv);
    await page.getByRole('button', { name: 'Import users' }).click();
    await page.getByText('Import finished: 3 of 3 rows').waitFor();
    assert.equal(await page.locator('#import-progress').getAttribute('value'), '3');
    await page.getByRole('status').filter({ hasText: '2 users added; 1 row not imported' }).waitFor();
    const report = page.getByRole('table', { name: 'Rows not imported' });
    const rows = report.getByRole('row');
    assert.equal(await rows.count(), 2); // the header and the one bad row
    const bad = rows.nth(1);
    assert.equal(await bad.getByRole('cell').nth(0).innerText(), '3');
    assert.match(await bad.getByRole('cell').nth(2).innerText(), /Email address: this value is not valid/);
    await screenshot(page, 'admin', 'import-report');
    assert.deepEqual(await checkBothSchemes(page, 'admin', 'import'), []);
    await page.emulateMedia({ colorScheme: 'light' });

    await openAdmin(page, 'Users');
    const users = page.getByRole('table', { name: 'Users' });
    await users.getByText('omar@contoso.example').waitFor();
    await users.getByText('Pia, the Second').waitFor();
    assert.equal(await users.getByText('Bad Row').count(), 0);
  } finally {
    await context.close();
  }
});

test('every admin screen: axe-clean in light and dark, usable at 360 px', async () => {
  const screens: Array<[string, string, string]> = [
    ['Users', 'Users', 'users'],
    ['API keys', 'API keys', 'api-keys'],
    ['Licences', 'Licences', 'licences'],
    ['Wallet', 'Wallet', 'wallet'],
    ['Top-up requests', 'Top-up requests', 'top-ups'],
    ['Audit log', 'Audit log', 'audit'],
  ];
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.alice);
    // A key is made and its secret shown once; a top-up is asked for, so those screens are not empty.
    await openAdmin(page, 'API keys');
    await page.getByLabel('Key name').fill('Helpdesk sync');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('dialog', { name: 'Your new API key' }).getByText(/^pk_/).waitFor();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('table', { name: 'API keys' }).getByText('Helpdesk sync').waitFor();
    await openAdmin(page, 'Top-up requests');
    await page.getByLabel('Amount').fill('abc');
    await page.getByRole('button', { name: 'Ask for credit' }).click();
    await page.getByRole('alert').filter({ hasText: 'Some of what you entered is not valid' }).waitFor();
    await page.getByLabel('Amount').fill('25.00');
    await page.getByLabel('Note for the provider').fill('November calls');
    await page.getByRole('button', { name: 'Ask for credit' }).click();
    await page.getByRole('table', { name: 'Top-up requests' }).getByText('Waiting for approval').waitFor();

    const violations = [];
    for (const [link, heading, name] of screens) {
      await openAdmin(page, link, heading);
      await loaded(page);
      for (const v of await checkBothSchemes(page, 'admin', name)) violations.push({ screen: name, ...v });
      await page.emulateMedia({ colorScheme: 'light' });
    }
    assert.deepEqual(violations, []);

    await page.setViewportSize({ width: 360, height: 740 });
    for (const [link, heading, name] of screens) {
      await openAdmin(page, link, heading);
      await loaded(page);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 360, `${name} is ${width} px wide at 360 px`);
      await screenshot(page, 'admin', `${name}-360`);
    }
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});
