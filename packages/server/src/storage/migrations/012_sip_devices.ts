import { sql, type Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * SIP devices (devices/device-tables.ts): a user's desk phones and softphones. A device keeps the
 * digest HA1s of its password, H(username:realm:password) for MD5 and for SHA-256 (RFC 7616 section
 * 3.4.2, RFC 8760), never the password: the realm is the device's domain, which is its user's address
 * domain, so a leaked HA1 opens that one realm and nothing else. A SIP user name is unique within its
 * domain (the digest lookup is by realm and user name).
 *
 * Extensions: one short number per user at most, unique within its tenant.
 *
 * Both go with their user (and tenant): deleting one deletes its devices and extension.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const run = (statement: string) => sql.raw(statement).execute(db);
  await run(`create table sip_devices (
    id text primary key,
    tenant_id text not null references tenants (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    name text not null,
    username text not null,
    domain text not null,
    ha1_md5 text not null,
    ha1_sha256 text not null,
    created_at bigint not null,
    password_set_at bigint not null
  )`);
  await run(`create unique index sip_devices_login on sip_devices (domain, username)`);
  await run(`create index sip_devices_user on sip_devices (tenant_id, user_id, created_at, id)`);
  await run(`create table user_extensions (
    user_id text primary key references users (id) on delete cascade,
    tenant_id text not null references tenants (id) on delete cascade,
    extension text not null
  )`);
  await run(`create unique index user_extensions_number on user_extensions (tenant_id, extension)`);
}
