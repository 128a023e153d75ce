/**
 * PostgreSQL for tests: a fresh database per test server on the throwaway PostgreSQL that `npm test`
 * starts (PARLEY_TEST_PG_URL). Missing means the suite was started wrongly: fail, never skip.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function pgBaseUrl(): string {
  const url = process.env.PARLEY_TEST_PG_URL;
  if (!url)
    throw new Error('PARLEY_TEST_PG_URL is not set: run the tests with `npm test`, which starts PostgreSQL');
  return url;
}

/** Creates an empty database; resolves to its URL and a function that drops it. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = pgBaseUrl();
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
