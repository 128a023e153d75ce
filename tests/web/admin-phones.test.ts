/**
 * A user's phones in the tenant admin screens (issue 16), in Chromium: Alice (admin) opens Bob's phones
 * from the Users list, gives him an extension (an emergency number and a colleague's number refused with
 * a sentence; the Users list shows it), adds a desk phone whose password is shown once with the
 * settings, and a SIP phone typed with exactly those settings registers with digest; a rename; a reset
 * shows a new password (the old one is then refused, the new one accepted); a chosen weak password is
 * refused; removing the phone stops it registering. Axe-clean in light and dark, and 360 px wide.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import {
  apiSession,
  checkBothSchemes,
  demo,
  launchBrowser,
  loaded,
  openPage,
  pageProblems,
  screenshot,
  signIn,
  startWebServer,
  type WebServer,
} from './harness.ts';
import { TestPhone } from '../../packages/server/test/helpers/sip-phone.ts';

let server: WebServer;
let browser: Browser;
const phones: TestPhone[] = [];

before(async () => {
  server = await startWebServer({ sipAddress: '127.0.0.1' });
  browser = await launchBrowser();
});
after(async () => {
  for (const p of phones) await p.close();
  await browser?.close();
  await server?.close();
});

/** One value of the shown settings, by its label. */
async function setting(view: Locator, label: string): Promise<string> {
  return (
    await view
      .locator('div', { has: view.page().getByText(label, { exact: true }) })
      .locator('dd')
      .innerText()
  ).trim();
}

interface Shown {
  username: string;
  password: string;
  domain: string;
  proxy: string;
  port: number;
}

async function shownSettings(dialog: Locator, device: string): Promise<Shown> {
  const view = dialog.getByRole('group', { name: `Settings for ${device}` });
  await view.waitFor();
  return {
    username: await setting(view, 'SIP user name'),
    password: await setting(view, 'Password'),
    domain: await setting(view, 'Domain (realm)'),
    proxy: await setting(view, 'Proxy / registrar'),
    port: Number(await setting(view, 'Port (UDP and TCP)')),
  };
}

/** A desk phone typed with the shown settings: REGISTER over UDP from 127.0.0.3, the digest answered. */
async function registerWith(s: Shown, password = s.password): Promise<number> {
  const phone = await TestPhone.open({
    address: '127.0.0.3',
    serverPort: s.port,
    username: s.username,
    domain: s.domain,
    password,
  });
  phones.push(phone);
  return (await phone.register({ expires: 600 })).status;
}

async function openBobsPhones(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Users', exact: true })
    .click();
  await page.getByRole('link', { name: 'Phones of Bob Baker' }).click();
  await page.getByRole('heading', { name: 'Phones of Bob Baker', level: 1 }).waitFor();
  await loaded(page);
}

