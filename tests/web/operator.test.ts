/**
 * The operator console in a real Chromium: a rate deck with a bad row is refused and the report names
 * the row; the corrected file imports as version 1; a tenant is created, given its first admin,
 * suspended and resumed; a tenant's top-up request is approved and its wallet shows the credit; every
 * operator screen is axe-clean in light and dark mode and fits 360 px. Screenshots under
 * test-output/web/operator/.
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

const HEADER = 'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment';

async function open(page: Page, link: string, heading = link): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  await loaded(page);
}

const signInOperator = (page: Page) => signIn(page, demo.operator.address, demo.operator.password);

test('the operator imports a rate deck with a bad row and sees the row number, then the fixed file', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await signInOperator(page);
    await open(page, 'Rate decks');
    await page.getByLabel('Deck name').fill('GB retail');
    await page.getByRole('button', { name: 'Create deck' }).click();
    await page.getByRole('heading', { name: 'GB retail', level: 1 }).waitFor();
    const good = '44,United Kingdom,domestic,0.0100,0,60,60';
    const bad = '447,UK mobile,mobile,twelve pence,0,60,60';
    await page
      .getByLabel('Deck CSV text')
      .fill([HEADER, good, '33,France,international,0.02,0,60,60', bad].join('\n'));
    await page.getByRole('button', { name: 'Import version' }).click();
    const problems = page.getByRole('table', { name: 'Problems in the file' });
    await problems.waitFor();
    await page.getByRole('alert').filter({ hasText: 'nothing was imported' }).waitFor();
    const row = problems.getByRole('row').nth(1);
    assert.equal(await row.getByRole('cell').nth(0).innerText(), '4');
    assert.equal(await row.getByRole('cell').nth(1).innerText(), 'rate_per_minute');
    await screenshot(page, 'operator', 'deck-refused');
    assert.deepEqual(await checkBothSchemes(page, 'operator', 'deck-refused'), []);
    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await page.getByRole('table', { name: 'Versions' }).count(), 0);

    await page
      .getByLabel('Deck CSV text')
      .fill([HEADER, good, '447,UK mobile,mobile,0.12,0,60,60'].join('\n'));
    await page.getByRole('button', { name: 'Import version' }).click();
    await page.getByRole('status').filter({ hasText: 'Version 1 imported with 2 prefixes.' }).waitFor();
    await page.getByRole('table', { name: 'Versions' }).getByRole('row').nth(1).waitFor();
    await screenshot(page, 'operator', 'deck-imported');
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});

test('the operator creates a tenant, adds its first admin, suspends and resumes it', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await signInOperator(page);
    await open(page, 'Tenants');
    await page.getByRole('button', { name: 'Create a tenant' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create a tenant' });
    await dialog.getByLabel('Organisation name').fill('Fabrikam');
    await dialog.getByLabel('Domain').fill('contoso.example');
    await dialog.getByLabel('Country').fill('GB');
    await dialog.getByLabel('Time zone').fill('Europe/London');
    await dialog.getByRole('button', { name: 'Create tenant' }).click();
    await dialog.getByRole('alert').filter({ hasText: 'already belongs to an organisation' }).waitFor();
    await dialog.getByLabel('Domain').fill('fabrikam.example');
    await dialog.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { name: 'Fabrikam', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Add an administrator' }).click();
    const add = page.getByRole('dialog', { name: 'Add an administrator' });
    await add.getByLabel('Name', { exact: true }).fill('Fay Fabrikam');
    await add.getByLabel('Email address').fill('fay@fabrikam.example');
    await add.getByLabel('Password').fill('lilac-harbour-pendulum');
    await add.getByRole('button', { name: 'Add administrator' }).click();
    await page.getByRole('table', { name: 'Administrators' }).getByText('fay@fabrikam.example').waitFor();

    await page.getByRole('button', { name: 'Suspend tenant' }).click();
    await page
      .getByRole('dialog', { name: 'Suspend Fabrikam?' })
      .getByRole('button', { name: 'Suspend' })
      .click();
    await page.getByRole('status').filter({ hasText: 'This tenant is suspended' }).waitFor();
    await screenshot(page, 'operator', 'tenant-suspended');
    const fay = await openPage(browser, server.url);
    try {
      await fay.page.getByLabel('Email address').fill('fay@fabrikam.example');
      await fay.page.getByLabel('Password').fill('lilac-harbour-pendulum');
      await fay.page.getByRole('button', { name: 'Sign in' }).click();
      await fay.page.getByRole('alert').filter({ hasText: 'suspended' }).waitFor();
      await page.getByRole('button', { name: 'Resume tenant' }).click();
      await page.getByRole('button', { name: 'Suspend tenant' }).waitFor();
      await fay.page.getByRole('button', { name: 'Sign in' }).click();
      await fay.page.getByRole('navigation', { name: 'Main' }).waitFor();
    } finally {
      await fay.context.close();
    }
  } finally {
    await context.close();
  }
});

test("a tenant's top-up request is approved and its wallet shows the credit; every screen axe-clean, 360 px", async () => {
  const admin = await openPage(browser, server.url);
  try {
    await signIn(admin.page, demo.alice);
    await open(admin.page, 'Top-up requests');
    await admin.page.getByLabel('Amount').fill('40.00');
    await admin.page.getByRole('button', { name: 'Ask for credit' }).click();
    await admin.page
      .getByRole('table', { name: 'Top-up requests' })
      .getByText('Waiting for approval')
      .waitFor();
  } finally {
    await admin.context.close();
  }
  const { context, page } = await openPage(browser, server.url);
  try {
    await signInOperator(page);
    await open(page, 'Top-up approvals');
    await page.getByRole('button', { name: /^Approve 40\.00 for Contoso/ }).click();
    await page.getByText('No top-up requests yet').waitFor();
    await open(page, 'Wallets');
    await page.getByLabel('Tenant').selectOption({ label: 'Contoso' });
    await page.getByRole('table', { name: 'Ledger' }).getByText('40.00').first().waitFor();
    await page.getByLabel('Adjustment (negative to take off)').fill('-2.50');
    await page.getByLabel('Reason').fill('goodwill correction');
    await page.getByRole('button', { name: 'Adjust the balance' }).click();
    await page.getByRole('table', { name: 'Ledger' }).getByText('goodwill correction').waitFor();

    const screens: Array<[string, string]> = [
      ['Tenants', 'tenants'],
      ['Plans', 'plans'],
      ['Carriers', 'carriers'],
      ['Rate decks', 'decks'],
      ['Wallets', 'wallets'],
      ['Top-up approvals', 'approvals'],
      ['Audit log', 'audit'],
    ];
    const violations = [];
    for (const [link, name] of screens) {
      await open(page, link, link === 'Audit log' ? 'Operator audit log' : link);
      for (const v of await checkBothSchemes(page, 'operator', name)) violations.push({ screen: name, ...v });
      await page.emulateMedia({ colorScheme: 'light' });
    }
    assert.deepEqual(violations, []);
    await page.setViewportSize({ width: 360, height: 740 });
    for (const [link, name] of screens) {
      await open(page, link, link === 'Audit log' ? 'Operator audit log' : link);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 360, `${name} is ${width} px wide at 360 px`);
      await screenshot(page, 'operator', `${name}-360`);
    }
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});
