import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Media statistics on call records (issue 17), written when a phone's leg closes by whichever media
 * driver carried it (phone-media-driver.ts, phone-media-rtpengine.ts): which driver, packets from and
 * to the phone, the loss and jitter of the phone's stream, and why the media failed when they did (an
 * rtpengine node that stopped answering). Null on calls without a phone leg.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`alter table call_records add column media_driver text`);
  await run(`alter table call_records add column media_packets_in bigint`);
  await run(`alter table call_records add column media_packets_out bigint`);
  await run(`alter table call_records add column media_loss_pct real`);
  await run(`alter table call_records add column media_jitter_ms real`);
  await run(`alter table call_records add column media_failure text`);
}
