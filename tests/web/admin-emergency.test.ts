/**
 * Issue 20 item 4, the tenant admin's Emergency calls screen in a real Chromium: Alice (Contoso's
 * admin) reads the emergency numbers of GB, adds a site (a city is required, said on its field), puts
 * Bob at it, and saves the emergency callback number (a national number is refused in words); all of
 * it is what an emergency call then sends (read back from the server). The screen is axe-clean in
 * both schemes and fits 360 px. Screenshots under test-output/web/emergency/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import {
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
import { until } from '../phones/until.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';

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

test('an admin keeps sites, who is where, and the callback number on the Emergency calls screen', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.alice);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Emergency calls', exact: true })
      .click();
    await page.getByRole('heading', { name: 'Emergency calls', level: 1 }).waitFor();
    await loaded(page);
    await page.getByText('Emergency numbers recognised in GB:').waitFor();
    assert.match(await page.locator('form').filter({ hasText: 'Emergency numbers' }).innerText(), /112, 999/);
    await page.getByText('No sites yet').waitFor();

    // A site: the city is required.
    await page.getByLabel('Site name').fill('Head office');
    await page.getByLabel('House number').fill('1');
    await page.getByLabel('Street').fill('Example Street');
    await page.getByLabel('Floor').fill('3');
    await page.getByRole('button', { name: 'Add site' }).click();
    await page.getByText('The city or town.').waitFor();
    await page.getByLabel('City or town').fill('London');
    await page.getByLabel('Postal code').fill('SW1A 1AA');
    await page.getByRole('button', { name: 'Add site' }).click();
    const sites = page.getByRole('table', { name: 'Sites' });
    await sites.getByRole('cell', { name: 'Floor 3, 1 Example Street, London, SW1A 1AA, GB' }).waitFor();

    // Bob is at it.
    await page.getByLabel('Location of Bob Baker').selectOption({ label: 'Head office' });
    const app = server.app;
    const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
    const bob = (await app.directory.findUserRecordByAddress(demo.bob))!;
    const at = await until(
      'Bob is at the site',
      () => app.emergency.callerLocation(trustedScope(tenant.id), bob.id),
      (l) => l !== null,
    );
    assert.equal(at!.site, 'Head office');
    assert.equal(at!.address.city, 'London');
    await sites.getByRole('cell', { name: '1', exact: true }).waitFor();

    // The callback number: international only.
    const callback = page.getByLabel('Emergency callback number');
    await callback.fill('020 7946 0000');
    await page.getByRole('button', { name: 'Save callback number' }).click();
    await page.getByText('An international number: + and the country code').waitFor();
    await callback.fill('+44 20 7946 0000');
    await page.getByRole('button', { name: 'Save callback number' }).click();
    await page.getByText('Callback number saved.').waitFor();
    assert.equal(await app.emergency.callbackNumber(trustedScope(tenant.id)), '+442079460000');

    assert.deepEqual(await checkBothSchemes(page, 'emergency', 'emergency-calls'), []);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 360, height: 740 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `the screen is ${width} px wide at 360 px`);
    await screenshot(page, 'emergency', 'emergency-calls-360');
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});
