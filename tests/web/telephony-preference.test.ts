/**
 * The operator's Carriers screen sets a trunk's routing preference (issue 20, least-cost routing's
 * tie-break between carriers that cost the same for a number), in Chromium: a value that is no whole
 * number is refused in words, 7 is stored, and the form shows it again after a reload.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import {
  demo,
  launchBrowser,
  loaded,
  openPage,
  pageProblems,
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

test('the operator gives a carrier a routing preference', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.operator.address, demo.operator.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Carriers' }).click();
    await page.getByRole('heading', { name: 'Carriers', level: 1 }).waitFor();
    await loaded(page);
    await page.getByLabel('Carrier name').fill('Pref Voice');
    await page.getByRole('button', { name: 'Add carrier' }).click();
    await page.getByRole('heading', { name: 'Pref Voice', level: 2 }).waitFor();

    const l = (what: string) => `${what} (Pref Voice)`;
    await page.getByLabel(l('SIP addresses')).fill('127.0.0.2:5060');
    assert.equal(await page.getByLabel(l('Routing preference')).inputValue(), '0', '0 by default');
    await page.getByLabel(l('Routing preference')).fill('first');
    await page.getByRole('button', { name: 'Connect SIP trunk' }).click();
    await page.getByText('A whole number from -1000 to 1000 (lower is tried first).').waitFor();
    assert.equal(
      (await server.app.telephony.listTrunks()).some((t) => t.name === 'Pref Voice'),
      false,
    );

    await page.getByLabel(l('Routing preference')).fill('7');
    await page.getByRole('button', { name: 'Connect SIP trunk' }).click();
    await page.getByRole('button', { name: 'Save SIP trunk' }).waitFor();
    const trunk = (await server.app.telephony.listTrunks()).find((t) => t.name === 'Pref Voice')!;
    assert.equal(trunk.preference, 7);

    await page.reload();
    await loaded(page);
    await page.getByRole('heading', { name: 'Pref Voice', level: 2 }).waitFor();
    assert.equal(await page.getByLabel(l('Routing preference')).inputValue(), '7');
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});
