import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Calls through a SIP carrier on call records (issue 18). Direction, the parties' numbers (in E.164)
 * and the carrier were already columns (011_calls); this adds what the number as typed was (the dial
 * pad's text before the dial plan made it E.164), the codec each leg used (the user's side and the
 * carrier's), and the SIP end reason (the code and reason phrase of the final answer or BYE that ended
 * the carrier leg; trunk-codes.ts maps it). Null on calls between users.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`alter table call_records add column callee_number_typed text`);
  await run(`alter table call_records add column user_codec text`);
  await run(`alter table call_records add column carrier_codec text`);
  await run(`alter table call_records add column sip_end_code integer`);
  await run(`alter table call_records add column sip_end_text text`);
}
