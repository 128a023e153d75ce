/**
 * The browser side of the phone tests, shared: one Parley for phones and one Chromium per test file
 * (started in `before`, closed in `after` with every page opened), and the steps a user takes in the
 * web app during a call with a desk phone: open the app, call someone from their card, hear sound,
 * press keys on the call view's Keypad. The phone side is baresip (baresip.ts).
 */
import { after, before } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { apiSession, demo, launchBrowser, mediaArgs, type Overrides } from '../web/harness.ts';
import { openCallPage, waitForStats, type CallPage } from '../web/call-steps.ts';
import type { Baresip } from './baresip.ts';
import { startPhoneServer, type PhoneServer } from './parley.ts';

export interface BrowserSuite {
  /** The running Parley (set once `before` ran). */
  readonly server: PhoneServer;
  /** A signed-in call page for `address`, closed by the suite. */
  page(address: string): Promise<Page>;
  /** Alice opens `name`'s card and calls (audio). */
  call(a: Page, address: string, name: string): Promise<void>;
}

/**
 * Registers `before`/`after` hooks for a Parley started with `options()` (called in `before`, so a
 * media driver's daemon may be started first) and a Chromium with fake media; `stop` runs last.
 */
export function browserSuite(
  options: () => Overrides | Promise<Overrides> = () => ({}),
  stop: () => Promise<void> = async () => {},
): BrowserSuite {
  let server: PhoneServer | undefined;
  let browser: Browser | undefined;
  const pages: CallPage[] = [];
  before(async () => {
    server = await startPhoneServer(await options());
    browser = await launchBrowser(mediaArgs);
  });
  after(async () => {
    for (const p of pages) await p.context.close();
    await browser?.close();
    await server?.close();
    await stop();
  });
  const running = (): PhoneServer => {
    if (!server) throw new Error('the suite’s server is not started (use it inside a test)');
    return server;
  };
  return {
    get server() {
      return running();
    },
    async page(address) {
      const p = await openCallPage(browser!, running().web, address);
      pages.push(p);
      return p.page;
    },
    async call(a, address, name) {
      const web = running().web;
      const id = await (await apiSession(web, demo.alice)).idOf(address);
      await a.goto(`${web.url}/people/${encodeURIComponent(id)}`);
      await a.getByRole('heading', { name, level: 1 }).waitFor();
      await a.getByRole('button', { name: `Call ${name}`, exact: true }).click();
    },
  };
}

/** Inbound audio energy that grows by a clear step (speech, not comfort noise). */
export async function hearsSound(p: Page, who: string): Promise<void> {
  const first = await waitForStats(p, `${who}: inbound audio`, (s) => s.audioEnergy > 0);
  await waitForStats(
    p,
    `${who}: inbound audio energy grows`,
    (s) => s.audioEnergy > first.audioEnergy + 0.01,
  );
}

/** The next `n` digits a phone received as RFC 4733 telephone-events (baresip's CALL_DTMF_START). */
export async function digitsAt(phone: Baresip, n: number): Promise<string> {
  let got = '';
  for (let i = 0; i < n; i++) got += (await phone.waitFor('CALL_DTMF_START')).param ?? '';
  return got;
}

/** Presses `digits` on the call view's web Keypad, one key at a time. */
export async function pressKeys(view: Locator, digits: string): Promise<void> {
  const keypad = view.getByRole('group', { name: 'Keypad' });
  if (!(await keypad.isVisible())) await view.getByRole('button', { name: 'Keypad' }).click();
  for (const d of digits) await keypad.getByRole('button', { name: `Key ${d}`, exact: true }).click();
  await keypad.getByText(`Sent: ${digits}`).waitFor();
}
