/**
 * What the least-cost routing tests (least-cost.test.ts) add to the outbound ones: a cost deck of a
 * carrier imported through billing (as the operator's deck import does), and a check that a SIPp
 * carrier was never sent an INVITE.
 */
import assert from 'node:assert/strict';
import type { App } from '../../packages/server/src/app.ts';
import type { CarrierRun } from './sipp-carrier.ts';

const HEADER = 'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment';

/**
 * Gives billing's carrier `carrierId` a cost deck of `rows` (CSV lines: prefix, destination, class,
 * rate per minute, connection fee, first and next increment), in force at once; the deck catalogue is
 * refreshed so the next call out reads it.
 */
export async function costDeck(app: App, carrierId: string, name: string, rows: string[]): Promise<void> {
  const deck = await app.billing.decks.createDeck({ name, kind: 'cost', carrierId });
  await app.billing.decks.importVersion(deck.id, [HEADER, ...rows].join('\n'), 0);
  await app.billing.decks.refresh();
}

/**
 * The carrier's SIPp received no INVITE: it is given time for its statistics (written every second)
 * to show one, then stopped, and its incoming calls read back.
 */
export async function assertNoInvite(carrier: CarrierRun, who: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 2000));
  carrier.run.child.kill('SIGKILL');
  const r = await carrier.done;
  assert.ok(Object.keys(r.stats).length > 0, `${who}'s SIPp wrote its statistics`);
  assert.equal(r.stats['IncomingCall(C)'], '0', `${who} got no INVITE: ${JSON.stringify(r.stats)}`);
}
