/**
 * Chat attachments and attention in real Chromium: an image pasted into the composer and a file dropped
 * on the conversation are uploaded and sent, and the other user sees them (the picture as a preview);
 * with the tab hidden and notifications allowed, a new message shows a desktop notification and the
 * page title counts the unread messages, and the count goes when the user comes back to the chat.
 *
 * The paste and the drop are the browser's own events (ClipboardEvent, DragEvent) carrying a real
 * DataTransfer with a File, as the OS would hand them to the page; a hidden tab is emulated by
 * overriding `document.visibilityState` and firing `visibilitychange`, since a headless page is
 * always "visible".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import {
  apiSession,
  attentionSpy,
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

/** A 300 x 150 PNG, green on top and yellow below. */
function picture(): Buffer {
  const png = new PNG({ width: 300, height: 150 });
  for (let i = 0; i < 300 * 150; i++)
    png.data.set(i < 300 * 75 ? [30, 160, 60, 255] : [230, 200, 40, 255], i * 4);
  return PNG.sync.write(png);
}

/** Bob's 1:1 conversation with Alice (created over the API: what these tests are not about). */
async function directConversation(): Promise<string> {
  const bob = await apiSession(server, demo.bob);
  const alice = await bob.idOf(demo.alice);
  const c = await bob.call<{ id: string }>('POST', '/api/conversations', { members: [alice] });
  return c.id;
}

/** Signs in and opens the conversation; resolves once its composer is there. */
async function openConversation(page: Page, address: string, id: string): Promise<void> {
  await signIn(page, address);
  await page.goto(`${server.url}/chat/${encodeURIComponent(id)}`);
  await page.getByLabel('Message', { exact: true }).waitFor();
}

test('an image pasted into the composer is sent, and Bob sees its preview', async () => {
  const id = await directConversation();
  const a = await openPage(browser, server.url);
  const b = await openPage(browser, server.url);
  try {
    await openConversation(a.page, demo.alice, id);
    await openConversation(b.page, demo.bob, id);
    const box = a.page.getByLabel('Message', { exact: true });
    await box.focus();
    // A screenshot on the clipboard arrives as a nameless image file.
    const bytes = [...picture()];
    const handled = await box.evaluate((el, data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], '', { type: 'image/png' }));
      const ev = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
      el.dispatchEvent(ev);
      return ev.defaultPrevented;
    }, bytes);
    assert.equal(handled, true, 'the page takes the pasted file instead of pasting text');
    const progress = a.page.getByRole('progressbar', { name: 'Uploading pasted-image.png' });
    await progress.waitFor();
    await a.page.waitForFunction(
      () =>
        document
          .querySelector('progress[aria-label="Uploading pasted-image.png"]')
          ?.getAttribute('aria-valuetext') === 'Uploaded',
    );
    await screenshot(a.page, 'chat-attachments', 'pasted-uploaded');
    await box.fill('Pasted from my screen');
    await box.press('Enter');

    const bobSees = b.page
      .getByRole('log')
      .getByRole('listitem')
      .filter({ hasText: 'Pasted from my screen' });
    const img = bobSees.getByRole('img', { name: 'pasted-image.png' });
    await img.waitFor({ timeout: 15_000 });
    const size = await img.evaluate((el: HTMLImageElement) =>
      el.decode().then(() => [el.naturalWidth, el.naturalHeight]),
    );
    assert.equal(size[0]! > 0 && size[1]! > 0, true, 'the preview decodes as a picture');
    assert.equal(Math.round((size[0]! / size[1]!) * 10) / 10, 2, 'it keeps the picture’s shape');
    await screenshot(b.page, 'chat-attachments', 'bob-sees-pasted');
    for (const p of [a.page, b.page]) assert.deepEqual(pageProblems(p), []);
  } finally {
    await Promise.all([a.context.close(), b.context.close()]);
  }
});

