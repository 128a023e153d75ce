import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * The registrar's bindings (sip/registration-tables.ts), stored so that a restart keeps every phone
 * reachable (issue 16). One row per binding; the registrar reads a device's rows by `device_id`, a
 * start reads them all (and deletes the lapsed ones by `expires_at`).
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`create table sip_registrations (
    binding_id text primary key,
    tenant_id text not null,
    user_id text not null,
    device_id text not null,
    aor text not null,
    contact text not null,
    protocol text not null,
    address text not null,
    port integer not null,
    call_id text not null,
    cseq bigint not null,
    q integer not null,
    instance text,
    user_agent text,
    registered_at bigint not null,
    expires_at bigint not null
  )`);
  await run(`create unique index sip_registrations_contact on sip_registrations (device_id, contact)`);
  await run(`create index sip_registrations_user on sip_registrations (tenant_id, user_id)`);
  await run(`create index sip_registrations_expiry on sip_registrations (expires_at)`);
}
