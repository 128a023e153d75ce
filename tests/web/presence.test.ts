/**
 * Contacts and presence in two real browsers: Alice finds Bob in the directory and adds him, makes him
 * a favourite and sorts Carol into a group; Bob sets his status and Alice's list shows it within 2 s
 * without moving the row; the contact card shows what it should; idle turns Bob Away. axe runs on the
 * card and the status dialog in light and dark.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  apiSession,
  checkBothSchemes,
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

const row = (page: Page, name: string) => page.getByRole('listitem').filter({ hasText: name }).first();

test('Alice adds contacts from the directory; Bob changes status and Alice sees it within 2 s', async () => {
  const alice = await openPage(browser, server.url);
  const bob = await openPage(browser, server.url);
  try {
    await signIn(alice.page, demo.alice);
    const a = alice.page;
    await a.getByText('No contacts yet').waitFor();

    // Directory search: type a prefix, add from the results.
    await a.getByRole('button', { name: 'Add a contact' }).click();
    const dialog = a.getByRole('dialog', { name: 'Add a contact' });
    await dialog.getByLabel('Search the directory').fill('bo');
    const result = (name: string) => dialog.getByRole('listitem').filter({ hasText: name });
    await dialog.getByRole('button', { name: 'Add Bob Baker' }).click();
    await result('Bob Baker').getByText('In your contacts').waitFor();
    await dialog.getByLabel('Search the directory').fill('carol');
    await dialog.getByRole('button', { name: 'Add Carol Chen' }).click();
    await result('Carol Chen').getByText('In your contacts').waitFor();
    await screenshot(a, 'presence', 'directory-search');
    await dialog.getByRole('button', { name: 'Close' }).click();

    // A group, and Carol in it.
    await a.getByRole('button', { name: 'New group' }).click();
    await a
      .getByRole('dialog', { name: 'New contact group' })
      .getByLabel('Group name')
      .fill('Engineering friends');
    await a.getByRole('button', { name: 'Create group' }).click();
    await row(a, 'Carol Chen').getByRole('link').click();
    await a.getByRole('heading', { name: 'Carol Chen', level: 1 }).waitFor();
    await a.getByLabel('Group').selectOption({ label: 'Engineering friends' });
    await a
      .getByRole('list', { name: /Engineering friends/ })
      .getByText('Carol Chen')
      .waitFor();

    // Bob as a favourite: in Favourites and in Contacts.
    await row(a, 'Bob Baker').getByRole('link').click();
    await a.getByRole('button', { name: 'Add to favourites' }).click();
    await a
      .getByRole('list', { name: /Favourites/ })
      .getByText('Bob Baker')
      .waitFor();
    await a.getByRole('button', { name: 'Remove from favourites' }).waitFor();

    // Bob is offline until he signs in.
    const bobRow = a
      .getByRole('list', { name: /Favourites/ })
      .getByRole('listitem')
      .filter({ hasText: 'Bob' });
    await bobRow.getByText('Offline').waitFor();
    await signIn(bob.page, demo.bob);
    await bobRow.getByText('Available').waitFor();
    const before = await bobRow.boundingBox();

    // Bob: Busy for 1 hour, with a note.
    const b = bob.page;
    await b.getByRole('button', { name: /Set your status/ }).click();
    const status = b.getByRole('dialog', { name: 'Set your status' });
    await status.getByLabel('Availability').selectOption('do_not_disturb');
    await status.getByLabel('For how long').selectOption('one_hour');
    await status.getByLabel('Status note').fill('Quarterly numbers until lunch');
    assert.deepEqual(await checkBothSchemes(b, 'presence', 'status-dialog'), []);
    await b.emulateMedia({ colorScheme: 'light' });
    const changedAt = Date.now();
    await status.getByRole('button', { name: 'Save status' }).click();
    await bobRow.getByText('Do not disturb').waitFor({ timeout: 2_000 });
    const seenAfterMs = Date.now() - changedAt;
    assert.ok(seenAfterMs <= 2_000, `seen after ${seenAfterMs} ms`);
    await b
      .getByRole('button', { name: /Set your status/ })
      .getByText('Do not disturb')
      .waitFor();

    // No layout jump: the row keeps its place and size.
    assert.deepEqual(await bobRow.boundingBox(), before);

    // The card: name, title, department, presence with its end, note, local time, actions.
    const card = a.getByRole('article', { name: 'Bob Baker' });
    await card.getByText('Quarterly numbers until lunch').waitFor();
    await card.getByText(/until \d/).waitFor();
    await card.getByText('Sales Lead').first().waitFor();
    await card.getByText('Europe/London', { exact: false }).waitFor();
    assert.match(await card.getByText('Sales', { exact: true }).innerText(), /Sales/);
    assert.deepEqual(await checkBothSchemes(a, 'presence', 'contact-card'), []);
    await a.emulateMedia({ colorScheme: 'light' });

    // Appear offline: others see Offline; Bob sees that it is his own choice.
    await b.getByRole('button', { name: /Set your status/ }).click();
    await status.getByLabel('Availability').selectOption('appear_offline');
    await status.getByRole('button', { name: 'Save status' }).click();
    await bobRow.getByText('Offline').waitFor({ timeout: 2_000 });
    await b.getByRole('button', { name: /Set your status/ }).click();
    await status.getByText('You appear offline to everyone else.').waitFor();
    await status.getByLabel('Availability').selectOption('automatic');
    await status.getByRole('button', { name: 'Save status' }).click();
    await bobRow.getByText('Available').waitFor({ timeout: 2_000 });
    await screenshot(a, 'presence', 'alice-main');
    assert.deepEqual([...pageProblems(a), ...pageProblems(b)], []);
  } finally {
    await alice.context.close();
    await bob.context.close();
  }
});

test('idle turns Dave Away for his watchers, and activity brings him back', async () => {
  // Dave, not Bob: a device Bob closed a moment ago still counts as active for the presence grace.
  const carol = await apiSession(server, demo.carol);
  await carol.addContacts([demo.dave]);
  const watcher = await openPage(browser, server.url);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const b = await context.newPage();
  try {
    await signIn(watcher.page, demo.carol);
    const daveRow = row(watcher.page, 'Dave Dixon');
    // Dave's page runs on a clock the test moves: five idle minutes pass at once.
    await b.clock.install();
    await b.goto(server.url);
    await signIn(b, demo.dave);
    await daveRow.getByText('Available').waitFor();
    await b.clock.fastForward('05:01');
    await daveRow.getByText('Away').waitFor({ timeout: 5_000 });
    await b.mouse.move(200, 200);
    await b.keyboard.press('Shift');
    await daveRow.getByText('Available').waitFor({ timeout: 5_000 });
  } finally {
    await watcher.context.close();
    await context.close();
  }
});
