import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Call records (CDRs): one row per call and tenant with a party in it (calls/call-records-tables.ts).
 * No foreign keys to users: a record outlives the user (billing and the other party's history still
 * need it). A user's history reads two index ranges newest first (calls they placed, calls they got)
 * and merges them; the missed-call badge counts a partial index of unseen missed calls; crash closing
 * and the alive refresh read the partial index of open records.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`create table call_records (
    call_id text not null,
    tenant_id text not null,
    direction text not null,
    caller_user_id text,
    caller_number text,
    callee_user_id text,
    callee_number text,
    caller_device text,
    rung_devices text,
    answer_device text,
    carrier text,
    video integer not null default 0,
    placed_at bigint not null,
    ringing_at bigint,
    answered_at bigint,
    ended_at bigint,
    alive_at bigint not null,
    disposition text,
    end_reason text,
    ended_by text,
    missed integer not null default 0,
    missed_seen_at bigint,
    primary key (call_id, tenant_id)
  )`);
  await run(
    `create index call_records_caller on call_records (tenant_id, caller_user_id, placed_at desc, call_id desc)`,
  );
  await run(
    `create index call_records_callee on call_records (tenant_id, callee_user_id, placed_at desc, call_id desc)`,
  );
  await run(
    `create index call_records_unseen on call_records (tenant_id, callee_user_id) where missed = 1 and missed_seen_at is null`,
  );
  await run(`create index call_records_open on call_records (alive_at) where ended_at is null`);
}
