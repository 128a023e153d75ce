/**
 * Credit control is on every call out: a test that places calls to numbers gives its users a calling
 * plan (every class but premium) on a sell deck reaching every number, and their tenant credit.
 */
import type { App } from '../../src/app.ts';
import { trustedScope } from '../../src/directory/scope.ts';

/** A sell deck pricing every number: the UK at 0.01 a minute, anywhere else 0.02, per second. */
export const TEST_SELL_DECK = [
  'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment',
  '44,United Kingdom,domestic,0.01,0,1,1',
  ...['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((d) => `${d},Anywhere,international,0.02,0,1,1`),
].join('\n');

/** Gives every user of `tenantId` (now) a calling plan on TEST_SELL_DECK, and the tenant `credit`. */
export async function giveCalling(app: App, tenantId: string, credit = 1000_000_000): Promise<void> {
  const scope = trustedScope(tenantId);
  const deck = await app.billing.decks.createDeck({ name: `Test calls ${tenantId}`, kind: 'sell' });
  await app.billing.decks.importVersion(deck.id, TEST_SELL_DECK, 0);
  const plan = await app.billing.plans.createPlan({
    name: `Test calling ${tenantId}`,
    pricePerUserMonth: 0,
    services: ['calling'],
    allowedClasses: ['domestic', 'mobile', 'international', 'toll-free', 'emergency'],
    sellDeckId: deck.id,
  });
  const users = await app.storage.db
    .selectFrom('users')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .execute();
  await app.billing.plans.setSeats(scope, plan.id, users.length);
  for (const u of users) await app.billing.plans.assign(scope, u.id, plan.id);
  if (credit > 0) await app.billing.wallet.topUp(scope, credit, { note: 'test calls' });
  await app.billing.decks.refresh(); // the new deck priced from the next call on
}
