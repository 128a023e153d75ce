/**
 * The in-call keypad: Alice presses keys in a call with Bob and Bob's call view reads them out (the
 * keys travel as `call.dtmf`, the same way a desk phone's RFC 4733 digits reach a browser); axe-clean.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import {
  apiSession,
  demo,
  launchBrowser,
  mediaArgs,
  seriousViolations,
  startWebServer,
  type WebServer,
} from './harness.ts';
import { openCallPage, type CallPage } from './call-steps.ts';

let server: WebServer;
let browser: Browser;

before(async () => {
  server = await startWebServer();
  browser = await launchBrowser(mediaArgs);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('keys pressed on the keypad reach the other side of the call', async () => {
  const aliceApi = await apiSession(server, demo.alice);
  const pages: CallPage[] = [];
  try {
    const alice = await openCallPage(browser, server, demo.alice);
    pages.push(alice);
    const bob = await openCallPage(browser, server, demo.bob);
    pages.push(bob);
    const a = alice.page;
    const b = bob.page;
    const bobId = await aliceApi.idOf(demo.bob);
    await a.goto(`${server.url}/people/${encodeURIComponent(bobId)}`);
    await a.getByRole('button', { name: 'Chat' }).click();
    await a.getByRole('heading', { name: 'Bob Baker', level: 2 }).waitFor();
    await a.getByRole('button', { name: 'Call Bob Baker', exact: true }).click();
    const incoming = b.getByRole('alertdialog', { name: 'Alice Archer' });
    await incoming.getByRole('button', { name: 'Answer with audio' }).click();
    const aliceView = a.getByRole('region', { name: 'Call with Bob Baker' });
    const bobView = b.getByRole('region', { name: 'Call with Alice Archer' });
    await aliceView.getByText('Connected').waitFor();
    await aliceView.getByRole('button', { name: 'Keypad' }).click();
    const keys = aliceView.getByRole('group', { name: 'Keypad' });
    await keys.getByRole('button', { name: 'Key 5' }).click();
    await keys.getByRole('button', { name: 'Key #' }).click();
    await bobView.getByText('Keys pressed by the other side: 5#').waitFor();
    await keys.getByText('Sent: 5#').waitFor();
    assert.deepEqual(await seriousViolations(a), [], 'the open keypad');
    await aliceView.getByRole('button', { name: 'Hang up' }).click();
    await bobView.waitFor({ state: 'detached' });
  } finally {
    for (const p of pages) await p.context.close();
  }
});
