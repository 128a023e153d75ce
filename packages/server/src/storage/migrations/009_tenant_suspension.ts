import type { Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * A tenant the operator suspended: `suspended_at` is when (null: active). Sign-in, refresh, access
 * tokens and API keys of its users check it, so a suspension acts at once in every process.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  await db.schema.alterTable('tenants').addColumn('suspended_at', 'bigint').execute();
}
