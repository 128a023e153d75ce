import { sql, type Kysely } from 'kysely';
import { serialPrimaryKey, type MigrationEngine } from '../migrator.ts';

/**
 * Billing: plans, licences and assignments, wallets and their ledger, minute pools, carriers, rate decks
 * (versions and rates), credit-control reservations and rated calls. Money is integer micro-units in
 * bigint columns. The ledger, reservations and rated calls keep no foreign key to tenants on purpose:
 * financial records outlive a deleted tenant, and the hot path skips the key checks.
 */
export async function up(db: Kysely<unknown>, engine: MigrationEngine): Promise<void> {
  await db.schema
    .createTable('billing_plans')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('price_micros', 'bigint', (c) => c.notNull())
    .addColumn('services', 'text', (c) => c.notNull())
    .addColumn('allowed_classes', 'text', (c) => c.notNull())
    .addColumn('sell_deck_id', 'text')
    .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('billing_plan_minutes')
    .addColumn('plan_id', 'text', (c) => c.notNull().references('billing_plans.id').onDelete('cascade'))
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('class', 'text', (c) => c.notNull())
    .addColumn('minutes', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('billing_plan_minutes_pk', ['plan_id', 'country', 'class'])
    .execute();
  await db.schema
    .createTable('billing_licences')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('plan_id', 'text', (c) => c.notNull().references('billing_plans.id'))
    .addColumn('seats', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('billing_licences_pk', ['tenant_id', 'plan_id'])
    .execute();
  await db.schema
    .createTable('billing_assignments')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('plan_id', 'text', (c) => c.notNull().references('billing_plans.id'))
    .addColumn('assigned_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('billing_assignments_pk', ['user_id', 'plan_id'])
    .execute();
  await db.schema
    .createIndex('billing_assignments_tenant_plan')
    .on('billing_assignments')
    .columns(['tenant_id', 'plan_id'])
    .execute();
  await db.schema
    .createTable('billing_accounts')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
    .addColumn('balance_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('held_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('premium_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sell_deck_id', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint(
      'billing_accounts_not_overspent',
      sql`held_micros >= 0 and balance_micros >= held_micros`,
    )
    .execute();
  await db.schema
    .createTable('billing_ledger')
    .$call((t) => serialPrimaryKey(t, 'seq', engine))
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('amount_micros', 'bigint', (c) => c.notNull())
    .addColumn('balance_after_micros', 'bigint', (c) => c.notNull())
    .addColumn('reference', 'text')
    .addColumn('note', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('billing_ledger_tenant')
    .on('billing_ledger')
    .columns(['tenant_id', 'seq'])
    .execute();
  await db.schema
    .createTable('billing_pools')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('class', 'text', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull())
    .addColumn('used_minutes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('held_minutes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('billing_pools_pk', ['tenant_id', 'country', 'class', 'period'])
    .execute();
  await db.schema
    .createTable('billing_carriers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('billing_decks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('carrier_id', 'text', (c) => c.references('billing_carriers.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('billing_deck_versions')
    .addColumn('deck_id', 'text', (c) => c.notNull().references('billing_decks.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('effective_from', 'bigint', (c) => c.notNull())
    .addColumn('imported_at', 'bigint', (c) => c.notNull())
    .addColumn('row_count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('billing_deck_versions_pk', ['deck_id', 'version'])
    .execute();
  await db.schema
    .createTable('billing_deck_rates')
    .addColumn('deck_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('class', 'text', (c) => c.notNull())
    .addColumn('rate_micros', 'bigint', (c) => c.notNull())
    .addColumn('fee_micros', 'bigint', (c) => c.notNull())
    .addColumn('first_increment', 'integer', (c) => c.notNull())
    .addColumn('next_increment', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('billing_deck_rates_pk', ['deck_id', 'version', 'prefix'])
    .execute();
  await db.schema
    .createTable('billing_reservations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('call_id', 'text')
    .addColumn('destination', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('pool_country', 'text')
    .addColumn('pool_class', 'text')
    .addColumn('pool_period', 'text')
    .addColumn('deck_id', 'text', (c) => c.notNull())
    .addColumn('deck_version', 'integer', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('rate', 'text', (c) => c.notNull())
    .addColumn('granted_seconds', 'integer', (c) => c.notNull())
    .addColumn('held_pool_minutes', 'bigint', (c) => c.notNull())
    .addColumn('held_credit_micros', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('closed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('billing_reservations_state_expiry')
    .on('billing_reservations')
    .columns(['state', 'expires_at'])
    .execute();
  await db.schema
    .createTable('billing_rated_calls')
    .addColumn('call_id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('reservation_id', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('class', 'text')
    .addColumn('billable_seconds', 'integer', (c) => c.notNull())
    .addColumn('pool_minutes', 'integer', (c) => c.notNull())
    .addColumn('amount_micros', 'bigint', (c) => c.notNull())
    .addColumn('explanation', 'text', (c) => c.notNull())
    .addColumn('rated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('billing_rated_calls_tenant')
    .on('billing_rated_calls')
    .columns(['tenant_id', 'started_at'])
    .execute();
}
