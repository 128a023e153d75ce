/**
 * Chat in real Chromium, three signed-in browsers: Alice starts a chat with Bob and sends a message
 * (and a picture); Bob sees it (the picture as a preview from its thumbnail) and Alice sees it marked
 * read; Bob's second browser clears its unread badge when he reads on the first; Bob reloads and the
 * history is there. axe finds no critical or serious violation on the chat screen in light and dark;
 * screenshots of each screen visited, and of the phone width.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import {
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

/** A 400 x 200 PNG, red on the left and blue on the right. */
function picture(): Buffer {
  const png = new PNG({ width: 400, height: 200 });
  for (let i = 0; i < 400 * 200; i++)
    png.data.set(i % 400 < 200 ? [220, 30, 30, 255] : [30, 30, 220, 255], i * 4);
  return PNG.sync.write(png);
}

const conversationLink = (page: Page, name: RegExp) =>
  page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name });

test('Alice sends, Bob reads on one browser: read for Alice, badge cleared on his other, history after reload', async () => {
  const a = await openPage(browser, server.url);
  const b1 = await openPage(browser, server.url);
  const b2 = await openPage(browser, server.url);
  try {
    await signIn(a.page, demo.alice);
    await signIn(b1.page, demo.bob);
    await signIn(b2.page, demo.bob);
    for (const p of [b1.page, b2.page]) {
      await p.getByRole('link', { name: 'Chat', exact: true }).click();
      await p.getByRole('heading', { name: /^Chats/, level: 1 }).waitFor();
    }

    // Alice: New chat -> Bob -> Start chat.
    await a.page.getByRole('link', { name: 'Chat', exact: true }).click();
    await a.page.getByRole('button', { name: 'New chat' }).click();
    const dialog = a.page.getByRole('dialog', { name: 'New chat' });
    await dialog.getByLabel('Find people').fill('bob');
    await dialog.getByRole('checkbox', { name: /Bob/ }).check();
    await screenshot(a.page, 'chat', 'new-chat');
    await dialog.getByRole('button', { name: 'Start chat' }).click();
    const box = a.page.getByLabel('Message', { exact: true });
    await box.waitFor();
    await box.fill('Hello Bob, lunch at **noon**?');
    await box.press('Enter');
    const sent = a.page
      .getByRole('log')
      .getByRole('listitem')
      .filter({ hasText: 'Hello Bob, lunch at noon?' });
    await sent.waitFor();
    await sent.getByText(/^(Sent|Delivered)$/).waitFor();

    // Both of Bob's browsers show the conversation with one unread.
    for (const p of [b1.page, b2.page])
      await conversationLink(p, /Alice.*, 1 unread/).waitFor({ timeout: 10_000 });
    assert.equal(a.page.url().includes('/chat/'), true);
    await screenshot(b2.page, 'chat', 'bob-second-browser-unread');

    // Bob reads on the first: Alice sees "Read"; his second browser's badge goes.
    await conversationLink(b1.page, /Alice/).click();
    await b1.page.getByRole('log').getByText('Hello Bob, lunch at noon?').waitFor();
    await sent.getByText('Read', { exact: true }).waitFor({ timeout: 10_000 });
    await conversationLink(b2.page, /^Alice[^,]*$/).waitFor({ timeout: 10_000 });
    assert.equal(await b2.page.getByTestId('unread-badge').count(), 0);
    await screenshot(a.page, 'chat', 'alice-sees-read');

    // Bob answers with a picture, attached through the file picker; Alice sees its preview.
    await b1.page
      .getByLabel('Files to attach')
      .setInputFiles({ name: 'chart.png', mimeType: 'image/png', buffer: picture() });
    await b1.page.getByRole('progressbar', { name: 'Uploading chart.png' }).waitFor();
    await b1.page.getByLabel('Message', { exact: true }).fill('Yes! See the chart');
    await b1.page.getByRole('button', { name: 'Send' }).click();
    const img = a.page.getByRole('img', { name: 'chart.png' });
    await img.waitFor({ timeout: 15_000 });
    const size = await img.evaluate((el: HTMLImageElement) =>
      el.decode().then(() => [el.naturalWidth, el.naturalHeight]),
    );
    assert.deepEqual(size, [320, 160], 'the thumbnail, not the original');
    await screenshot(a.page, 'chat', 'alice-sees-picture');

    // Bob reloads: the history is there.
    await b1.page.reload();
    await b1.page.getByRole('log').getByText('Hello Bob, lunch at noon?').waitFor();
    await b1.page.getByRole('log').getByText('Yes! See the chart').waitFor();
    assert.deepEqual(await checkBothSchemes(b1.page, 'chat', 'conversation'), []);
    await b1.page.emulateMedia({ colorScheme: 'light' });
    for (const p of [a.page, b1.page, b2.page]) assert.deepEqual(pageProblems(p), []);
  } finally {
    await Promise.all([a.context.close(), b1.context.close(), b2.context.close()]);
  }
});

