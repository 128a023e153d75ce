/**
 * Migration 016_call_trunk_columns on both engines: a call record written before it (migrations up to
 * 014) keeps its values and reads the new columns as null; after it, an outbound call through a carrier
 * stores the number as typed, both legs' codecs and the SIP end reason, and reads them back.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStorage, type Engine, type Storage } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrator.ts';
import { createPgDatabase } from '../helpers/pg.ts';

async function withStorage(engine: Engine, fn: (s: Storage) => Promise<void>): Promise<void> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'parley-m016-'));
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

interface Row {
  call_id: string;
  direction: string;
  callee_number: string | null;
  carrier: string | null;
  callee_number_typed: string | null;
  user_codec: string | null;
  carrier_codec: string | null;
  sip_end_code: number | string | null;
  sip_end_text: string | null;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`migration 016 on ${engine}`, () => {
    test('old records keep their values; carrier calls store typed number, codecs and SIP reason', async () => {
      await withStorage(engine, async (s) => {
        await migrate(s, '015_telephony');
        await sql`insert into call_records (call_id, tenant_id, direction, placed_at, alive_at)
          values ('old', 't1', 'internal', 1, 2)`.execute(s.db);
        const report = await migrate(s, '016_call_trunk_columns');
        assert.deepEqual(report.applied, ['016_call_trunk_columns']);
        await sql`insert into call_records (call_id, tenant_id, direction, callee_number, carrier,
            placed_at, alive_at, callee_number_typed, user_codec, carrier_codec, sip_end_code, sip_end_text)
          values ('new', 't1', 'outbound', '+442071234567', 'carrier-1', 3, 4, '020 7123 4567', 'opus',
            'PCMA', 486, 'Busy Here')`.execute(s.db);
        const rows = (
          await sql<Row>`select call_id, direction, callee_number, carrier, callee_number_typed,
              user_codec, carrier_codec, sip_end_code, sip_end_text
            from call_records where tenant_id = 't1' order by call_id`.execute(s.db)
        ).rows;
        assert.deepEqual(
          rows.map((r) => ({ ...r, sip_end_code: r.sip_end_code === null ? null : Number(r.sip_end_code) })),
          [
            {
              call_id: 'new',
              direction: 'outbound',
              callee_number: '+442071234567',
              carrier: 'carrier-1',
              callee_number_typed: '020 7123 4567',
              user_codec: 'opus',
              carrier_codec: 'PCMA',
              sip_end_code: 486,
              sip_end_text: 'Busy Here',
            },
            {
              call_id: 'old',
              direction: 'internal',
              callee_number: null,
              carrier: null,
              callee_number_typed: null,
              user_codec: null,
              carrier_codec: null,
              sip_end_code: null,
              sip_end_text: null,
            },
          ],
        );
      });
    });
  });
}
