/**
 * Test storage for billing on both engines: SQLite in a temporary folder, or a fresh, randomly named
 * database on the PostgreSQL server `npm test` starts (PARLEY_TEST_PG_URL). A PostgreSQL test fails,
 * never skips, when that URL is absent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStorage, type Engine, type Storage } from '../../src/storage/db.ts';
import { migrate } from '../../src/storage/migrator.ts';

export const ENGINES: Engine[] = ['sqlite', 'postgres'];

export interface TestStorage {
  storage: Storage;
  /** The database URL (sqlite:FILE or postgres://...), for child processes. */
  url: string;
  dispose(): Promise<void>;
}

export function pgServerUrl(): string {
  const url = process.env.PARLEY_TEST_PG_URL;
  if (!url)
    throw new Error('PARLEY_TEST_PG_URL is not set: run the tests with `npm test` (it starts PostgreSQL)');
  return url;
}

/** Opens migrated storage on `engine`. */
export async function openTestStorage(engine: Engine, poolSize = 10): Promise<TestStorage> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'parley-billing-'));
    const url = `sqlite:${join(dir, 'parley.db')}`;
    const storage = openStorage({ dataDir: dir, databaseUrl: url });
    await migrate(storage);
    return {
      storage,
      url,
      async dispose() {
        await storage.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const server = pgServerUrl();
  const name = `billing_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = server.replace(/\/[^/]*$/, `/${name}`);
  const storage = openStorage({ dataDir: tmpdir(), databaseUrl: url, poolSize });
  await migrate(storage);
  return {
    storage,
    url,
    async dispose() {
      await storage.close();
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Inserts a tenant and users directly (billing tests need only the rows). */
export async function seedTenant(
  storage: Storage,
  tenant: { id: string; country: string; timeZone: string },
  userIds: string[],
): Promise<void> {
  const now = Date.now();
  await storage.db
    .insertInto('tenants')
    .values({
      id: tenant.id,
      name: tenant.id,
      country: tenant.country,
      time_zone: tenant.timeZone,
      is_operator: 0,
      created_at: now,
    })
    .execute();
  for (const id of userIds) {
    await storage.db
      .insertInto('users')
      .values({
        id,
        tenant_id: tenant.id,
        address: `${id}@${tenant.id}.example`,
        display_name: id,
        search_name: id,
        title: null,
        department: null,
        role: 'user',
        enabled: 1,
        password_hash: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }
}
