import type { Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/** Users' own presence settings (manual state, status note, out of office), kept across restarts. */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  await db.schema
    .createTable('presence_settings')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
