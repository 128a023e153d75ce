import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Emergency calls (issue 20 item 4): which carriers take emergency calls (`emergency`) and which take
 * the caller's location with them as RFC 6442 PIDF-LO (`pidf_lo`); the civic addresses tenant admins
 * keep: named sites, and each user's location (a site, or an address of their own, as JSON); and a
 * tenant's emergency callback number (for callers with no number of their own).
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`alter table telephony_trunks add column emergency integer not null default 0`);
  await run(`alter table telephony_trunks add column pidf_lo integer not null default 0`);
  await run(`create table emergency_sites (
    id text primary key,
    tenant_id text not null,
    name text not null,
    address text not null,
    created_at bigint not null,
    updated_at bigint not null
  )`);
  await run(`create index emergency_sites_tenant on emergency_sites (tenant_id)`);
  await run(`create table emergency_user_locations (
    tenant_id text not null,
    user_id text not null,
    site_id text,
    address text,
    updated_at bigint not null,
    primary key (tenant_id, user_id)
  )`);
  await run(`create table emergency_settings (
    tenant_id text primary key,
    callback_number text
  )`);
}
