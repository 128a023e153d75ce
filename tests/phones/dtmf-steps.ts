/**
 * DTMF between a browser and a desk phone, both ways, as steps any media driver can run (issue 16's
 * DTMF test; issue 17 runs it again on the rtpengine driver): `dtmfTests(label, options)` starts its
 * own Parley with `options` (the driver's settings, computed once the driver's daemon is up) and
 * registers two tests under `label`:
 * - Alice's browser calls Bob's desk phone (baresip, answering by itself): digits typed on the phone
 *   (`sndcode`, RFC 4733 telephone-events) appear in Alice's call view as the keys the other side
 *   pressed (the server's `call.dtmf` push; browsers hand received RFC 4733 events to no page), and the
 *   keys Alice presses on the web Keypad reach the phone as RFC 4733 events (baresip raises
 *   `CALL_DTMF_START` for each telephone-event it receives);
 * - Carol's desk phone calls Alice, who answers in the browser: the same both ways, through the other
 *   half of the phone code (a phone placing a call rather than being rung).
 * What is asserted is what a user notices: the digits, in order, on the other side.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';
import { apiSession, demo, type Overrides } from '../web/harness.ts';
import type { Baresip } from './baresip.ts';
import { browserSuite, digitsAt, pressKeys } from './browser-suite.ts';

/** The digits each side types: the phone's include `#` and `*`, the keypad's too. */
const PHONE_DIGITS = '42#7';
const BROWSER_DIGITS = '15*0';

/**
 * Both directions in one answered call: the phone types, the call view shows its keys; the browser
 * types, the phone receives them.
 */
async function digitsBothWays(view: Locator, phone: Baresip, who: string): Promise<void> {
  await phone.sendDigits(PHONE_DIGITS);
  await view
    .getByText(`Keys pressed by the other side: ${PHONE_DIGITS}`, { exact: true })
    .waitFor({ timeout: 10_000 })
    .catch(async (err: Error) => {
      const shown = await view
        .locator('.keypad-received')
        .innerText()
        .catch(() => '');
      throw new Error(`${who}’s digits did not reach the browser (it shows "${shown}"): ${err.message}`);
    });
  await pressKeys(view, BROWSER_DIGITS);
  assert.equal(
    await digitsAt(phone, BROWSER_DIGITS.length),
    BROWSER_DIGITS,
    `the browser’s keys reach ${who}’s phone as RFC 4733 events, in order`,
  );
}

/**
 * Registers the DTMF tests against a Parley started with `options` (called in `before`, so a driver's
 * daemon may be started first and its address handed in).
 */
export function dtmfTests(label: string, options: () => Overrides | Promise<Overrides> = () => ({})): void {
  describe(`DTMF between a browser and a desk phone (${label})`, () => {
    const suite = browserSuite(options);
    const { page } = suite;

    test('Alice’s browser calls Bob’s desk phone: his digits show in her call view, her keypad’s reach his phone', async () => {
      const bob = await suite.server.phone('bob-dtmf', {
        device: await suite.server.addDevice(demo.bob, 'bob-dtmf'),
        answer: 'auto',
      });
      try {
        await bob.waitFor('REGISTER_OK');
        const a = await page(demo.alice);
        const id = await (await apiSession(suite.server.web, demo.alice)).idOf(demo.bob);
        await a.goto(`${suite.server.web.url}/people/${encodeURIComponent(id)}`);
        await a.getByRole('heading', { name: 'Bob Baker', level: 1 }).waitFor();
        await a.getByRole('button', { name: 'Call Bob Baker', exact: true }).click();
        await bob.waitFor('CALL_ESTABLISHED');
        const view = a.getByRole('region', { name: 'Call with Bob Baker' });
        await view.getByRole('timer').waitFor();
        await bob.waitFor('CALL_RTPESTAB');

        await digitsBothWays(view, bob, 'Bob');

        await view.getByRole('button', { name: 'Hang up' }).click();
        await bob.waitFor('CALL_CLOSED');
      } finally {
        await bob.stop(); // an auto-answering phone left registered would answer another test's call
      }
    });

    test('Carol’s desk phone calls Alice, who answers in the browser: digits both ways', async () => {
      const carol = await suite.server.phone('carol-dtmf', {
        device: await suite.server.addDevice(demo.carol, 'carol-dtmf'),
      });
      try {
        await carol.waitFor('REGISTER_OK');
        const a = await page(demo.alice);
        await carol.dial(`sip:alice@${suite.server.domain}`);
        const incoming = a.getByRole('alertdialog', { name: 'Carol Chen' });
        await incoming.waitFor();
        await incoming.getByRole('button', { name: /^Answer with audio/ }).click();
        const view = a.getByRole('region', { name: 'Call with Carol Chen' });
        await view.getByRole('timer').waitFor();
        await carol.waitFor('CALL_ESTABLISHED');
        await carol.waitFor('CALL_RTPESTAB');

        await digitsBothWays(view, carol, 'Carol');

        await carol.hangup();
        await carol.waitFor('CALL_CLOSED');
        await view.waitFor({ state: 'detached' });
      } finally {
        await carol.stop();
      }
    });
  });
}
