import type { Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Image files get their upright size and a thumbnail (chat/thumbnails.ts): `thumb_state` is null for
 * files that are not images, else `pending` until the thumbnail is rendered, then `ready` or `failed`
 * (with the error code). SQLite adds one column per statement.
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  const columns: Array<[string, 'integer' | 'text']> = [
    ['width', 'integer'],
    ['height', 'integer'],
    ['thumb_state', 'text'],
    ['thumb_width', 'integer'],
    ['thumb_height', 'integer'],
    ['thumb_type', 'text'],
    ['thumb_error', 'text'],
  ];
  for (const [name, type] of columns) await db.schema.alterTable('files').addColumn(name, type).execute();
}
