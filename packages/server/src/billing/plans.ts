/**
 * Plans (operator), licences (seats a tenant holds) and assignments (a seat given to a user).
 *
 * A plan is priced per user per month and lists its included services ("calling" makes it a calling
 * licence), the destination classes its users may call, an optional sell deck, and included minutes per
 * licence by the caller's country and destination class. A plan may include minutes for several
 * countries: each licence adds its minutes to each listed country's pool, and a call draws the pool of
 * its caller's country. Pools are the tenant's: their size is seats held x minutes per licence (seats
 * held, not seats assigned, as the tenant pays for every seat), recomputed whenever seats change, so
 * buying seats mid-month grows the current month's pool at once and selling them shrinks it.
 */
import type { TenantScope } from '../directory/scope.ts';
import type { Kysely } from 'kysely';
import type { Engine } from '../storage/db.ts';
import { isUniqueViolation } from '../storage/db.ts';
import type { Database } from '../storage/schema.ts';
import { newId } from '../ids.ts';
import { DESTINATION_CLASSES, isDestinationClass, type DestinationClass } from './destination-class.ts';
import { SERVICES } from '@parley/protocol';
import { BillingError } from './errors.ts';
import type { Micros } from './money.ts';

/** Services a plan may include (the wire's vocabulary, in the protocol package). */
export { SERVICES };

export interface IncludedMinutes {
  /** ISO 3166-1 alpha-2 of the callers whose pool the minutes join. */
  country: string;
  cls: DestinationClass;
  /** Minutes per licence per month. */
  minutes: number;
}

export interface PlanInput {
  name: string;
  pricePerUserMonth: Micros;
  services: string[];
  allowedClasses: DestinationClass[];
  sellDeckId?: string | null;
  includedMinutes?: IncludedMinutes[];
}

export interface Plan {
  id: string;
  name: string;
  pricePerUserMonth: Micros;
  services: string[];
  allowedClasses: DestinationClass[];
  sellDeckId: string | null;
  includedMinutes: IncludedMinutes[];
  archived: boolean;
  createdAt: number;
}

export interface Licence {
  planId: string;
  planName: string;
  seats: number;
  assigned: number;
}

