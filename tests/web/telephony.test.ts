/**
 * The phone network's screens in a real Chromium. The operator connects a carrier's SIP trunk beside
 * its billing carrier (a bad address is refused on its field) and stocks numbers, giving them to Contoso;
 * Contoso's admin gives one to Bob and sets the dial plan country; Bob sees his own number on the dial
 * pad, pastes a formatted number, presses keys, follows a `tel:` link, and places a call that the
 * server refuses once no carrier has a trunk (shown in words); his phone calls are in the history
 * by number with a call-back. Every screen is axe-clean in light and dark and fits 360 px.
 * Screenshots under test-output/web/telephony/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import {
  checkBothSchemes,
  demo,
  launchBrowser,
  loaded,
  mediaArgs,
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
  // Fake microphone: the dial pad's Call opens it before the server answers.
  browser = await launchBrowser(mediaArgs);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(page: Page, link: string, heading = link): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  await loaded(page);
}

/** axe in both schemes, then nothing wider than a 360 px phone (and axe again there). */
async function clean(page: Page, name: string): Promise<void> {
  assert.deepEqual(await checkBothSchemes(page, 'telephony', name), [], name);
  await page.emulateMedia({ colorScheme: 'light' });
  const size = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 740 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 360, `${name} is ${width} px wide at 360 px`);
  await screenshot(page, 'telephony', `${name}-360`);
  if (size) await page.setViewportSize(size);
}

test('the operator connects a carrier and stocks numbers for a tenant', async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.operator.address, demo.operator.password);
    await open(page, 'Carriers');
    await page.getByLabel('Carrier name').fill('Carrier One');
    await page.getByRole('button', { name: 'Add carrier' }).click();
    await page.getByRole('heading', { name: 'Carrier One', level: 2 }).waitFor();
    await page.getByText('Not connected to the phone network yet').waitFor();

    const addresses = page.getByLabel('SIP addresses (Carrier One)');
    await addresses.fill('127.0.0.2:99999');
    await page.getByRole('button', { name: 'Connect SIP trunk' }).click();
    await page.getByText('Enter HOST:PORT, several separated by commas').waitFor();
    assert.equal(await addresses.getAttribute('aria-invalid'), 'true');
    assert.equal(server.app.telephony.carrierBySource('127.0.0.2'), undefined);

    await addresses.fill('127.0.0.2:5070');
    await page.getByLabel('Codecs in order (Carrier One)').fill('PCMU, PCMA');
    await page.getByLabel('Channel limit (Carrier One)').fill('30');
    await page.getByRole('button', { name: 'Connect SIP trunk' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: "Takes calls: UDP to 127.0.0.2:5070; calls from 127.0.0.2 are this carrier's." })
      .waitFor();
    const trunk = server.app.telephony.carrierBySource('127.0.0.2');
    assert.equal(trunk?.name, 'Carrier One');
    assert.deepEqual(trunk?.addresses, [{ host: '127.0.0.2', port: 5070 }]);
    assert.deepEqual(trunk?.codecs, ['PCMU', 'PCMA']);
    assert.equal(trunk?.channelLimit, 30);
    assert.equal(trunk?.tenantId, null);
    await page.getByRole('button', { name: 'Save SIP trunk' }).waitFor();
    await clean(page, 'carriers');

    await open(page, 'Phone numbers');
    const number = page.getByLabel('Phone number', { exact: true });
    await number.fill('020 7946 0018');
    await page.getByRole('button', { name: 'Add number' }).click();
    await page.getByText('Enter the number in international format').waitFor();
    await number.fill('+44 20 7946 0018');
    await page.getByLabel('Tenant', { exact: true }).selectOption({ label: 'Contoso' });
    await page.getByRole('button', { name: 'Add number' }).click();
    const table = page.getByRole('table');
    await table.getByRole('row').filter({ hasText: '+442079460018' }).waitFor();
    for (const n of ['+44 20 7946 0019', '+44 20 7946 0020']) {
      await number.fill(n);
      await page.getByLabel('Tenant', { exact: true }).selectOption({ label: 'Not given to a tenant' });
      await page.getByRole('button', { name: 'Add number' }).click();
      await table
        .getByRole('row')
        .filter({ hasText: n.replace(/ /g, '') })
        .waitFor();
    }
    // The same number twice is refused on its field, in words.
    await number.fill('+44 20 7946 0018');
    await page.getByRole('button', { name: 'Add number' }).click();
    await page.getByText('That number is already in the inventory.').waitFor();

    // Give one to Contoso from its row; remove another.
    await page.getByLabel('Tenant of +442079460019').selectOption({ label: 'Contoso' });
    const contoso = (await server.app.directory.findTenantByDomain('contoso.example'))!;
    for (let i = 0; (await server.app.telephony.byNumber('+442079460019'))?.tenantId !== contoso.id; i++) {
      assert.ok(i < 100, 'the number was not given to Contoso');
      await page.waitForTimeout(50);
    }
    await page.getByRole('button', { name: 'Remove +442079460020' }).click();
    await table.getByRole('row').filter({ hasText: '+442079460020' }).waitFor({ state: 'detached' });
    assert.equal(await server.app.telephony.byNumber('+442079460020'), null);
    assert.equal((await server.app.telephony.byNumber('+442079460018'))?.tenantId, contoso.id);
    await clean(page, 'numbers');
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});

