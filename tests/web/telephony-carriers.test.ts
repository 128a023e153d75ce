/**
 * The operator's Carriers screen with a registration trunk, in Chromium (issue 19): the operator
 * connects a carrier that Parley registers with (SIPp on 127.0.0.2 as a registrar that refuses the
 * password), choosing Remote-Party-ID and no health check; the trunk is stored so (the password too,
 * never shown again); *Refresh status* shows "Registration failed: 401: wrong user name or password"
 * and each address's state (unknown while the health check is off; down with its last error once the
 * server's status board says so). Saving again with the password left empty keeps the stored one.
 * The screen is axe-clean in light and dark. Screenshots under test-output/web/telephony/.
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
import { CARRIER_IP, startCarrier, stopAll, type CarrierRun } from '../trunks/sipp-carrier.ts';

let server: WebServer;
let browser: Browser;
let registrar: CarrierRun;

before(async () => {
  registrar = await startCarrier('uas-registrar-refuse.xml', { timeoutMs: 30_000 });
  // A long retry: the refused registration stays failed while the test reads it.
  server = await startWebServer({ trunkRegisterRetryMin: 60 });
  browser = await launchBrowser();
});
after(async () => {
  stopAll();
  await browser?.close();
  await server?.close();
});

test('the operator connects a registration trunk and sees its refused registration in words', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.operator.address, demo.operator.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Carriers' }).click();
    await page.getByRole('heading', { name: 'Carriers', level: 1 }).waitFor();
    await loaded(page);
    await page.getByLabel('Carrier name').fill('Reg Voice');
    await page.getByRole('button', { name: 'Add carrier' }).click();
    await page.getByRole('heading', { name: 'Reg Voice', level: 2 }).waitFor();

    const l = (what: string) => `${what} (Reg Voice)`;
    await page.getByLabel(l('SIP addresses')).fill(`${CARRIER_IP}:${registrar.port}`);
    await page.getByLabel(l('Authentication')).selectOption({ label: 'Parley registers with an account' });
    await page.getByLabel(l('Account user name')).fill('acct');
    await page.getByRole('button', { name: 'Connect SIP trunk' }).click();
    await page.getByText('The account’s password.').waitFor();
    await page.getByLabel(l('Account password')).fill('account-password');
    await page.getByLabel(l('Identity header')).selectOption({ label: 'Remote-Party-ID' });
    await page.getByLabel(l('Health check (OPTIONS pings)')).uncheck();
    await page.getByRole('button', { name: 'Connect SIP trunk' }).click();
    await page.getByRole('button', { name: 'Save SIP trunk' }).waitFor();

    const trunk = (await server.app.telephony.listTrunks()).find((t) => t.name === 'Reg Voice')!;
    assert.equal(trunk.auth, 'register');
    assert.deepEqual(trunk.registration?.registrar, { host: CARRIER_IP, port: registrar.port });
    assert.equal(trunk.registration?.username, 'acct');
    assert.equal(trunk.registration?.password, 'account-password');
    assert.equal(trunk.identity, 'rpid');
    assert.equal(trunk.healthCheck, false);
    assert.equal(await page.getByLabel(l('Account password')).inputValue(), '', 'the password is not shown');
    await page.getByText('Stored and never shown: leave empty to keep it.').waitFor();

    // The registrar refuses the password: Refresh status until the screen says so.
    const refused = page.getByText('Registration failed: 401: wrong user name or password');
    for (let i = 0; !(await refused.isVisible()); i++) {
      assert.ok(i < 60, 'the refused registration was not shown');
      await page.getByRole('button', { name: 'Refresh status' }).click();
      await loaded(page);
      await page.waitForTimeout(250);
    }
    const addresses = page.getByRole('list', { name: 'Addresses of Reg Voice' });
    await addresses.getByText(`${CARRIER_IP}:${registrar.port}: Unknown (health check off)`).waitFor();

    // What the health check records (its pings are tested on their own) is shown with the last error.
    server.app.trunkStatus.setAddress(
      trunk.id,
      { host: CARRIER_IP, port: registrar.port },
      'down',
      'no answer to OPTIONS',
    );
    await page.getByRole('button', { name: 'Refresh status' }).click();
    await addresses.getByText(`${CARRIER_IP}:${registrar.port}: Down (no answer to OPTIONS)`).waitFor();
    assert.deepEqual(await checkBothSchemes(page, 'telephony', 'carriers-registration'), []);
    await page.emulateMedia({ colorScheme: 'light' });
    await screenshot(page, 'telephony', 'carriers-registration');

    // Saved again with the password left empty: the stored password is kept.
    await page.getByLabel(l('Account user name')).fill('acct2');
    await page.getByRole('button', { name: 'Save SIP trunk' }).click();
    for (let i = 0; (await server.app.telephony.get(trunk.id))?.registration?.username !== 'acct2'; i++) {
      assert.ok(i < 100, 'the trunk was not saved');
      await page.waitForTimeout(50);
    }
    assert.equal((await server.app.telephony.get(trunk.id))?.registration?.password, 'account-password');
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});
