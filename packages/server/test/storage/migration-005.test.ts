/**
 * Migration 005_credit_pages on a database that already holds billing data from migrations up to 004:
 * every reservation, rated call and ledger entry is kept as it was (the ledger's seqs too), the expiry
 * sweep still finds held reservations by index, ids stay unique, and new ledger entries continue after
 * the highest seq. On SQLite the ledger is rebuilt without AUTOINCREMENT; on both engines the
 * reservations' expiry index becomes a partial index on held reservations.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { isUniqueViolation, openStorage, type Engine, type Storage } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrator.ts';
import { createPgDatabase } from '../helpers/pg.ts';

async function withStorage(engine: Engine, fn: (s: Storage) => Promise<void>): Promise<void> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'parley-m005-'));
    const s = openStorage({ dataDir: dir });
    try {
      await fn(s);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const pg = await createPgDatabase();
  const s = openStorage({ dataDir: tmpdir(), databaseUrl: pg.url });
  try {
    await fn(s);
  } finally {
    await s.close();
    await pg.drop();
  }
}

const reservation = (i: number, state: string) => ({
  id: `res-${i}`,
  tenant_id: `t${i % 3}`,
  user_id: `u${i}`,
  call_id: state === 'held' ? null : `call-${i}`,
  destination: '+442071234567',
  state,
  pool_country: i % 2 ? 'GB' : null,
  pool_class: i % 2 ? 'domestic' : null,
  pool_period: i % 2 ? '2026-11' : null,
  deck_id: 'deck-1',
  deck_version: 1,
  prefix: '44',
  rate: JSON.stringify({ prefix: '44', rate: 10_000 + i }),
  granted_seconds: 300,
  held_pool_minutes: i % 2 ? 5 : 0,
  held_credit_micros: i % 2 ? 0 : 1_000 * i,
  created_at: 1_700_000_000_000 + i,
  expires_at: 1_700_000_600_000 + i,
  closed_at: state === 'held' ? null : 1_700_000_100_000 + i,
});

const ratedCall = (i: number) => ({
  call_id: `call-${i}`,
  tenant_id: `t${i % 3}`,
  user_id: i % 4 ? `u${i}` : null,
  reservation_id: i % 4 ? `res-${i}` : null,
  started_at: 1_700_000_000_000 + i,
  class: i % 5 ? 'domestic' : null,
  billable_seconds: 60 + i,
  pool_minutes: i % 2,
  amount_micros: 12_345 * i,
  explanation: JSON.stringify({ callId: `call-${i}`, reason: 'credits', amount: 12_345 * i }),
  rated_at: 1_700_000_200_000 + i,
});

const ledgerEntry = (i: number) => ({
  id: `led-${i}`,
  tenant_id: `t${i % 3}`,
  kind: i === 0 ? 'top_up' : 'call',
  amount_micros: i === 0 ? 1_000_000 : -1_000 * i,
  balance_after_micros: 1_000_000 - 1_000 * i,
  reference: i % 2 ? `call-${i}` : null,
  note: i === 0 ? 'opening' : null,
  at: 1_700_000_300_000 + i,
});

async function dump(s: Storage) {
  return {
    reservations: await s.db.selectFrom('billing_reservations').selectAll().orderBy('id').execute(),
    rated: await s.db.selectFrom('billing_rated_calls').selectAll().orderBy('call_id').execute(),
    ledger: await s.db.selectFrom('billing_ledger').selectAll().orderBy('seq').execute(),
  };
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`migration 005_credit_pages on ${engine}`, () => {
    test('keeps every reservation, rated call and ledger entry written under 004', async () => {
      await withStorage(engine, async (s) => {
        const to004 = await migrate(s, '004_presence_settings');
        assert.equal(to004.applied.at(-1), '004_presence_settings');
        assert.ok(!to004.applied.includes('005_credit_pages'));

        const states = ['held', 'committed', 'released', 'expired'];
        await s.db
          .insertInto('billing_reservations')
          .values(Array.from({ length: 40 }, (_, i) => reservation(i, states[i % 4])))
          .execute();
        await s.db
          .insertInto('billing_rated_calls')
          .values(Array.from({ length: 30 }, (_, i) => ratedCall(i)))
          .execute();
        for (let i = 0; i < 25; i++) await s.db.insertInto('billing_ledger').values(ledgerEntry(i)).execute();
        const before = await dump(s);
        assert.deepEqual(
          [before.reservations.length, before.rated.length, before.ledger.length],
          [40, 30, 25],
        );
        const maxSeq = Math.max(...before.ledger.map((e) => Number(e.seq)));

        const to005 = await migrate(s, '005_credit_pages');
        assert.deepEqual(to005.applied, ['005_credit_pages']);
        assert.deepEqual(await dump(s), before);

        // The expiry sweep finds exactly the held reservations that are due, in expiry order.
        const due = await sql<{
          id: string;
        }>`select id from billing_reservations where state = 'held' and expires_at <= ${1_700_000_600_000 + 20} order by expires_at limit 100`.execute(
          s.db,
        );
        assert.deepEqual(
          due.rows.map((r) => r.id),
          ['res-0', 'res-4', 'res-8', 'res-12', 'res-16', 'res-20'],
        );

        // New ledger entries continue after the highest seq written before.
        const next = await s.db
          .insertInto('billing_ledger')
          .values(ledgerEntry(100))
          .returning('seq')
          .executeTakeFirstOrThrow();
        assert.equal(Number(next.seq), maxSeq + 1);

        // Ids stay unique.
        for (const insert of [
          () => s.db.insertInto('billing_reservations').values(reservation(1, 'held')).execute(),
          () => s.db.insertInto('billing_rated_calls').values(ratedCall(1)).execute(),
          () => s.db.insertInto('billing_ledger').values(ledgerEntry(1)).execute(),
        ])
          await assert.rejects(insert(), (e: unknown) => isUniqueViolation(e));

        if (engine === 'sqlite') {
          const db = s.sqlite!;
          const ddl = (name: string) =>
            db.prepare('select sql from sqlite_master where name = ?').pluck().get(name) as
              string | undefined;
          assert.doesNotMatch(ddl('billing_ledger')!, /autoincrement/i);
          assert.equal(
            db.prepare("select count(*) from sqlite_sequence where name = 'billing_ledger'").pluck().get(),
            0,
          );
          assert.equal(ddl('billing_reservations_state_expiry'), undefined);
          for (const index of [
            'billing_reservations_held_expiry',
            'billing_rated_calls_tenant',
            'billing_ledger_tenant',
          ])
            assert.ok(ddl(index), `index ${index}`);
          assert.equal(ddl('billing_ledger_new'), undefined);
          const plan = (q: string) =>
            (db.prepare(`explain query plan ${q}`).all(0, 10) as Array<{ detail: string }>)
              .map((r) => r.detail)
              .join('; ');
          assert.match(
            plan(
              "select id from billing_reservations where state = 'held' and expires_at <= ? order by expires_at limit ?",
            ),
            /USING (COVERING )?INDEX billing_reservations_held_expiry/,
          );
          assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        } else {
          const idx = await sql<{
            indexname: string;
            indexdef: string;
          }>`select indexname, indexdef from pg_indexes where tablename = 'billing_reservations' order by indexname`.execute(
            s.db,
          );
          const names = idx.rows.map((r) => r.indexname);
          assert.ok(names.includes('billing_reservations_held_expiry'));
          assert.ok(!names.includes('billing_reservations_state_expiry'));
          assert.match(
            idx.rows.find((r) => r.indexname === 'billing_reservations_held_expiry')!.indexdef,
            /WHERE \(state = 'held'::text\)/,
          );
        }
      });
    });
  });
}
