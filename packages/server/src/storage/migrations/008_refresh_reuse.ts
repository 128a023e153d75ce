import type { Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Refresh tokens already rotated away, kept until their session would expire, so presenting one again
 * is recognised as reuse and ends the whole session (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2).
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  await db.schema
    .createTable('auth_refresh_spent')
    .addColumn('refresh_hash', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('auth_sessions.id').onDelete('cascade'))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('auth_refresh_spent_expiry')
    .on('auth_refresh_spent')
    .column('expires_at')
    .execute();
}