test('a file dropped on the conversation is uploaded and sent; Bob sees it as a download', async () => {
  const id = await directConversation();
  const a = await openPage(browser, server.url);
  const b = await openPage(browser, server.url);
  try {
    await openConversation(a.page, demo.alice, id);
    await openConversation(b.page, demo.bob, id);
    const log = a.page.getByRole('log');
    // Drag over the message list: the page offers to take it; then drop.
    const dropped = await log.evaluate((el) => {
      const dt = new DataTransfer();
      dt.items.add(new File(['quarter,total\nQ1,1200\n'], 'totals.csv', { type: 'text/csv' }));
      const fired = ['dragenter', 'dragover', 'drop'].map((type) => {
        const ev = new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true });
        el.dispatchEvent(ev);
        return ev.defaultPrevented;
      });
      return { accepted: fired[1], taken: fired[2] };
    });
    assert.equal(dropped.accepted, true, 'dragover is accepted, so the browser allows the drop');
    assert.equal(dropped.taken, true, 'the drop is handled by the page, not opened as a file');
    await a.page.getByRole('progressbar', { name: 'Uploading totals.csv' }).waitFor();
    assert.equal(
      await a.page.getByText('Drop files to attach them').count(),
      0,
      'the hint goes after the drop',
    );
    await a.page.getByRole('button', { name: 'Send' }).click({ timeout: 10_000 });

    // With no text, the message is named after the file; Bob gets the file as a download.
    const bobSees = b.page.getByRole('log').getByRole('listitem').filter({ hasText: 'totals.csv' });
    await bobSees.getByRole('button', { name: 'Download totals.csv' }).waitFor({ timeout: 15_000 });
    const download = b.page.waitForEvent('download');
    await bobSees.getByRole('button', { name: 'Download totals.csv' }).click();
    const file = await download;
    assert.equal(file.suggestedFilename(), 'totals.csv');
    const stream = await file.createReadStream();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'quarter,total\nQ1,1200\n', 'the same bytes arrive');
    await screenshot(b.page, 'chat-attachments', 'bob-sees-dropped');
    for (const p of [a.page, b.page]) assert.deepEqual(pageProblems(p), []);
  } finally {
    await Promise.all([a.context.close(), b.context.close()]);
  }
});

test('tab hidden and notifications allowed: a new message notifies and the title counts it', async () => {
  const id = await directConversation();
  const bob = await apiSession(server, demo.bob);
  const a = await openPage(browser, server.url);
  try {
    await a.context.grantPermissions(['notifications'], { origin: server.url });
    await a.context.addInitScript({ content: attentionSpy });
    await openConversation(a.page, demo.alice, id);
    assert.equal(await a.page.evaluate(() => Notification.permission), 'granted');
    const send = (text: string) =>
      bob.call('POST', `/api/conversations/${id}/messages`, { text, clientMessageId: randomUUID() });
    const notifications = () =>
      a.page.evaluate(() => (window as unknown as { __notifications: unknown[] }).__notifications);

    // While Alice looks at the conversation: no notification, no count (she reads it there).
    await send('Are you there?');
    await a.page.getByRole('log').getByText('Are you there?').waitFor();
    assert.doesNotMatch(await a.page.title(), /^\(\d+\)/);
    assert.deepEqual(await notifications(), []);

    // She switches to another tab; Bob writes twice.
    await a.page.evaluate(() => (window as unknown as { __setHidden(h: boolean): void }).__setHidden(true));
    await send('The build is red');
    await a.page.waitForFunction(() => document.title.startsWith('(1) '));
    await send('Can you look?');
    await a.page.waitForFunction(() => document.title.startsWith('(2) '));
    assert.match(await a.page.title(), /^\(2\) .*Parley$/);
    assert.deepEqual(await notifications(), [
      { title: 'Bob Baker', body: 'The build is red', tag: id },
      { title: 'Bob Baker', body: 'Can you look?', tag: id },
    ]);
    await screenshot(a.page, 'chat-attachments', 'hidden-title-badge');

    // She comes back to the open conversation: it is read, and the count leaves the title.
    await a.page.evaluate(() => (window as unknown as { __setHidden(h: boolean): void }).__setHidden(false));
    await a.page.waitForFunction(() => !/^\(\d+\)/.test(document.title));
    const alice = await apiSession(server, demo.alice);
    const list = await alice.call<{ items: Array<{ id: string; me: { unread: number } }> }>(
      'GET',
      '/api/conversations',
    );
    assert.equal(list.items.find((c) => c.id === id)?.me.unread, 0, 'read on the server too');
    assert.deepEqual(pageProblems(a.page), []);
  } finally {
    await a.context.close();
  }
});
