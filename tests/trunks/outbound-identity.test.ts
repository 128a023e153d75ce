/**
 * Issue 19, "Withheld caller ID reaches the carrier with `Privacy: id`; PAI carries the user's
 * number", with SIPp as the carrier on 127.0.0.2 (uas-withheld.xml: it checks the INVITE, then
 * answers busy) and Alice in Chromium: she ticks "Withhold my number on phone calls" in Settings
 * and dials; the carrier sees From anonymous, Privacy: id and her number in P-Asserted-Identity; the
 * setting is still ticked after a reload. Unticked, `*67` before the number withholds it on that
 * call alone, and the call is to the number after the prefix. A carrier that reads Remote-Party-ID
 * gets her number there with `privacy=full`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { demo } from '../web/harness.ts';
import { until } from '../phones/until.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';
import {
  assertCarrierPassed,
  CALLED_E164,
  CALLED_TYPED,
  setUpTrunk,
  startCarrier,
  type CarrierRun,
} from './sipp-carrier.ts';
import { completeRecord, dialFrom, outboundSuite } from './outbound-steps.ts';

const suite = outboundSuite();
const BUSY = `The call to ${CALLED_E164} did not go through. The number is busy.`;
const PAI = { ID_HEADER: 'P-Asserted-Identity', ID_REGEXP: 'sip:\\+442079460018@' };

let alice: Page | undefined;
async function page(): Promise<Page> {
  return (alice ??= await suite.page(demo.alice));
}

/** The SIPp carrier checking a withheld caller ID in `id` (its identity header and what it must say). */
function withholdingCarrier(id: Record<string, string>): Promise<CarrierRun> {
  return startCarrier('uas-withheld.xml', { pauseMs: 300, fill: id });
}

/** Alice's "Withhold my number" box in Settings, once her setting has loaded. */
async function withholdBox(p: Page) {
  await p.goto(new URL('/settings', p.url()).toString());
  await p.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  const box = p.getByRole('checkbox', { name: 'Withhold my number on phone calls' });
  await until('the setting has loaded', () => box.isEnabled(), Boolean);
  return box;
}

async function aliceWithholds(): Promise<boolean> {
  const app = suite.server.web.app;
  const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
  const user = (await app.directory.findUserRecordByAddress('alice@contoso.example'))!;
  return app.telephony.withholdsCallerId(trustedScope(tenant.id), user.id);
}

/** Alice dials `typed`; the carrier's checks pass; it answers busy, which she reads; the record says so. */
async function dialWithheld(p: Page, carrier: CarrierRun, typed: string): Promise<void> {
  assert.equal(await dialFrom(p, typed), null, 'the call is placed');
  await p.getByText(BUSY).first().waitFor({ timeout: 10_000 });
  assertCarrierPassed(await carrier.done);
  const r = await completeRecord(suite, (r) => r.ended_at !== null);
  assert.equal(r.direction, 'outbound');
  assert.equal(r.callee_number, CALLED_E164, 'the call was to the number after any prefix');
  assert.equal(r.sip_end_code, 486);
}

test('Alice withholds her number in Settings: the carrier gets From anonymous, Privacy: id, and PAI with her number', async () => {
  const carrier = await withholdingCarrier(PAI);
  await setUpTrunk(suite.server.web.app, carrier.port);
  const p = await page();
  const box = await withholdBox(p);
  assert.equal(await box.isChecked(), false, 'off until she chooses it');
  await box.check();
  await until('her choice is saved', aliceWithholds, (w) => w === true);
  await dialWithheld(p, carrier, CALLED_TYPED);
  // Still her choice when she comes back to Settings.
  const again = await withholdBox(p);
  assert.equal(await again.isChecked(), true, 'still ticked after a reload');
});

test('with the setting off, *67 before the number withholds it on that call, and *67 is not dialled', async () => {
  const p = await page();
  const box = await withholdBox(p);
  if (await box.isChecked()) await box.uncheck();
  await until('the setting is off', aliceWithholds, (w) => w === false);
  assert.equal(await (await withholdBox(p)).isChecked(), false);
  const carrier = await withholdingCarrier(PAI);
  await setUpTrunk(suite.server.web.app, carrier.port);
  await dialWithheld(p, carrier, `*67 ${CALLED_TYPED}`);
  assert.equal(await aliceWithholds(), false, 'one call only: her setting is unchanged');
});

test('a carrier reading Remote-Party-ID gets her number there with privacy=full', async () => {
  const carrier = await withholdingCarrier({
    ID_HEADER: 'Remote-Party-ID',
    ID_REGEXP: 'sip:\\+442079460018@.*;party=calling.*;privacy=full',
  });
  await setUpTrunk(suite.server.web.app, carrier.port, { identity: 'rpid' });
  try {
    await dialWithheld(await page(), carrier, `141 ${CALLED_TYPED}`);
  } finally {
    await setUpTrunk(suite.server.web.app, carrier.port, { identity: 'pai' });
  }
});