test('an admin gives Bob an extension and a desk phone that registers with the settings shown once', async () => {
  const admin = await apiSession(server, demo.alice);
  await admin.call('PUT', `/api/users/${await admin.idOf(demo.carol)}/extension`, { extension: '202' });
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.alice);
    await openBobsPhones(page);

    // Extension: an emergency number and Carol's number are refused in words; 201 is kept.
    const ext = page.getByRole('textbox', { name: 'Extension', exact: true });
    const saveExt = page.getByRole('button', { name: 'Save extension' });
    await ext.fill('911');
    await saveExt.click();
    await page
      .getByRole('alert')
      .filter({ hasText: /not valid|emergency/ })
      .waitFor();
    await ext.fill('202');
    await saveExt.click();
    await page.getByRole('alert').filter({ hasText: 'Someone else already has that extension' }).waitFor();
    await ext.fill('201');
    await saveExt.click();
    await page.getByRole('status').filter({ hasText: 'Bob Baker now has extension 201.' }).waitFor();
    const bobId = await admin.idOf(demo.bob);
    assert.deepEqual(await admin.call('GET', `/api/users/${bobId}/extension`), {
      userId: bobId,
      extension: '201',
    });
    // The Users list shows it on Bob's row, and it is still there when his phones open again.
    await page.getByRole('link', { name: 'Back to users' }).click();
    await page
      .getByRole('row', { name: /Bob Baker/ })
      .getByRole('cell', { name: '201', exact: true })
      .waitFor();
    await openBobsPhones(page);
    assert.equal(await page.getByRole('textbox', { name: 'Extension', exact: true }).inputValue(), '201');

    // A chosen weak password is refused, and no phone is made.
    await page.getByRole('button', { name: 'Add a phone' }).click();
    let dialog = page.getByRole('dialog', { name: 'Add a phone for Bob Baker' });
    await dialog.getByLabel('Device name').fill('Desk phone');
    await dialog.getByLabel('Password', { exact: true }).selectOption('choose');
    await dialog.getByLabel('Device password').fill('password');
    await dialog.getByRole('button', { name: 'Add phone' }).click();
    await dialog.getByRole('alert').waitFor();
    assert.equal(
      (await admin.call<{ items: unknown[] }>('GET', `/api/users/${bobId}/sip-devices`)).items.length,
      0,
    );

    // Generated: the settings are shown once, and a phone typed with them registers.
    await dialog.getByLabel('Password', { exact: true }).selectOption('generate');
    await dialog.getByRole('button', { name: 'Add phone' }).click();
    dialog = page.getByRole('dialog', { name: 'Set up Desk phone' });
    await dialog.getByText('it is shown only this once').waitFor();
    const first = await shownSettings(dialog, 'Desk phone');
    assert.equal(first.username, 'bob');
    assert.equal(first.domain, 'contoso.example');
    assert.equal(first.proxy, '127.0.0.1');
    assert.ok(first.password.length >= 12, `a generated password (${first.password.length} characters)`);
    assert.equal(
      (await dialog.getByText('baresip', { exact: false }).count()) > 0,
      true,
      'provisioning text',
    );
    assert.deepEqual(await checkBothSchemes(page, 'admin', 'phone-credentials'), []);
    await page.emulateMedia({ colorScheme: 'light' });
    assert.equal(await registerWith(first), 200, 'the phone registers with the shown settings');
    await dialog.getByRole('button', { name: 'I have copied it' }).click();
    const table = page.getByRole('table', { name: 'SIP devices of Bob Baker' });
    await table.getByRole('row', { name: /Desk phone/ }).waitFor();
    // Nothing shows the password again.
    assert.equal(await page.getByText(first.password).count(), 0);

    // Rename: the row shows the new name.
    await page.getByRole('button', { name: 'Rename Desk phone' }).click();
    dialog = page.getByRole('dialog', { name: 'Rename Desk phone' });
    await dialog.getByLabel('Device name').fill('Front desk');
    await dialog.getByRole('button', { name: 'Save name' }).click();
    await table.getByRole('row', { name: /Front desk/ }).waitFor();

    // Reset: a new password; the old one is refused, the new one registers.
    await page.getByRole('button', { name: 'Reset password of Front desk' }).click();
    dialog = page.getByRole('dialog', { name: 'Reset the password of Front desk' });
    await dialog.getByRole('button', { name: 'Reset password' }).click();
    dialog = page.getByRole('dialog', { name: 'Set up Front desk' });
    const second = await shownSettings(dialog, 'Front desk');
    assert.notEqual(second.password, first.password);
    assert.equal(await registerWith(second, first.password), 403, 'the old password is refused');
    assert.equal(await registerWith(second), 200, 'the new password registers');
    await dialog.getByRole('button', { name: 'I have copied it' }).click();

    // Remove: the row goes, and the phone can no longer register.
    await page.getByRole('button', { name: 'Remove Front desk' }).click();
    dialog = page.getByRole('dialog', { name: 'Remove Front desk?' });
    await dialog.getByRole('button', { name: 'Remove phone' }).click();
    await page.getByText('No phones yet.').waitFor();
    assert.notEqual(await registerWith(second), 200, 'a removed phone cannot register');

    // The extension can be removed too.
    await page.getByRole('button', { name: 'Remove extension' }).click();
    await page.getByRole('status').filter({ hasText: 'Bob Baker has no extension now.' }).waitFor();
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});

test("Bob's phones screen: axe-clean in light and dark, and 360 px wide with a phone listed", async () => {
  const admin = await apiSession(server, demo.alice);
  await admin.call('POST', `/api/users/${await admin.idOf(demo.bob)}/sip-devices`, {
    name: 'Reception softphone',
  });
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.alice);
    await openBobsPhones(page);
    await page
      .getByRole('table', { name: 'SIP devices of Bob Baker' })
      .getByText('Reception softphone')
      .waitFor();
    assert.deepEqual(await checkBothSchemes(page, 'admin', 'phones'), []);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 360, height: 740 });
    await page.getByRole('button', { name: 'Add a phone' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a phone for Bob Baker' });
    await dialog.getByRole('button', { name: 'Add phone' }).click();
    await page
      .getByRole('dialog', { name: /^Set up / })
      .getByText('it is shown only this once')
      .waitFor();
    let width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the settings dialog is ${width} px wide at 360 px`);
    await screenshot(page, 'admin', 'phone-credentials-360');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the phones screen is ${width} px wide at 360 px`);
    await screenshot(page, 'admin', 'phones-360');
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});
