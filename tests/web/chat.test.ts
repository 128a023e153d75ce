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
