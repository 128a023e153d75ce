/**
 * The dial pad end to end: Alice opens it from the Calls screen, sees her own number, types a GB
 * number as she would dial it (`020 7946 0999`) and presses Call; Parley places the call on the carrier
 * (SIPp on 127.0.0.2, answering after early media and echoing her audio); the in-call view names the
 * number, she hears her own voice back, hangs up, and the call is in her history as an outgoing phone
 * call to +442079460999 with its duration, its price and why, and a call-back. Screenshots under
 * test-output/web/telephony/.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { demo, screenshot, seriousViolations } from './harness.ts';
import { browserSuite, hearsSound } from '../phones/browser-suite.ts';
import { until } from '../phones/until.ts';
import {
  ALICE_NUMBER,
  assertCarrierPassed,
  CALLED_E164,
  setUpTrunk,
  startCarrier,
  stopAll,
} from '../trunks/sipp-carrier.ts';

const suite = browserSuite();
after(stopAll);

test('Alice calls a phone number from the dial pad and finds it in her history', async () => {
  const carrier = await startCarrier('uas-early-echo.xml', {
    pauseMs: 1500,
    keys: { session_expires: '1800' },
  });
  await setUpTrunk(suite.server.web.app, carrier.port);
  const a = await suite.page(demo.alice);
  await a.goto(`${suite.server.web.url}/calls`);
  await a.getByRole('heading', { name: 'Calls', level: 1 }).waitFor();
  await a.getByRole('link', { name: 'Dial pad' }).click();
  await a.getByRole('heading', { name: 'Dial pad', level: 1 }).waitFor();
  await a
    .getByRole('status')
    .filter({ hasText: `Your number: ${ALICE_NUMBER}` })
    .waitFor();
  await a.getByLabel('Number to call').fill('020 7946 0999');
  await a.getByRole('button', { name: 'Call', exact: true }).click();

  const view = a.getByRole('region', { name: `Call with ${CALLED_E164}` });
  await view.waitFor();
  await view.getByRole('timer').waitFor({ timeout: 15_000 });
  await hearsSound(a, 'Alice (the carrier echoes her)');
  assert.deepEqual(await seriousViolations(a), [], 'in a phone call');
  await screenshot(a, 'telephony', 'phone-call');
  // At least two seconds answered, so the call has a duration to price (whole seconds).
  await until(
    'two seconds of the call',
    async () => (await view.getByRole('timer').textContent()) ?? '',
    (t) => !/^0:0[01]$/.test(t.trim()),
  );
  await view.getByRole('button', { name: 'Hang up' }).click();
  await view.waitFor({ state: 'detached' });
  assertCarrierPassed(await carrier.done);

  await a.goto(`${suite.server.web.url}/calls`);
  const row = a
    .getByRole('list', { name: 'Call history' })
    .getByRole('listitem')
    .filter({ hasText: CALLED_E164 });
  await row.getByText('Outgoing phone call').waitFor();
  await row.getByLabel(/^Duration /).waitFor();
  await row.getByRole('button', { name: `Call ${CALLED_E164}` }).waitFor();
  // Rated by credit control (the test plan's sell deck: the UK at 0.01 a minute, billed per second).
  const price = row.locator('.history-price');
  await price.waitFor();
  assert.match(
    (await price.textContent()) ?? '',
    /^Price 0\.\d+ · \d+ s from credit at 0\.01\/min \(United Kingdom, prefix 44, billed per second, rate deck version 1\)$/,
  );
  await screenshot(a, 'telephony', 'history-after-phone-call');
});