test('at 360 px the list and the conversation take turns; axe clean on the list in light and dark', async () => {
  const { context, page } = await openPage(browser, server.url, { viewport: { width: 360, height: 740 } });
  try {
    await signIn(page, demo.alice);
    await page.getByRole('link', { name: 'Chat', exact: true }).click();
    await page.getByRole('heading', { name: /^Chats/, level: 1 }).waitFor();
    assert.deepEqual(await checkBothSchemes(page, 'chat', 'list-360'), []);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByRole('link', { name: /Bob/ }).click();
    await page.getByRole('log').getByText('Hello Bob, lunch at noon?').waitFor();
    await page.getByRole('link', { name: /Conversations/ }).waitFor();
    await screenshot(page, 'chat', 'conversation-360');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(overflow, false, 'nothing wider than the screen');
  } finally {
    await context.close();
  }
});

test('typing, a mention, a reply, an edit, a delete, and a search with highlights', async () => {
  const a = await openPage(browser, server.url);
  const b = await openPage(browser, server.url);
  try {
    await signIn(a.page, demo.alice);
    await signIn(b.page, demo.bob);
    // Alice adds Bob to her contacts and opens the chat from his contact card.
    await a.page.getByRole('button', { name: 'Add a contact' }).click();
    const add = a.page.getByRole('dialog', { name: 'Add a contact' });
    await add.getByLabel('Search the directory').fill('bo');
    await add.getByRole('button', { name: 'Add Bob Baker' }).click();
    await add.getByText('In your contacts').waitFor();
    await add.getByRole('button', { name: 'Close' }).click();
    await a.page
      .getByRole('link', { name: /Bob Baker/ })
      .first()
      .click();
    await a.page.getByRole('button', { name: 'Chat', exact: true }).click();
    const box = a.page.getByLabel('Message', { exact: true });
    await box.waitFor();
    await b.page.getByRole('link', { name: 'Chat', exact: true }).click();
    await b.page.getByRole('list', { name: 'Conversations' }).getByRole('link', { name: /Alice/ }).click();
    const bobLog = b.page.getByRole('log');
    await bobLog.waitFor();

    // Typing shows on Bob's side; clearing the text ends it at once.
    await box.pressSequentially('abc');
    await b.page.getByText('Alice Archer is typing…').waitFor();
    await box.fill('');
    await box.press('Backspace');
    await b.page.getByText('Alice Archer is typing…').waitFor({ state: 'hidden' });

    // A mention chosen from the list with the keyboard.
    await box.pressSequentially('@Bo');
    await a.page.getByRole('option', { name: 'Bob Baker' }).waitFor();
    await box.press('Enter');
    await box.pressSequentially('can you check the numbers?');
    await box.press('Enter');
    const asked = bobLog.getByRole('listitem').filter({ hasText: 'can you check the numbers?' });
    await asked.locator('.mention', { hasText: '@Bob Baker' }).waitFor();

    // Bob replies; Alice sees what it answers.
    await asked.getByRole('button', { name: 'Reply to Alice Archer' }).click();
    await b.page.getByText(/^Replying to Alice Archer/).waitFor();
    await b.page.getByLabel('Message', { exact: true }).fill('On it, the numbers look fine');
    await b.page.getByLabel('Message', { exact: true }).press('Enter');
    const reply = a.page
      .getByRole('log')
      .getByRole('listitem')
      .filter({ hasText: 'On it, the numbers look fine' });
    await reply.getByText(/can you check the numbers\?/).waitFor();
    await screenshot(a.page, 'chat', 'reply-and-mention');

    // Alice edits her question, then deletes it: Bob sees both.
    const mine = a.page
      .getByRole('log')
      .getByRole('listitem')
      .filter({ hasText: 'can you check the numbers?' })
      .first();
    await mine.getByRole('button', { name: 'Edit message' }).click();
    await a.page.getByLabel('Edit your message').fill('@Bob Baker can you check the totals?');
    await a.page.getByRole('button', { name: 'Save' }).click();
    const edited = bobLog.getByRole('listitem').filter({ hasText: 'can you check the totals?' });
    await edited.getByText('(edited)').waitFor();
    await a.page
      .getByRole('log')
      .getByRole('listitem')
      .filter({ hasText: 'can you check the totals?' })
      .first()
      .getByRole('button', { name: 'Delete message' })
      .click();
    await a.page
      .getByRole('dialog', { name: 'Delete this message?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await bobLog.getByText('This message was deleted.').waitFor();
    assert.equal(await bobLog.getByText('can you check the totals?').count(), 0);
    await screenshot(b.page, 'chat', 'edited-then-deleted');

    // Search: the hit's matching word is highlighted.
    await b.page.getByRole('button', { name: 'Search', exact: true }).click();
    const search = b.page.getByRole('dialog', { name: 'Search messages' });
    await search.getByLabel('Search messages').fill('numbers');
    const hit = search.getByRole('list', { name: 'Search results' }).getByRole('button').first();
    await hit.locator('mark', { hasText: /^numbers$/i }).waitFor();
    assert.equal(await search.getByText('totals').count(), 0, 'the deleted message is gone from search');
    await screenshot(b.page, 'chat', 'search');
    for (const p of [a.page, b.page]) assert.deepEqual(pageProblems(p), []);
  } finally {
    await Promise.all([a.context.close(), b.context.close()]);
  }
});
