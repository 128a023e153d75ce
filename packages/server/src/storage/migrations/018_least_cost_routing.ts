import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Least-cost routing (issue 20): a trunk's `preference`, the tie-break between carriers that cost the
 * same for a number (lower first; existing trunks 0), and on call records the routing decision of a
 * call out as JSON (`route_decision`: candidates with their cost, the carrier chosen, why others were
 * skipped; telephony/least-cost.ts). Null on calls that went out on no carrier.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`alter table telephony_trunks add column preference integer not null default 0`);
  await run(`alter table call_records add column route_decision text`);
}