test("Contoso's admin gives Bob a number and sets the dial plan country", async () => {
  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.alice);
    await open(page, 'Phone numbers');
    const rows = page.getByRole('table', { name: 'Your organisation’s numbers' }).getByRole('row');
    await rows.filter({ hasText: '+442079460018' }).waitFor();
    assert.equal(await rows.filter({ hasText: '+442079460020' }).count(), 0);
    await page.getByLabel('Who has +442079460018').selectOption({ label: `Bob Baker (${demo.bob})` });
    const contoso = (await server.app.directory.findTenantByDomain('contoso.example'))!;
    const bob = (await server.app.directory.findUserRecordByAddress(demo.bob))!;
    for (let i = 0; (await server.app.telephony.numberOfUser(contoso.id, bob.id)) !== '+442079460018'; i++) {
      assert.ok(i < 100, 'Bob did not get the number');
      await page.waitForTimeout(50);
    }

    const country = page.getByLabel('Dial plan country');
    assert.equal(await country.inputValue(), 'GB');
    await country.fill('United Kingdom');
    await page.getByRole('button', { name: 'Save dial plan' }).click();
    await page.getByText('Two letters, such as GB, US or FR.').waitFor();
    await country.fill('fr');
    await page.getByRole('button', { name: 'Save dial plan' }).click();
    await page.getByRole('status').filter({ hasText: 'People now dial national numbers of FR.' }).waitFor();
    await clean(page, 'admin-numbers');
    await country.fill('GB');
    await page.getByRole('button', { name: 'Save dial plan' }).click();
    await page.getByRole('status').filter({ hasText: 'People now dial national numbers of GB.' }).waitFor();
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});

