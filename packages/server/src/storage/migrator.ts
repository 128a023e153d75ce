/**
 * Versioned migrations, run at start and by `parley migrate`. Each migration is a module under
 * ./migrations with `up(db, engine)`; they are listed here in order, and applied once each, by
 * kysely's migrator. On PostgreSQL it holds a lock table row, so two nodes starting together apply each
 * migration once. On SQLite kysely takes no lock: two processes migrating the same new data folder at
 * the same instant can collide, and the later one then fails its start on "table already exists"
 * (nothing is applied twice; start it again). Migrations that rebuild a table do so in a transaction.
 */
import {
  Migrator,
  type CreateTableBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import type { Engine, Storage } from './db.ts';
import * as m001 from './migrations/001_core.ts';
import * as m002 from './migrations/002_billing.ts';
import * as m003 from './migrations/003_realtime_contacts.ts';
import * as m004 from './migrations/004_presence_settings.ts';
import * as m005 from './migrations/005_credit_pages.ts';
import * as m006 from './migrations/006_chat.ts';
import * as m007 from './migrations/007_billing_requests.ts';
import * as m008 from './migrations/008_refresh_reuse.ts';
import * as m009 from './migrations/009_tenant_suspension.ts';
import * as m010 from './migrations/010_file_thumbnails.ts';
import * as m011 from './migrations/011_calls.ts';
import * as m012 from './migrations/012_sip_devices.ts';
import * as m013 from './migrations/013_sip_registrations.ts';
import * as m014 from './migrations/014_call_media_stats.ts';
import * as m015 from './migrations/015_telephony.ts';
import * as m016 from './migrations/016_call_trunk_columns.ts';
import * as m017 from './migrations/017_trunk_registration.ts';
import * as m018 from './migrations/018_least_cost_routing.ts';
import * as m020 from './migrations/020_emergency.ts';
import * as m021 from './migrations/021_call_on_net.ts';

export type MigrationEngine = Engine;
type Up = (db: Kysely<unknown>, engine: Engine) => Promise<void>;

/** Every migration, in order. Append; never edit or reorder one that has shipped. */
const migrations: Array<[string, { up: Up }]> = [
  ['001_core', m001],
  ['002_billing', m002],
  ['003_realtime_contacts', m003],
  ['004_presence_settings', m004],
  ['005_credit_pages', m005],
  ['006_chat', m006],
  ['007_billing_requests', m007],
  ['008_refresh_reuse', m008],
  ['009_tenant_suspension', m009],
  ['010_file_thumbnails', m010],
  ['011_calls', m011],
  ['012_sip_devices', m012],
  ['013_sip_registrations', m013],
  ['014_call_media_stats', m014],
  ['015_telephony', m015],
  ['016_call_trunk_columns', m016],
  ['017_trunk_registration', m017],
  ['018_least_cost_routing', m018],
  ['020_emergency', m020],
  ['021_call_on_net', m021],
];

/** An auto-incrementing integer primary key on either engine. */
export function serialPrimaryKey<T extends string, C extends string>(
  t: CreateTableBuilder<T, C>,
  name: string,
  engine: Engine,
): CreateTableBuilder<T, C> {
  return engine === 'postgres'
    ? t.addColumn(name, 'bigserial', (c) => c.primaryKey())
    : t.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
}

class Provider implements MigrationProvider {
  constructor(private readonly engine: Engine) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, mod] of migrations) out[name] = { up: (db) => mod.up(db, this.engine) };
    return out;
  }
}

export interface MigrationReport {
  applied: string[];
  current: string | null;
}

/** Applies every pending migration, or (`to`, for tests) those up to and including the one named. */
export async function migrate(storage: Storage, to?: string): Promise<MigrationReport> {
  const migrator = new Migrator({ db: storage.db, provider: new Provider(storage.engine) });
  const { error, results } =
    to === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(to);
  if (error) throw error instanceof Error ? error : new Error(String(error));
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  return { applied, current: to ?? migrations.at(-1)?.[0] ?? null };
}
