/**
 * The SQLite credit store shares its connection with kysely. Its operations go through the writer
 * queue, which holds the connection from BEGIN to COMMIT, so an operation never runs inside a kysely
 * transaction (where a later ROLLBACK would undo a top-up already acknowledged), and its reads never see
 * a kysely transaction's uncommitted rows, however long that transaction stays open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T1, world } from './billing-fixture.ts';

test('sqlite: a top-up queued during a long kysely transaction waits for it and survives its rollback', async () => {
  const w = await world('sqlite');
  try {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const kyselyTx = w.t.storage.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('billing_accounts')
        .values({
          tenant_id: 't1',
          balance_micros: 999_000_000,
          held_micros: 0,
          premium_enabled: 0,
          sell_deck_id: null,
          updated_at: 0,
        })
        .execute();
      entered();
      await gate;
      throw new Error('rolled back');
    });
    await inside;
    let settled = false;
    const topUp = w.billing.wallet.topUp(T1, 5_000_000).finally(() => (settled = true));
    const view = w.billing.wallet.view(T1);
    // The store used to poll for the transaction's end and, after a million turns, run inside it: the
    // queue waits on the connection lock instead, however long the transaction stays open.
    for (let i = 0; i < 10_000 && !settled; i++) await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'the top-up was acknowledged while the kysely transaction was open');
    release();
    await assert.rejects(kyselyTx, /rolled back/);
    const entry = await topUp;
    assert.equal(entry.balanceAfter, 5_000_000);
    // The read issued during the transaction did not see its uncommitted 999.
    assert.equal((await view).balance, 0);
    assert.equal((await w.billing.wallet.view(T1)).balance, 5_000_000);
    const ledger = await w.billing.wallet.ledger(T1);
    assert.deepEqual(
      ledger.map((e) => [e.kind, e.amount]),
      [['top_up', 5_000_000]],
    );
  } finally {
    await w.close();
  }
});

test('sqlite: credit operations and storage.write writes queued together commit in one group, each isolated', async () => {
  const w = await world('sqlite');
  try {
    const results = await Promise.allSettled([
      w.billing.wallet.topUp(T1, 1_000_000),
      w.t.storage.write((tx) => tx.insertInto('settings').values({ key: 'mix-1', value: 'x' }).execute()),
      // Refused inside its own savepoint: the writes around it stand.
      w.billing.wallet.adjust(T1, -50_000_000, 'too much'),
      w.billing.wallet.topUp(T1, 2_000_000),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((await w.billing.wallet.view(T1)).balance, 3_000_000);
    const row = await w.t.storage.db
      .selectFrom('settings')
      .select('key')
      .where('key', '=', 'mix-1')
      .executeTakeFirst();
    assert.equal(row?.key, 'mix-1');
  } finally {
    await w.close();
  }
});