export class PlanCatalog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly now: () => number = Date.now,
  ) {}

  async createPlan(input: PlanInput): Promise<Plan> {
    validatePlan(input);
    if (input.sellDeckId) {
      const deck = await this.db
        .selectFrom('billing_decks')
        .select('kind')
        .where('id', '=', input.sellDeckId)
        .executeTakeFirst();
      if (!deck || deck.kind !== 'sell')
        throw new BillingError('validation_failed', `no sell deck ${input.sellDeckId}`);
    }
    const plan: Plan = {
      id: newId('plan'),
      name: input.name,
      pricePerUserMonth: input.pricePerUserMonth,
      services: [...new Set(input.services)],
      allowedClasses: [...new Set(input.allowedClasses)],
      sellDeckId: input.sellDeckId ?? null,
      includedMinutes: input.includedMinutes ?? [],
      archived: false,
      createdAt: this.now(),
    };
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('billing_plans')
        .values({
          id: plan.id,
          name: plan.name,
          price_micros: plan.pricePerUserMonth,
          services: JSON.stringify(plan.services),
          allowed_classes: JSON.stringify(plan.allowedClasses),
          sell_deck_id: plan.sellDeckId,
          archived: 0,
          created_at: plan.createdAt,
        })
        .execute();
      for (const m of plan.includedMinutes) {
        await tx
          .insertInto('billing_plan_minutes')
          .values({ plan_id: plan.id, country: m.country, class: m.cls, minutes: m.minutes })
          .execute();
      }
    });
    return plan;
  }

  async getPlan(id: string): Promise<Plan | null> {
    const p = await this.db.selectFrom('billing_plans').selectAll().where('id', '=', id).executeTakeFirst();
    if (!p) return null;
    const minutes = await this.db
      .selectFrom('billing_plan_minutes')
      .selectAll()
      .where('plan_id', '=', id)
      .orderBy('country')
      .orderBy('class')
      .execute();
    return toPlan(p, minutes);
  }

  async listPlans(opts: { includeArchived?: boolean } = {}): Promise<Plan[]> {
    let q = this.db.selectFrom('billing_plans').selectAll().orderBy('created_at').orderBy('id');
    if (!opts.includeArchived) q = q.where('archived', '=', 0);
    const plans = await q.execute();
    const minutes = await this.db.selectFrom('billing_plan_minutes').selectAll().execute();
    return plans.map((p) =>
      toPlan(
        p,
        minutes.filter((m) => m.plan_id === p.id),
      ),
    );
  }

  /** An archived plan can no longer be licensed; existing seats keep working. */
  async archivePlan(id: string): Promise<void> {
    const r = await this.db
      .updateTable('billing_plans')
      .set({ archived: 1 })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new BillingError('not_found', `no plan ${id}`);
  }

  /** Sets the seats a tenant holds of a plan (0 removes the licence). Never below the seats assigned. */
  async setSeats(scope: TenantScope, planId: string, seats: number): Promise<Licence> {
    const { tenantId } = scope;
    if (!Number.isSafeInteger(seats) || seats < 0 || seats > 1_000_000)
      throw new BillingError('validation_failed', 'seats must be a whole number from 0 to 1,000,000');
    const plan = await this.getPlan(planId);
    if (!plan) throw new BillingError('not_found', `no plan ${planId}`);
    return this.db.transaction().execute(async (tx) => {
      const tenant = await tx
        .selectFrom('tenants')
        .select('id')
        .where('id', '=', tenantId)
        .executeTakeFirst();
      if (!tenant) throw new BillingError('not_found', `no tenant ${tenantId}`);
      let q = tx
        .selectFrom('billing_licences')
        .select('seats')
        .where('tenant_id', '=', tenantId)
        .where('plan_id', '=', planId);
      if (this.engine === 'postgres') q = q.forUpdate();
      const current = await q.executeTakeFirst();
      if (!current && plan.archived && seats > 0)
        throw new BillingError('conflict', `plan ${planId} is archived`);
      const assigned = await this.assignedCount(tx, tenantId, planId);
      if (seats < assigned)
        throw new BillingError(
          'seats_exhausted',
          `${assigned} seats are assigned; unassign some before reducing to ${seats}`,
        );
      const at = this.now();
      if (seats === 0)
        await tx
          .deleteFrom('billing_licences')
          .where('tenant_id', '=', tenantId)
          .where('plan_id', '=', planId)
          .execute();
      else if (current)
        await tx
          .updateTable('billing_licences')
          .set({ seats, updated_at: at })
          .where('tenant_id', '=', tenantId)
          .where('plan_id', '=', planId)
          .execute();
      else
        await tx
          .insertInto('billing_licences')
          .values({ tenant_id: tenantId, plan_id: planId, seats, updated_at: at })
          .execute();
      return { planId, planName: plan.name, seats, assigned };
    });
  }

  async licences(scope: TenantScope): Promise<Licence[]> {
    const { tenantId } = scope;
    const rows = await this.db
      .selectFrom('billing_licences as l')
      .innerJoin('billing_plans as p', 'p.id', 'l.plan_id')
      .select(['l.plan_id', 'p.name', 'l.seats'])
      .where('l.tenant_id', '=', tenantId)
      .orderBy('p.name')
      .execute();
    const counts = await this.db
      .selectFrom('billing_assignments')
      .select(['plan_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('tenant_id', '=', tenantId)
      .groupBy('plan_id')
      .execute();
    return rows.map((r) => ({
      planId: r.plan_id,
      planName: r.name,
      seats: r.seats,
      assigned: Number(counts.find((c) => c.plan_id === r.plan_id)?.n ?? 0),
    }));
  }

  /** Who holds the tenant's seats: every assignment (of one plan when given), oldest first. */
  async assignments(
    scope: TenantScope,
    planId?: string,
  ): Promise<Array<{ userId: string; planId: string; assignedAt: number }>> {
    const rows = await this.db
      .selectFrom('billing_assignments')
      .select(['user_id', 'plan_id', 'assigned_at'])
      .where('tenant_id', '=', scope.tenantId)
      .$if(planId !== undefined, (q) => q.where('plan_id', '=', planId!))
      .orderBy('assigned_at')
      .orderBy('user_id')
      .execute();
    return rows.map((r) => ({ userId: r.user_id, planId: r.plan_id, assignedAt: r.assigned_at }));
  }

  /** Gives a user one seat of a plan the tenant holds. Idempotent. */
  async assign(scope: TenantScope, userId: string, planId: string): Promise<void> {
    const { tenantId } = scope;
    await this.db.transaction().execute(async (tx) => {
      const user = await tx
        .selectFrom('users')
        .select('id')
        .where('id', '=', userId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      if (!user) throw new BillingError('not_found', `no user ${userId} in this tenant`);
      let q = tx
        .selectFrom('billing_licences')
        .select('seats')
        .where('tenant_id', '=', tenantId)
        .where('plan_id', '=', planId);
      if (this.engine === 'postgres') q = q.forUpdate();
      const licence = await q.executeTakeFirst();
      if (!licence) throw new BillingError('no_licence', `the tenant holds no seats of plan ${planId}`);
      const already = await tx
        .selectFrom('billing_assignments')
        .select('user_id')
        .where('user_id', '=', userId)
        .where('plan_id', '=', planId)
        .executeTakeFirst();
      if (already) return;
      if ((await this.assignedCount(tx, tenantId, planId)) >= licence.seats)
        throw new BillingError('seats_exhausted', `every seat of plan ${planId} is assigned`);
      try {
        await tx
          .insertInto('billing_assignments')
          .values({ tenant_id: tenantId, user_id: userId, plan_id: planId, assigned_at: this.now() })
          .execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    });
  }

  async unassign(scope: TenantScope, userId: string, planId: string): Promise<void> {
    const { tenantId } = scope;
    const r = await this.db
      .deleteFrom('billing_assignments')
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('plan_id', '=', planId)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0)
      throw new BillingError('not_found', `user ${userId} holds no seat of plan ${planId}`);
  }

  /** The plans assigned to a user, oldest assignment first; `not_found` for a user of another tenant. */
  async userPlans(
    scope: TenantScope,
    userId: string,
  ): Promise<Array<{ planId: string; assignedAt: number }>> {
    const { tenantId } = scope;
    const user = await this.db
      .selectFrom('users')
      .select('id')
      .where('id', '=', userId)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    if (!user) throw new BillingError('not_found', `no user ${userId} in this tenant`);
    const rows = await this.db
      .selectFrom('billing_assignments')
      .select(['plan_id', 'assigned_at'])
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .orderBy('assigned_at')
      .execute();
    return rows.map((r) => ({ planId: r.plan_id, assignedAt: r.assigned_at }));
  }

  private async assignedCount(tx: Kysely<Database>, tenantId: string, planId: string): Promise<number> {
    const r = await tx
      .selectFrom('billing_assignments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('plan_id', '=', planId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
}

function validatePlan(p: PlanInput): void {
  const bad = (m: string) => new BillingError('validation_failed', m);
  if (!p.name || p.name.length > 120) throw bad('name must be 1 to 120 characters');
  if (!Number.isSafeInteger(p.pricePerUserMonth) || p.pricePerUserMonth < 0)
    throw bad('price must be a non-negative amount');
  for (const s of p.services)
    if (!(SERVICES as readonly string[]).includes(s))
      throw bad(`unknown service "${s}" (${SERVICES.join(', ')})`);
  for (const c of p.allowedClasses)
    if (!isDestinationClass(c)) throw bad(`unknown class "${c}" (${DESTINATION_CLASSES.join(', ')})`);
  const seen = new Set<string>();
  for (const m of p.includedMinutes ?? []) {
    if (!/^[A-Z]{2}$/.test(m.country)) throw bad(`country "${m.country}" must be ISO 3166-1 alpha-2`);
    if (!isDestinationClass(m.cls) || m.cls === 'emergency')
      throw bad(`included minutes cannot be for class "${m.cls}"`);
    if (!Number.isSafeInteger(m.minutes) || m.minutes < 0 || m.minutes > 10_000_000)
      throw bad('included minutes must be a whole number');
    const k = `${m.country}|${m.cls}`;
    if (seen.has(k)) throw bad(`included minutes for ${m.country} ${m.cls} are listed twice`);
    seen.add(k);
  }
}

function toPlan(
  p: {
    id: string;
    name: string;
    price_micros: number;
    services: string;
    allowed_classes: string;
    sell_deck_id: string | null;
    archived: number;
    created_at: number;
  },
  minutes: Array<{ country: string; class: string; minutes: number }>,
): Plan {
  return {
    id: p.id,
    name: p.name,
    pricePerUserMonth: Number(p.price_micros),
    services: JSON.parse(p.services) as string[],
    allowedClasses: JSON.parse(p.allowed_classes) as DestinationClass[],
    sellDeckId: p.sell_deck_id,
    includedMinutes: minutes.map((m) => ({
      country: m.country,
      cls: m.class as DestinationClass,
      minutes: Number(m.minutes),
    })),
    archived: p.archived === 1,
    createdAt: Number(p.created_at),
  };
}
