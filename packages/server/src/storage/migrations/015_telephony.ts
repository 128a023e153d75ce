import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Telephony (issue 18): a carrier's SIP trunk side, keyed by billing's carrier id so rating and routing
 * name the same carrier; the DID inventory (a number belongs to a carrier, then to a tenant, then to a
 * user); a tenant's dial plan country (absent: the tenant's own country). Lists (addresses, allow,
 * codecs) are JSON text, read whole with the carrier: they are short and never queried by element.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`create table telephony_trunks (
    carrier_id text primary key references billing_carriers (id),
    tenant_id text,
    addresses text not null,
    transport text not null,
    allow text not null,
    codecs text not null,
    caller_id_format text not null,
    channel_limit integer,
    enabled integer not null,
    created_at bigint not null
  )`);
  await run(`create table telephony_numbers (
    number text primary key,
    carrier_id text not null references billing_carriers (id),
    tenant_id text,
    user_id text,
    created_at bigint not null
  )`);
  await run(`create index telephony_numbers_user on telephony_numbers (tenant_id, user_id)`);
  await run(`create table telephony_dial_plans (
    tenant_id text primary key,
    country text not null
  )`);
}
