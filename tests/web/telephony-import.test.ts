/**
 * The number inventory end to end in Chromium (issue 19): the operator chooses a CSV file of numbers
 * on *Phone numbers*; its third row is not a valid number, so nothing is imported and the screen lists
 * row 3 with the reason; the operator chooses the fixed file, both numbers are imported, and gives one
 * to Contoso from its row. Alice, Contoso's admin, gives it to Bob. Then the carrier (SIPp on
 * 127.0.0.2) calls that number: Bob's browser rings with the caller's number, he answers and hears
 * the carrier's audio. Screenshots under test-output/web/telephony/.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiSession, demo, loaded, openPage, pageProblems, screenshot, signIn } from './harness.ts';
import { ringing } from './call-steps.ts';
import { hearsSound } from '../phones/browser-suite.ts';
import { carrierCalls, passed, stopAll } from '../trunks/sipp-inbound.ts';
import { answer, inboundSuite, incomingCall } from '../trunks/inbound-steps.ts';

const CARRIER_IP = '127.0.0.2';
const NUMBER = '+442079460418';
const CALLER = '+447700900418';

const { suite, bob, call } = inboundSuite({
  carriers: async ({ web }) => {
    // The carrier and its SIP trunk, as the Carriers screen makes them (tests/web/telephony.test.ts).
    const op = await apiSession(web, demo.operator.address, demo.operator.password);
    const { id } = await op.call<{ id: string }>('POST', '/api/operator/billing/carriers', {
      name: 'Csv Carrier',
    });
    await op.call('PUT', `/api/operator/telephony/carriers/${id}`, {
      addresses: [{ host: CARRIER_IP, port: 5060 }],
      allow: [CARRIER_IP],
    });
  },
  call: { from: CARRIER_IP, to: NUMBER, caller: CALLER },
});
after(stopAll);

const file = (text: string) => ({ name: 'numbers.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });

test('the operator imports numbers (a bad row first), Alice gives one to Bob, and a call to it rings Bob', async () => {
  const b = await bob();
  const web = suite.server.web;
  const browser = b.context().browser()!;

  const { context, page } = await openPage(browser, web.url);
  try {
    await signIn(page, demo.operator.address, demo.operator.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Phone numbers' }).click();
    await page.getByRole('heading', { name: 'Import numbers (CSV)', level: 2 }).waitFor();
    await loaded(page);

    const picker = page.getByLabel('CSV file');
    await picker.setInputFiles(
      file(`number,carrier,tenant\n${NUMBER},Csv Carrier,contoso.example\n+44 20 7946,Csv Carrier,\n`),
    );
    const text = page.getByLabel('Numbers CSV text');
    await page.waitForFunction(
      (el) => (el as HTMLTextAreaElement).value.includes('+44 20 7946,'),
      await text.elementHandle(),
    );
    await page.getByRole('button', { name: 'Import numbers' }).click();
    const problems = page.getByRole('table', { name: 'Problems in the file' });
    await problems.waitFor();
    await page.getByText('The numbers file has errors; nothing was imported.').waitFor();
    const bad = problems.getByRole('row').filter({ hasText: 'That is not a valid phone number' });
    assert.equal(await bad.getByRole('cell').first().innerText(), '3');
    assert.equal(await problems.getByRole('row').count(), 2, 'the header and one bad row');
    assert.equal(await web.app.telephony.byNumber(NUMBER), null, 'nothing was imported');
    await screenshot(page, 'telephony', 'number-import-refused');

    await picker.setInputFiles(
      file(`number,carrier,tenant\n${NUMBER},Csv Carrier,\n+44 20 7946 0419,Csv Carrier,\n`),
    );
    await page.waitForFunction(
      (el) => (el as HTMLTextAreaElement).value.includes('0419'),
      await text.elementHandle(),
    );
    await page.getByRole('button', { name: 'Import numbers' }).click();
    await page.getByRole('status').filter({ hasText: '2 numbers imported.' }).waitFor();
    await problems.waitFor({ state: 'detached' });
    const inventory = page.getByRole('table', { name: 'Number inventory' });
    await inventory.getByRole('row').filter({ hasText: '+442079460419' }).waitFor();

    await page.getByLabel(`Tenant of ${NUMBER}`).selectOption({ label: 'Contoso' });
    const contoso = (await web.app.directory.findTenantByDomain('contoso.example'))!;
    for (let i = 0; (await web.app.telephony.byNumber(NUMBER))?.tenantId !== contoso.id; i++) {
      assert.ok(i < 100, 'the number was not given to Contoso');
      await page.waitForTimeout(50);
    }
    assert.equal((await web.app.telephony.byNumber('+442079460419'))?.tenantId, null);
    await screenshot(page, 'telephony', 'number-import-done');
    assert.deepEqual(pageProblems(page), []);
  } finally {
    await context.close();
  }

  const admin = await suite.page(demo.alice);
  await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Phone numbers' }).click();
  await admin.getByLabel(`Who has ${NUMBER}`).selectOption({ label: `Bob Baker (${demo.bob})` });
  const contoso = (await web.app.directory.findTenantByDomain('contoso.example'))!;
  const bobId = (await web.app.directory.findUserRecordByAddress(demo.bob))!.id;
  for (let i = 0; (await web.app.telephony.numberOfUser(contoso.id, bobId)) !== NUMBER; i++) {
    assert.ok(i < 100, 'Bob did not get the number');
    await admin.waitForTimeout(50);
  }

  // The carrier calls the number: Bob's browser rings, he answers and hears the caller.
  const run = await carrierCalls('answered-bye', call({ pauseMs: 6000 }));
  const incoming = await incomingCall(b, CALLER);
  assert.equal(await ringing(b), true, 'Bob’s browser rings');
  const view = await answer(b, CALLER, incoming);
  await hearsSound(b, 'Bob');
  await passed(run, 'the carrier’s call');
  await view.waitFor({ state: 'detached' });
});
