import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Fewer pages written per credit-control authorise + commit:
 *
 * - Reservations: the (state, expires_at) index becomes a partial index on (expires_at) where
 *   state = 'held'. Its only reader is the expiry sweep (`state = 'held' and expires_at <= ? order by
 *   expires_at`), which it still serves; it holds only open reservations, so it stays a page or two
 *   instead of growing with every committed one. Both engines.
 * - SQLite only: the ledger's seq loses AUTOINCREMENT (no sqlite_sequence write per entry). A plain
 *   INTEGER PRIMARY KEY takes max(seq) + 1, so seqs keep increasing in commit order as long as no
 *   ledger row is ever deleted: the ledger is append-only (nothing deletes from it, and it has no
 *   foreign key that could cascade), so no seq is ever handed out twice. The table is rebuilt (create
 *   the new one, copy every row with its seq, drop the old, rename, recreate its index) inside one
 *   transaction with the index change, so a failure leaves the database as it was.
 *
 * Reservations and rated calls stay rowid tables: as WITHOUT ROWID tables keyed by their random text
 * ids (rows of a few hundred bytes) they wrote as many pages per pair or more, each insert landing in a
 * random leaf of the whole table instead of at its end. PostgreSQL runs the migration inside kysely's
 * transaction already.
 */
export async function up(db: Kysely<unknown>, engine: MigrationEngine): Promise<void> {
  if (engine === 'postgres') {
    await heldExpiryIndex((statement) => sql.raw(statement).execute(db));
    return;
  }
  await db.transaction().execute(async (trx) => {
    const run = (statement: string) => sql.raw(statement).execute(trx);
    await heldExpiryIndex(run);
    await rebuild(
      run,
      'billing_ledger',
      `seq integer primary key,
       id text not null unique,
       tenant_id text not null,
       kind text not null,
       amount_micros bigint not null,
       balance_after_micros bigint not null,
       reference text,
       note text,
       at bigint not null`,
      ['create index billing_ledger_tenant on billing_ledger (tenant_id, seq)'],
    );
  });
}

async function heldExpiryIndex(run: (statement: string) => Promise<unknown>): Promise<void> {
  await run('drop index billing_reservations_state_expiry');
  await run(
    "create index billing_reservations_held_expiry on billing_reservations (expires_at) where state = 'held'",
  );
}

/**
 * Rebuilds `table` with `columns` (the same column names as before): create, copy every row, drop the
 * old table (and with it its indexes), rename, create `indexes`. Nothing references the ledger (no
 * foreign key, view or trigger), so the drop and rename touch nothing else.
 */
async function rebuild(
  run: (statement: string) => Promise<unknown>,
  table: string,
  columns: string,
  indexes: string[],
): Promise<void> {
  const names = columns
    .split(',')
    .map((c) => c.trim().split(/\s+/)[0])
    .join(', ');
  await run(`create table ${table}_new (${columns})`);
  await run(`insert into ${table}_new (${names}) select ${names} from ${table}`);
  const count = async (t: string) =>
    Number(((await run(`select count(*) as n from ${t}`)) as { rows: Array<{ n: number }> }).rows[0].n);
  const [before, after] = [await count(table), await count(`${table}_new`)];
  if (before !== after) throw new Error(`${table}: copied ${after} of ${before} rows`);
  await run(`drop table ${table}`);
  await run(`alter table ${table}_new rename to ${table}`);
  for (const index of indexes) await run(index);
}
