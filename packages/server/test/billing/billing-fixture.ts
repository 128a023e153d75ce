/** A billing world for credit-control tests: tenant t1 (GB, Europe/London), a GB sell deck, plans. */
import { createBilling, type Billing } from '../../src/billing/billing.ts';
import { trustedScope } from '../../src/directory/scope.ts';
import type { Engine } from '../../src/storage/db.ts';
import { GB_DECK_V1 } from './fixtures.ts';
import { openTestStorage, seedTenant, type TestStorage } from './storage-helper.ts';

/** The world's tenant, as billing's tenant-owned calls take it. */
export const T1 = trustedScope('t1');

export interface World {
  t: TestStorage;
  billing: Billing;
  deckId: string;
  plans: { domestic: string; payg: string; premium: string; noCalling: string };
  clock: { now: number };
  close(): Promise<void>;
}

/**
 * Users: u-dom (domestic plan: 10 GB domestic minutes per seat, 1 seat), u-payg (pay as you go: every
 * class but premium, no minutes), u-prem (premium allowed), u-none (a plan without calling), u-bare
 * (no plan at all).
 */
export async function world(
  engine: Engine,
  opts: { sliceSeconds?: number; poolSize?: number } = {},
): Promise<World> {
  const t = await openTestStorage(engine, opts.poolSize);
  const clock = { now: Date.UTC(2026, 10, 10, 12, 0, 0) };
  const billing = createBilling(t.storage, {
    now: () => clock.now,
    sliceSeconds: opts.sliceSeconds ?? 300,
    graceSeconds: 60,
    deckRefreshMs: 0,
  });
  await seedTenant(t.storage, { id: 't1', country: 'GB', timeZone: 'Europe/London' }, [
    'u-dom',
    'u-payg',
    'u-prem',
    'u-none',
    'u-bare',
  ]);
  const deck = await billing.decks.createDeck({ name: 'GB retail', kind: 'sell' });
  await billing.decks.importVersion(deck.id, GB_DECK_V1, 0);
  const domestic = await billing.plans.createPlan({
    name: 'Domestic calling',
    pricePerUserMonth: 8_000_000,
    services: ['calling', 'voicemail'],
    allowedClasses: ['domestic', 'mobile', 'toll-free', 'emergency'],
    sellDeckId: deck.id,
    includedMinutes: [{ country: 'GB', cls: 'domestic', minutes: 10 }],
  });
  const payg = await billing.plans.createPlan({
    name: 'Pay as you go',
    pricePerUserMonth: 2_000_000,
    services: ['calling'],
    allowedClasses: ['domestic', 'mobile', 'international', 'toll-free', 'emergency'],
    sellDeckId: deck.id,
  });
  const premium = await billing.plans.createPlan({
    name: 'Everything',
    pricePerUserMonth: 3_000_000,
    services: ['calling'],
    allowedClasses: ['domestic', 'mobile', 'international', 'toll-free', 'premium', 'emergency'],
    sellDeckId: deck.id,
  });
  const noCalling = await billing.plans.createPlan({
    name: 'Meetings only',
    pricePerUserMonth: 1_000_000,
    services: ['meetings'],
    allowedClasses: [],
  });
  for (const [plan, user] of [
    [domestic, 'u-dom'],
    [payg, 'u-payg'],
    [premium, 'u-prem'],
    [noCalling, 'u-none'],
  ] as const) {
    await billing.plans.setSeats(T1, plan.id, 1);
    await billing.plans.assign(T1, user, plan.id);
  }
  return {
    t,
    billing,
    deckId: deck.id,
    plans: { domestic: domestic.id, payg: payg.id, premium: premium.id, noCalling: noCalling.id },
    clock,
    close: () => t.dispose(),
  };
}
