/**
 * Issue 20 item 3, credit control on the path of every call out (telephony/call-credit.ts), against
 * a SIPp carrier on 127.0.0.2 that answers and holds the call until Parley's BYE
 * (uas-answer-until-bye.xml), with Alice in Chromium and on a baresip desk phone:
 * - no credit: the place is refused before anything rings; the browser shows the words, the phone
 *   hears the special information tone and the words (early media, a 183), then gets 402 with
 *   `Reason: Q.850;cause=21;text="..."`;
 * - pay as you go, 0.05 of credit, 0.12 per minute in 1 s increments, no connection fee: granted
 *   25 s, cut at 25 s (the carrier gets the BYE), charged exactly 0.05, balance 0;
 * - a pooled tenant's last pool minute, then 0.01 of credit: cut at 65 s, the pool at 0, 0.01 charged.
 * Slices, renewals and keepalives are short so the renewals really run during the calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { App } from '../../packages/server/src/app.ts';
import { trustedScope } from '../../packages/server/src/directory/scope.ts';
import { freePort } from '../../packages/sip/test/sipp-harness.ts';
import { demo } from '../web/harness.ts';
import { until as waitUntil } from '../phones/until.ts';
import { toneOverTime } from '../phones/audio.ts';
import { SIT_HZ } from '../../packages/server/src/telephony/refusal-announcement.ts';
import { assertCarrierPassed, CALLED_E164, CALLED_TYPED, setUpTrunk, startCarrier } from './sipp-carrier.ts';
import { completeRecord, dialFrom, outboundSuite, placeCall } from './outbound-steps.ts';

// The phone's SIP trace (its log) shows the final answer's headers.
process.env.PARLEY_BARESIP_TRACE = '1';

const suite = outboundSuite(() => ({
  billingSliceSeconds: 10,
  billingRenewBefore: 3,
  billingKeepalive: 2,
  billingReservationGrace: 10,
}));

/** 0.12 per minute in 1 s increments, no connection fee, for every GB number. */
const DECK = [
  'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment',
  '44,United Kingdom,domestic,0.12,0,1,1',
].join('\n');

async function contoso(app: App) {
  const tenant = (await app.directory.findTenantByDomain('contoso.example'))!;
  return { tenant, scope: trustedScope(tenant.id) };
}

/** Contoso's balance set to `micros`, every call priced by DECK (the tenant's own sell deck). */
async function priceAndBalance(app: App, micros: number): Promise<void> {
  const { scope } = await contoso(app);
  const existing = (await app.billing.decks.listDecks()).find((d) => d.name === '0.12 a minute');
  const deck = existing ?? (await app.billing.decks.createDeck({ name: '0.12 a minute', kind: 'sell' }));
  if (!existing) await app.billing.decks.importVersion(deck.id, DECK, 0);
  await app.billing.wallet.setOptions(scope, { sellDeckId: deck.id });
  const w = await app.billing.wallet.view(scope);
  if (w.balance !== micros) await app.billing.wallet.adjust(scope, micros - w.balance, 'credit test');
}

async function wallet(app: App) {
  return app.billing.wallet.view((await contoso(app)).scope);
}

async function ratedCall(app: App, callId: string) {
  return app.storage.db
    .selectFrom('billing_rated_calls')
    .selectAll()
    .where('call_id', '=', callId)
    .executeTakeFirst();
}

/** Alice calls the holding carrier; resolves when her call is answered, with its view and the carrier. */
async function answeredCall(page: Page) {
  const carrier = await startCarrier('uas-answer-until-bye.xml', { pauseMs: 1000, timeoutMs: 120_000 });
  await setUpTrunk(suite.server.web.app, carrier.port);
  const view = await placeCall(page);
  await view.getByRole('timer').waitFor({ timeout: 10_000 });
  return { carrier, view };
}

const CUT_WORDS = `Call with ${CALLED_E164} ended. The call was cut off: your credit ran out.`;

