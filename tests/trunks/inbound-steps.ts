/**
 * What the inbound trunk tests share: a browser suite whose carriers are set up once (over HTTP, in
 * the first test, when the server is up) before Bob's page opens, the carrier calls' defaults, Bob
 * seeing and answering the incoming call, and what they read back from the server (the newest call
 * record, waiting for it to end and for no calls to be left). SIPp itself is in sipp-inbound.ts.
 */
import type { Locator, Page } from 'playwright-core';
import type { App } from '../../packages/server/src/app.ts';
import { demo, type Overrides } from '../web/harness.ts';
import { browserSuite, type BrowserSuite } from '../phones/browser-suite.ts';
import type { PhoneServer } from '../phones/parley.ts';
import { until } from '../phones/until.ts';
import { stopAll, type InboundCall } from './sipp-inbound.ts';

/** The newest call record (the calls of a test file are one after another). */
export async function lastRecord(app: App) {
  return app.storage.db
    .selectFrom('call_records')
    .selectAll()
    .orderBy('placed_at', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
}

export type CallRecordRow = Awaited<ReturnType<typeof lastRecord>>;

/** Ended, with the SIP code that ended the carrier leg (the last of the record's writes). */
const recordEnded = (r: CallRecordRow): boolean => r.ended_at !== null && r.sip_end_code !== null;

/**
 * Waits until the newest record is as `ok` says, ended by default (its writes are chained after the
 * call's end).
 */
export function endedRecord(
  app: App,
  ok: (r: CallRecordRow) => boolean = recordEnded,
  what = 'the record ends',
): Promise<CallRecordRow> {
  return until(what, () => lastRecord(app), ok);
}

/** Waits until no call and no carrier leg is left (`ms` at most). */
export async function noCallsLeft(app: App, ms = 5000): Promise<void> {
  await until(
    'calls were left over',
    () => app.calls.size + (app.trunkInbound?.size ?? 0),
    (n) => n === 0,
    ms,
  );
}

/** The incoming call from `caller` shown in `page` (waits until it is). */
export async function incomingCall(page: Page, caller: string): Promise<Locator> {
  const incoming = page.getByRole('alertdialog', { name: caller });
  await incoming.waitFor({ timeout: 15_000 });
  return incoming;
}

/** Answers with audio the incoming call (`incomingCall`'s, or the one `caller` places); resolves to the call view, once up. */
export async function answer(page: Page, caller: string, incoming?: Locator): Promise<Locator> {
  const shown = incoming ?? (await incomingCall(page, caller));
  await shown.getByRole('button', { name: /^Answer with audio/ }).click();
  const view = page.getByRole('region', { name: `Call with ${caller}` });
  await view.getByRole('timer').waitFor();
  return view;
}

export interface InboundSuite {
  readonly suite: BrowserSuite;
  /** Bob's page, once the carriers are set up (in the first test that asks). */
  bob(): Promise<Page>;
  /** A carrier call with the file's defaults (to Parley's SIP UDP port), `o` overriding them. */
  call(o?: Partial<InboundCall>): InboundCall;
  lastRecord(): Promise<CallRecordRow>;
  endedRecord(ok?: (r: CallRecordRow) => boolean, what?: string): Promise<CallRecordRow>;
  noCallsLeft(): Promise<void>;
}

/**
 * A browser suite (browser-suite.ts) for calls from carriers: `carriers` sets them up as the operator
 * and the tenant admin would (sipp-inbound.ts `addCarrier`), once; every SIPp run is killed when the
 * file ends, then `stop` runs.
 */
export function inboundSuite(o: {
  settings?: () => Overrides | Promise<Overrides>;
  stop?: () => Promise<void>;
  carriers: (server: PhoneServer) => Promise<void>;
  call: Omit<InboundCall, 'port'>;
}): InboundSuite {
  const suite = browserSuite(o.settings, async () => {
    stopAll();
    await o.stop?.();
  });
  let setUp: Promise<void> | undefined;
  let bobPage: Page | undefined;
  return {
    suite,
    async bob() {
      setUp ??= o.carriers(suite.server);
      await setUp;
      bobPage ??= await suite.page(demo.bob);
      return bobPage;
    },
    call: (x = {}) => ({ ...o.call, port: suite.server.port('udp'), ...x }),
    lastRecord: () => lastRecord(suite.server.web.app),
    endedRecord: (ok, what) => endedRecord(suite.server.web.app, ok, what),
    noCallsLeft: () => noCallsLeft(suite.server.web.app),
  };
}
