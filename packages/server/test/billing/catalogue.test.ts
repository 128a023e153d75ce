/**
 * Decks, plans, licences and the wallet in storage, on both engines: a bad deck leaves nothing behind,
 * versions number themselves and other processes' catalogues pick them up; seats bound assignments and
 * size the pools; top-ups and adjustments land in the ledger and never dip into held credit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BillingError } from '../../src/billing/errors.ts';
import { DeckStore } from '../../src/billing/deck-store.ts';
import { ENGINES } from './storage-helper.ts';
import { T1, world, type World } from './billing-fixture.ts';
import { GB_DECK_V2 } from './fixtures.ts';

const code = (c: string) => (e: unknown) => e instanceof BillingError && e.code === c;

for (const engine of ENGINES) {
  describe(`billing catalogue on ${engine}`, () => {
    let w: World;
    before(async () => {
      w = await world(engine);
    });
    after(async () => {
      await w.close();
    });

    test('a malformed deck is refused whole with row numbers and nothing is imported', async () => {
      const bad = GB_DECK_V2 + '\n4a,Broken,domestic,0.01,0,60,60\n44,Duplicate,domestic,0.01,0,60,60\n';
      await assert.rejects(w.billing.decks.importVersion(w.deckId, bad, Date.now()), (e: unknown) => {
        assert.ok(e instanceof BillingError && e.code === 'deck_invalid');
        assert.deepEqual(
          e.problems?.map((p) => p.row),
          [10, 11],
        );
        return true;
      });
      const versions = await w.t.storage.db
        .selectFrom('billing_deck_versions')
        .selectAll()
        .where('deck_id', '=', w.deckId)
        .execute();
      assert.equal(versions.length, 1);
      const rates = await w.t.storage.db
        .selectFrom('billing_deck_rates')
        .select('prefix')
        .where('deck_id', '=', w.deckId)
        .execute();
      assert.equal(rates.length, 8);
    });

    test('versions number themselves; another process picks a new version up from storage', async () => {
      const other = new DeckStore(w.t.storage.db, { refreshMs: 0 });
      const before = await other.deck(w.deckId);
      assert.equal(before?.latestVersionNumber(), 1);
      const at = Date.UTC(2026, 11, 1);
      const { version, rows } = await w.billing.decks.importVersion(w.deckId, GB_DECK_V2, at);
      assert.deepEqual([version, rows], [2, 8]);
      const after = await other.deck(w.deckId);
      assert.equal(after?.versionAt(at - 1)?.match('442071234567')?.ratePerMinute, 10_000);
      assert.equal(after?.versionAt(at)?.match('442071234567')?.ratePerMinute, 20_000);
      const info = await w.billing.decks.getDeck(w.deckId);
      assert.deepEqual(
        info?.versions.map((v) => [v.version, v.effectiveFrom]),
        [
          [1, 0],
          [2, at],
        ],
      );
    });

    test('cost decks belong to a carrier', async () => {
      await assert.rejects(
        w.billing.decks.createDeck({ name: 'x', kind: 'cost' }),
        code('validation_failed'),
      );
      const carrier = await w.billing.decks.createCarrier('Carrier One');
      const deck = await w.billing.decks.createDeck({
        name: 'Carrier One GB',
        kind: 'cost',
        carrierId: carrier.id,
      });
      assert.equal(deck.carrierId, carrier.id);
      assert.equal((await w.billing.decks.listCarriers()).length, 1);
    });

    test('seats bound assignments and size the pool; the pool follows seat changes', async () => {
      const key = { country: 'GB', cls: 'domestic' as const, period: '2026-11' };
      assert.equal((await w.billing.store.poolState('t1', key))?.includedMinutes, 10);
      await assert.rejects(w.billing.plans.assign(T1, 'u-payg', w.plans.domestic), code('seats_exhausted'));
      await w.billing.plans.setSeats(T1, w.plans.domestic, 3);
      assert.equal((await w.billing.store.poolState('t1', key))?.includedMinutes, 30);
      await w.billing.plans.assign(T1, 'u-payg', w.plans.domestic);
      await w.billing.plans.assign(T1, 'u-payg', w.plans.domestic); // idempotent
      const lic = (await w.billing.plans.licences(T1)).find((l) => l.planId === w.plans.domestic);
      assert.deepEqual([lic?.seats, lic?.assigned], [3, 2]);
      await assert.rejects(w.billing.plans.setSeats(T1, w.plans.domestic, 1), code('seats_exhausted'));
      await w.billing.plans.unassign(T1, 'u-payg', w.plans.domestic);
      await w.billing.plans.setSeats(T1, w.plans.domestic, 1);
      assert.equal((await w.billing.store.poolState('t1', key))?.includedMinutes, 10);
      await assert.rejects(w.billing.plans.assign(T1, 'nobody', w.plans.domestic), code('not_found'));
      await assert.rejects(w.billing.plans.assign(T1, 'u-bare', 'plan_missing'), code('no_licence'));
    });

    test('plans are validated', async () => {
      const base = {
        name: 'x',
        pricePerUserMonth: 1,
        services: ['calling'],
        allowedClasses: ['domestic' as const],
      };
      await assert.rejects(
        w.billing.plans.createPlan({ ...base, services: ['teleportation'] }),
        code('validation_failed'),
      );
      await assert.rejects(
        w.billing.plans.createPlan({
          ...base,
          includedMinutes: [{ country: 'gb', cls: 'domestic', minutes: 1 }],
        }),
        code('validation_failed'),
      );
      await assert.rejects(
        w.billing.plans.createPlan({ ...base, sellDeckId: 'deck_none' }),
        code('validation_failed'),
      );
      const p = await w.billing.plans.createPlan({
        ...base,
        includedMinutes: [
          { country: 'GB', cls: 'domestic', minutes: 3000 },
          { country: 'IE', cls: 'domestic', minutes: 3000 },
        ],
      });
      assert.deepEqual(
        (await w.billing.plans.getPlan(p.id))?.includedMinutes.map((m) => m.country),
        ['GB', 'IE'],
      );
    });

    test('tenant-owned billing calls take a TenantScope, never a raw tenant id (checked by tsc)', () => {
      const calls = [
        // @ts-expect-error a raw tenant id is not a scope
        () => w.billing.wallet.view('t1'),
        // @ts-expect-error a raw tenant id is not a scope
        () => w.billing.wallet.topUp('t1', 1),
        // @ts-expect-error a raw tenant id is not a scope
        () => w.billing.plans.licences('t1'),
        // @ts-expect-error a raw tenant id is not a scope
        () => w.billing.credit.preview({ tenantId: 't1', userId: 'u-dom', destination: '112' }),
      ];
      assert.equal(calls.length, 4);
    });

    test('top-ups and adjustments are ledgered; an adjustment may not dip into held credit', async () => {
      const t = await w.billing.wallet.topUp(T1, 5_000_000, { reference: 'pay_1', note: 'card' });
      assert.equal(t.balanceAfter, 5_000_000);
      await assert.rejects(w.billing.wallet.topUp(T1, 0), code('invalid_amount'));
      const a = await w.billing.credit.authorise({
        scope: T1,
        userId: 'u-payg',
        destination: '+12125550100',
      });
      assert.ok(a.ok && !a.emergency);
      await assert.rejects(w.billing.wallet.adjust(T1, -4_900_000, 'refund'), code('insufficient_funds'));
      const adj = await w.billing.wallet.adjust(T1, -1_000_000, 'refund');
      assert.equal(adj.balanceAfter, 4_000_000);
      await w.billing.credit.release(a.reservationId);
      const ledger = await w.billing.wallet.ledger(T1);
      assert.deepEqual(
        ledger.map((e) => [e.kind, e.amount]),
        [
          ['adjustment', -1_000_000],
          ['top_up', 5_000_000],
        ],
      );
    });
  });
}
