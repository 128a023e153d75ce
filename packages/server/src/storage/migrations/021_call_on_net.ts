import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * On-net calls on call records (issue 20): a call dialled by a number a user of this server owns
 * connects user to user, with no carrier and free (telephony/on-net.ts). `on_net` says so on every
 * record of it (across tenants, each tenant's own record); 0 on every other call.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  await sql.raw(`alter table call_records add column on_net integer not null default 0`).execute(db);
}
