/**
 * What the outbound tests share: their browser suite (every SIPp carrier killed when the file ends),
 * what a user does in the page (dialling a number, hanging up), the early-media call the carrier
 * echoes (outbound.test.ts on the embedded driver, outbound-rtpengine.test.ts on rtpengine) and what
 * they read back (the newest call record, once complete). The carrier itself is in sipp-carrier.ts.
 */
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import type { App } from '../../packages/server/src/app.ts';
import type { TrunkCarrier } from '../../packages/server/src/telephony/carriers.ts';
import type { Overrides } from '../web/harness.ts';
import { waitForStats } from '../web/call-steps.ts';
import { browserSuite, hearsSound, type BrowserSuite } from '../phones/browser-suite.ts';
import { until } from '../phones/until.ts';
import {
  assertCarrierPassed,
  CALLED_E164,
  CALLED_TYPED,
  setUpTrunk,
  startCarrier,
  stopAll,
} from './sipp-carrier.ts';

/**
 * A browser suite (browser-suite.ts) for calls out: Parley with `settings()` (debug logs with
 * TRUNK_DEBUG set); when the file ends, every SIPp carrier is killed, then `stop` runs.
 */
export function outboundSuite(
  settings: () => Overrides | Promise<Overrides> = () => ({}),
  stop: () => Promise<void> = async () => {},
): BrowserSuite {
  return browserSuite(
    async () => ({ ...(await settings()), ...(process.env.TRUNK_DEBUG ? { logLevel: 'debug' } : {}) }),
    async () => {
      stopAll();
      await stop();
    },
  );
}

/**
 * Dials `typed` on the web app's dial pad as a user does (its page, the number typed, Call);
 * resolves to the refusal the page shows in an alert, or null when the call view opened (or at once
 * after the click with `wait: false`).
 */
export async function dialFrom(
  page: Page,
  typed: string,
  o: { wait?: boolean } = {},
): Promise<string | null> {
  await page.goto(new URL('/calls/dial', page.url()).toString());
  await page.getByRole('heading', { name: 'Dial pad', level: 1 }).waitFor();
  await page.getByLabel('Number to call').fill(typed);
  await page.getByRole('button', { name: 'Call', exact: true }).click();
  if (o.wait === false) return null; // a call that ends at once shows neither (the test reads its words)
  const view = page.getByRole('region', { name: /^Call with/ });
  const alert = page.getByRole('alert');
  await Promise.race([view.waitFor(), alert.waitFor()]);
  return (await view.count()) > 0 ? null : await alert.innerText();
}

/** Dials `typed` (by default the GB national form of CALLED_E164): the call is placed; resolves to its view. */
export async function placeCall(page: Page, typed = CALLED_TYPED): Promise<Locator> {
  assert.equal(await dialFrom(page, typed), null, 'the call is placed');
  const view = page.getByRole('region', { name: `Call with ${CALLED_E164}` });
  await view.waitFor();
  return view;
}

/** Hangs up in the call view and waits until it is gone. */
export async function hangUp(view: Locator): Promise<void> {
  await view.getByRole('button', { name: 'Hang up' }).click();
  await view.waitFor({ state: 'detached' });
}

/**
 * Alice (`page`) dials the carrier's echoing number (uas-early-echo.xml: 183 with SDP, `pauseMs` of
 * early media, then 200, Session-Expires 1800; the RTP echoed throughout): she hears herself while
 * it rings (`who` names her in failures), not yet answered; once answered her echo keeps coming;
 * she hangs up and the carrier's scenario passed. Resolves to the trunk the call went out on.
 */
export async function earlyMediaEchoCall(
  suite: BrowserSuite,
  page: Page,
  who: string,
  pauseMs: number,
): Promise<TrunkCarrier> {
  const carrier = await startCarrier('uas-early-echo.xml', { pauseMs, keys: { session_expires: '1800' } });
  const trunk = await setUpTrunk(suite.server.web.app, carrier.port);
  const view = await placeCall(page);
  // Early media: the carrier's 183 answered the offer; her echo comes back while it still rings.
  await hearsSound(page, `${who} (early media)`);
  assert.equal(await view.getByRole('timer').count(), 0, 'not answered yet while the early media play');
  await view.getByRole('timer').waitFor({ timeout: 10_000 });
  const answered = await waitForStats(page, `${who}: inbound audio`, (s) => s.audioEnergy > 0);
  await waitForStats(
    page,
    `${who} hears her echo after the answer`,
    (s) => s.audioEnergy > answered.audioEnergy + 0.01,
  );
  await hangUp(view);
  assertCarrierPassed(await carrier.done);
  return trunk;
}

/** The newest call record (outbound calls are Contoso's only record of them). */
export async function lastRecord(suite: { server: { web: { app: App } } }) {
  return suite.server.web.app.storage.db
    .selectFrom('call_records')
    .selectAll()
    .orderBy('placed_at', 'desc')
    .executeTakeFirstOrThrow();
}

type CallRecordRow = Awaited<ReturnType<typeof lastRecord>>;

/**
 * Waits until the newest record is complete as `ok` says: by default ended with the carrier leg's
 * SIP code (a call that never reached the carrier has none).
 */
export function completeRecord(
  suite: { server: { web: { app: App } } },
  ok: (r: CallRecordRow) => boolean = (r) => r.ended_at !== null && r.sip_end_code !== null,
): Promise<CallRecordRow> {
  return until('the record is complete', () => lastRecord(suite), ok);
}