test('with no credit the call is refused before it rings: the browser says why, the desk phone gets 402 with a Q.850 Reason', async () => {
  const app = suite.server.web.app;
  await setUpTrunk(app, await freePort()); // nothing listens: no INVITE may go out
  await priceAndBalance(app, 0);
  const page = await suite.page(demo.alice);
  assert.equal(await dialFrom(page, CALLED_TYPED), `Not enough credit to call ${CALLED_E164}.`);

  const phone = await suite.server.phone('alice-credit', {
    device: await suite.server.addDevice(demo.alice, 'alice-credit'),
  });
  try {
    await phone.waitFor('REGISTER_OK');
    await phone.dial(`sip:02079460999@${suite.server.domain}`);
    const closed = await phone.waitFor('CALL_CLOSED');
    assert.match(closed.param ?? '', /402 Payment Required/);
    // Its SIP trace reaches its log a moment after the event.
    await waitUntil(
      'the phone got the Reason header',
      async () => phone.log(),
      (log) => /Reason: Q\.850;cause=21;text="Not enough credit to call \+442079460999\."/.test(log),
    );
    // Before the 402, early media (a 183 with SDP): the special information tone, then the words
    // spoken; the phone records only media it received.
    const file = phone.recordings()[0]?.received;
    assert.ok(file, 'the phone recorded what it heard');
    for (const hz of SIT_HZ) {
      const heard = await waitUntil(
        `the phone heard ${hz} Hz`,
        () => toneOverTime(file, hz, 0.05).catch(() => [] as number[]),
        (a) => a.length > 0,
      );
      const loudest = heard.reduce((m, x) => Math.max(m, x), 0);
      assert.ok(loudest > 0.05, `the information tone's ${hz} Hz is heard (${loudest.toFixed(3)})`);
    }
  } finally {
    await phone.stop();
  }
  const w = await wallet(app);
  assert.equal(w.held, 0, 'nothing is held for refused calls');
  assert.equal(app.trunkOutbound?.size, 0, 'no trunk leg rang');
});

test('pay as you go, 0.05 of credit at 0.12 a minute: granted 25 s, cut at 25 s with a BYE to the carrier, charged exactly 0.05', async () => {
  const app = suite.server.web.app;
  await priceAndBalance(app, 50_000);
  const page = await suite.page(demo.alice);
  const { carrier, view } = await answeredCall(page);
  const answeredAt = Date.now();
  await view.waitFor({ state: 'detached', timeout: 40_000 });
  const cutAfter = Date.now() - answeredAt;
  await page.getByText(CUT_WORDS).waitFor();
  assertCarrierPassed(await carrier.done); // its BYE came
  const r = await completeRecord(suite);
  const seconds = (Number(r.ended_at) - Number(r.answered_at)) / 1000;
  assert.ok(seconds > 24 && seconds < 26.5, `the call lasted about 25 s (${seconds} s)`);
  assert.ok(
    cutAfter > 23_000 && cutAfter < 28_000,
    `Alice's call ended about 25 s after the answer (${cutAfter} ms)`,
  );
  assert.equal(r.end_reason, 'hangup');
  const rated = await until(() => ratedCall(app, r.call_id));
  assert.equal(rated.billable_seconds, 25);
  assert.equal(rated.amount_micros, 50_000, 'charged exactly 0.05');
  const w = await wallet(app);
  assert.equal(w.balance, 0, 'the balance is 0 after');
  assert.equal(w.held, 0);
});

test('a pooled tenant draws its last pool minute, then credit: cut at 65 s, the pool at 0, 0.01 charged', async () => {
  const app = suite.server.web.app;
  const { tenant, scope } = await contoso(app);
  await priceAndBalance(app, 10_000);
  const plan = await app.billing.plans.createPlan({
    name: 'One pooled minute',
    pricePerUserMonth: 0,
    services: ['calling'],
    allowedClasses: ['domestic'],
    includedMinutes: [{ country: tenant.country, cls: 'domestic', minutes: 1 }],
  });
  await app.billing.plans.setSeats(scope, plan.id, 1);
  const alice = (await app.directory.findUserRecordByAddress(demo.alice))!;
  await app.billing.plans.assign(scope, alice.id, plan.id);
  const page = await suite.page(demo.alice);
  const { carrier, view } = await answeredCall(page);
  await view.waitFor({ state: 'detached', timeout: 80_000 });
  await page.getByText(CUT_WORDS).waitFor();
  assertCarrierPassed(await carrier.done);
  const r = await completeRecord(suite);
  const seconds = (Number(r.ended_at) - Number(r.answered_at)) / 1000;
  assert.ok(seconds > 64 && seconds < 66.5, `the call lasted about 65 s (${seconds} s)`);
  const rated = await until(() => ratedCall(app, r.call_id));
  assert.equal(rated.billable_seconds, 65);
  assert.equal(rated.pool_minutes, 1, 'the last pool minute was drawn');
  assert.equal(rated.amount_micros, 10_000, 'then 5 s of credit: 0.01');
  const pool = await app.storage.db
    .selectFrom('billing_pools')
    .selectAll()
    .where('tenant_id', '=', tenant.id)
    .executeTakeFirstOrThrow();
  assert.equal(pool.used_minutes, 1);
  assert.equal(pool.held_minutes, 0, 'the pool is at 0: used, nothing held');
  const w = await wallet(app);
  assert.equal(w.balance, 0);
  assert.equal(w.held, 0);
});

async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('not rated in time');
}