test('Bob dials: his number, paste, keys, a tel: link, the refusal in words, phone calls in history', async () => {
  const contoso = (await server.app.directory.findTenantByDomain('contoso.example'))!;
  const bob = (await server.app.directory.findUserRecordByAddress(demo.bob))!;
  // Two phone calls as the B2BUA records them: out to a number (answered, 65 s), in from one (missed).
  const t0 = Date.now() - 3_600_000;
  await server.app.storage.db
    .insertInto('call_records')
    .values([
      {
        call_id: 'cal_phoneout000000001',
        tenant_id: contoso.id,
        direction: 'outbound',
        caller_user_id: bob.id,
        caller_number: '+442079460018',
        callee_user_id: null,
        callee_number: '+33142685300',
        carrier: 'Carrier One',
        video: 0,
        placed_at: t0,
        ringing_at: t0 + 1_000,
        answered_at: t0 + 5_000,
        ended_at: t0 + 70_000,
        alive_at: t0 + 70_000,
        disposition: 'answered',
        end_reason: 'hangup',
        missed: 0,
      },
      {
        call_id: 'cal_phonein0000000001',
        tenant_id: contoso.id,
        direction: 'inbound',
        caller_user_id: null,
        caller_number: '+12025550143',
        callee_user_id: bob.id,
        callee_number: '+442079460018',
        carrier: 'Carrier One',
        video: 0,
        placed_at: t0 + 600_000,
        ringing_at: t0 + 600_000,
        answered_at: null,
        ended_at: t0 + 630_000,
        alive_at: t0 + 630_000,
        disposition: 'missed',
        end_reason: 'cancelled',
        missed: 1,
      },
    ] as never)
    .execute();

  const { context, page } = await openPage(browser, server.url);
  try {
    await signIn(page, demo.bob);
    // (The navigation's Calls link carries the missed-call badge in its name.)
    await page.goto(`${server.url}/calls`);
    await page.getByRole('heading', { name: 'Calls', level: 1 }).waitFor();
    const history = page.getByRole('list', { name: 'Call history' });
    const out = history.getByRole('listitem').filter({ hasText: '+33142685300' });
    await out.getByText('Outgoing phone call').waitFor();
    await out.getByText('1:05').waitFor();
    const missed = history.getByRole('listitem').filter({ hasText: '+12025550143' });
    await missed.getByText('Missed phone call').waitFor();
    await missed.getByText('Caller hung up').waitFor();
    await missed.getByRole('button', { name: 'Call +12025550143' }).waitFor();
    await clean(page, 'history');

    await page.goto(`${server.url}/settings`);
    await page.getByRole('status').filter({ hasText: 'Your number: +442079460018' }).waitFor();
    await clean(page, 'settings');
    await page.goto(`${server.url}/calls`);
    await page.getByRole('link', { name: 'Dial pad' }).click();
    await page.getByRole('heading', { name: 'Dial pad', level: 1 }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Your number: +442079460018' }).waitFor();
    const pad = page.getByLabel('Number to call');
    await page.getByText('A number of GB as you would dial it there').waitFor();

    // A number pasted however it is written lands on the pad as digits.
    await pad.focus();
    await pad.evaluate((el, text) => {
      const data = new DataTransfer();
      data.setData('text/plain', text);
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, 'Call +44 (0)20 7946-0019, thanks!');
    assert.equal(await pad.inputValue(), '+442079460019');
    const keys = page.getByRole('group', { name: 'Dial pad keys' });
    await keys.getByRole('button', { name: 'Delete the last digit' }).click();
    await keys.getByRole('button', { name: 'Key 7' }).click();
    assert.equal(await pad.inputValue(), '+442079460017');
    await pad.fill('');
    for (const k of ['0', '2', '0', '7', '9', '4', '6', '0', '0', '1', '8']) {
      await keys.getByRole('button', { name: `Key ${k}` }).click();
    }
    assert.equal(await pad.inputValue(), '02079460018');
    await clean(page, 'dial-pad');

    // With no carrier's trunk (the operator removed it) the refusal is said in words. (The digits
    // keyed above are Alice's number: that would ring her on-net, with no carrier at all.)
    const trunk = (await server.app.telephony.listTrunks()).find((t) => t.name === 'Carrier One')!;
    assert.equal(await server.app.telephony.removeTrunk(trunk.id), true);
    await pad.fill('020 7946 0999');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Calls to that number cannot be placed right now.' })
      .waitFor();
    assert.equal(await page.getByRole('region', { name: /^Call with/ }).count(), 0);

    // A tel: link anywhere in the app opens the pad with its number.
    await page.goto(`${server.url}/calls`);
    await history.waitFor();
    await page.evaluate(() => {
      const a = document.createElement('a');
      a.href = 'tel:+1-202-555-0143;phone-context=example';
      a.textContent = 'Phone the front desk';
      document.querySelector('main')!.append(a);
    });
    await page.getByRole('link', { name: 'Phone the front desk' }).click();
    await page.getByRole('heading', { name: 'Dial pad', level: 1 }).waitFor();
    assert.equal(await pad.inputValue(), '+12025550143');
    assert.equal(new URL(page.url()).pathname, '/calls/dial');
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }
});
