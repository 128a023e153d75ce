import type { Kysely } from 'kysely';
import type { MigrationEngine } from '../migrator.ts';

/**
 * Money moves only with authority, exactly once:
 *
 * - `billing_top_up_requests`: a tenant admin asks for credit; the operator approves (the credit and
 *   the request's decision commit together) or declines. Kept like the ledger: no foreign key to
 *   tenants, a financial record outlives its tenant.
 * - `billing_idempotency`: what each money-moving request made (its ledger entry), by tenant and
 *   Idempotency-Key, with a fingerprint of the request; a retry is answered from those immutable rows. Written in the transaction that
 *   moves the money, so a retry finds either nothing moved and no answer, or both. Rows older than the
 *   retention (at least 24 h) are purged by the billing sweep; `created_at` serves that purge.
 *
 * (006 is chat's.)
 */
export async function up(db: Kysely<unknown>, _engine: MigrationEngine): Promise<void> {
  await db.schema
    .createTable('billing_top_up_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('amount_micros', 'bigint', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text')
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'bigint')
    .addColumn('decision_note', 'text')
    .addColumn('ledger_id', 'text')
    .execute();
  await db.schema
    .createIndex('billing_top_up_requests_tenant')
    .on('billing_top_up_requests')
    .columns(['tenant_id', 'requested_at'])
    .execute();
  await db.schema
    .createIndex('billing_top_up_requests_state')
    .on('billing_top_up_requests')
    .columns(['state', 'requested_at'])
    .execute();
  await db.schema
    .createTable('billing_idempotency')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('billing_idempotency_pk', ['tenant_id', 'key'])
    .execute();
  await db.schema
    .createIndex('billing_idempotency_created')
    .on('billing_idempotency')
    .column('created_at')
    .execute();
}
