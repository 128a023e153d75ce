import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Carriers as they really are (issue 19): how a trunk knows us (`ip`, or `register` with the account in
 * `registration` as JSON), how the caller's identity is asserted (`pai`, `rpid` or `none`), and whether
 * its addresses are pinged with OPTIONS. Existing trunks keep what they did: by address, PAI, pinged.
 * And a user's standing choice to withhold their number on calls out.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`alter table telephony_trunks add column auth text not null default 'ip'`);
  await run(`alter table telephony_trunks add column registration text`);
  await run(`alter table telephony_trunks add column identity text not null default 'pai'`);
  await run(`alter table telephony_trunks add column health_check integer not null default 1`);
  await run(`create table telephony_user_settings (
    tenant_id text not null,
    user_id text not null,
    withhold_caller_id integer not null,
    primary key (tenant_id, user_id)
  )`);
}
