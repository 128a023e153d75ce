/**
 * Carriers' trunks, the number inventory and tenants' dial plans on the database (migration
 * 015_telephony). The store is the `CarrierDirectory` and `NumberDirectory` the B2BUA reads:
 * `carrierBySource` runs on every inbound INVITE and must be synchronous, so the trunks are held in a
 * `StaticCarrierDirectory` cache that `load()` fills at start and every write through this store
 * refreshes. (A second server process sharing the database sees another's change at its next load.)
 *
 * Tenant admin operations take a TenantScope and only ever touch the scope's rows: a tenant never
 * reads, assigns or learns of another tenant's numbers. Operator operations are unscoped.
 */
import type { Kysely, Selectable } from 'kysely';
import { ParleyError } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import type { TenantScope } from '../directory/scope.ts';
import {
  StaticCarrierDirectory,
  type CarrierDirectory,
  type TrunkCarrier,
  type TrunkRegistration,
} from './carriers.ts';
import type { NumberDirectory, PhoneNumber } from './numbers.ts';
import type { TelephonyNumbersTable, TelephonyTrunksTable } from './telephony-tables.ts';

/** A trunk as written: the name is billing's carrier's. */
export type TrunkSettings = Omit<TrunkCarrier, 'name'>;

function toNumber(r: Selectable<TelephonyNumbersTable>): PhoneNumber {
  return { number: r.number, carrierId: r.carrier_id, tenantId: r.tenant_id, userId: r.user_id };
}

function toTrunk(r: Selectable<TelephonyTrunksTable> & { name: string }): TrunkCarrier {
  return {
    id: r.carrier_id,
    name: r.name,
    tenantId: r.tenant_id,
    addresses: JSON.parse(r.addresses) as TrunkCarrier['addresses'],
    transport: r.transport as TrunkCarrier['transport'],
    allow: JSON.parse(r.allow) as string[],
    codecs: JSON.parse(r.codecs) as TrunkCarrier['codecs'],
    callerIdFormat: r.caller_id_format as TrunkCarrier['callerIdFormat'],
    channelLimit: r.channel_limit === null ? null : Number(r.channel_limit),
    enabled: Number(r.enabled) === 1,
    auth: r.auth as TrunkCarrier['auth'],
    registration: r.registration === null ? null : (JSON.parse(r.registration) as TrunkRegistration),
    identity: r.identity as TrunkCarrier['identity'],
    healthCheck: Number(r.health_check) === 1,
    preference: Number(r.preference ?? 0),
    emergency: Number(r.emergency) === 1,
    pidfLo: Number(r.pidf_lo) === 1,
  };
}

export class TelephonyStore implements CarrierDirectory, NumberDirectory {
  private readonly cache = new StaticCarrierDirectory();

  constructor(
    readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Told the whole trunk list after every load (registration trunks follow it, trunk-registration.ts). */
  onTrunks: ((trunks: TrunkCarrier[]) => void) | undefined;

  /** Reads every trunk into the cache; call at start (writes through this store call it themselves). */
  async load(): Promise<void> {
    const trunks = await this.listTrunks();
    this.cache.replace(trunks);
    this.onTrunks?.(trunks);
  }

  // CarrierDirectory

  carrierBySource(address: string): TrunkCarrier | undefined {
    return this.cache.carrierBySource(address);
  }

  carriersFor(tenantId: string, e164: string): Promise<TrunkCarrier[]> {
    return this.cache.carriersFor(tenantId, e164);
  }

  get(id: string): Promise<TrunkCarrier | null> {
    return this.cache.get(id);
  }

  // Operator: trunks

  async listTrunks(): Promise<TrunkCarrier[]> {
    const rows = await this.db
      .selectFrom('telephony_trunks')
      .innerJoin('billing_carriers', 'billing_carriers.id', 'telephony_trunks.carrier_id')
      .selectAll('telephony_trunks')
      .select('billing_carriers.name')
      .orderBy('telephony_trunks.created_at')
      .orderBy('telephony_trunks.carrier_id')
      .execute();
    return rows.map(toTrunk);
  }

  /** Creates or replaces the trunk side of billing's carrier `t.id` (not_found when billing has none). */
  async putTrunk(t: TrunkSettings): Promise<TrunkCarrier> {
    const billing = await this.db
      .selectFrom('billing_carriers')
      .select('id')
      .where('id', '=', t.id)
      .executeTakeFirst();
    if (!billing) throw new ParleyError('not_found', `No carrier ${t.id} in billing: add the carrier first.`);
    const values = {
      tenant_id: t.tenantId,
      addresses: JSON.stringify(t.addresses),
      transport: t.transport,
      allow: JSON.stringify(t.allow),
      codecs: JSON.stringify(t.codecs),
      caller_id_format: t.callerIdFormat,
      channel_limit: t.channelLimit,
      enabled: t.enabled ? 1 : 0,
      auth: t.auth,
      registration: t.registration === null ? null : JSON.stringify(t.registration),
      identity: t.identity,
      health_check: t.healthCheck ? 1 : 0,
      preference: t.preference ?? 0,
      emergency: t.emergency ? 1 : 0,
      pidf_lo: t.pidfLo ? 1 : 0,
    };
    await this.db
      .insertInto('telephony_trunks')
      .values({ carrier_id: t.id, created_at: this.now(), ...values })
      .onConflict((oc) => oc.column('carrier_id').doUpdateSet(values))
      .execute();
    await this.load();
    return (await this.get(t.id))!;
  }

  async removeTrunk(carrierId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('telephony_trunks')
      .where('carrier_id', '=', carrierId)
      .executeTakeFirst();
    await this.load();
    return Number(r.numDeletedRows) > 0;
  }

  // Operator: number inventory

  async listNumbers(): Promise<PhoneNumber[]> {
    const rows = await this.db.selectFrom('telephony_numbers').selectAll().orderBy('number').execute();
    return rows.map(toNumber);
  }

  /** Adds a number of `carrierId`, optionally given to a tenant (and a user of it). conflict if held. */
  async addNumber(n: PhoneNumber): Promise<PhoneNumber> {
    if (n.userId !== null && n.tenantId === null)
      throw new ParleyError('bad_request', 'A number is given to a tenant before one of its users.');
    const billing = await this.db
      .selectFrom('billing_carriers')
      .select('id')
      .where('id', '=', n.carrierId)
      .executeTakeFirst();
    if (!billing) throw new ParleyError('not_found', `No carrier ${n.carrierId}.`);
    if (await this.byNumber(n.number))
      throw new ParleyError('conflict', `${n.number} is already in the inventory.`);
    await this.db
      .insertInto('telephony_numbers')
      .values({
        number: n.number,
        carrier_id: n.carrierId,
        tenant_id: n.tenantId,
        user_id: n.userId,
        created_at: this.now(),
      })
      .execute();
    return n;
  }

  /** Gives a number to a tenant (or takes it back with null); the user assignment is cleared. */
  async allocate(number: string, tenantId: string | null): Promise<PhoneNumber> {
    const r = await this.db
      .updateTable('telephony_numbers')
      .set({ tenant_id: tenantId, user_id: null })
      .where('number', '=', number)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new ParleyError('not_found', `No number ${number}.`);
    return (await this.byNumber(number))!;
  }

  async removeNumber(number: string): Promise<boolean> {
    const r = await this.db.deleteFrom('telephony_numbers').where('number', '=', number).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // NumberDirectory

  async byNumber(e164: string): Promise<PhoneNumber | null> {
    const r = await this.db
      .selectFrom('telephony_numbers')
      .selectAll()
      .where('number', '=', e164)
      .executeTakeFirst();
    return r ? toNumber(r) : null;
  }

  async numberOfUser(tenantId: string, userId: string): Promise<string | null> {
    const r = await this.db
      .selectFrom('telephony_numbers')
      .select('number')
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .orderBy('number')
      .executeTakeFirst();
    return r?.number ?? null;
  }

  // Tenant admin

  async tenantNumbers(scope: TenantScope): Promise<PhoneNumber[]> {
    const rows = await this.db
      .selectFrom('telephony_numbers')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .orderBy('number')
      .execute();
    return rows.map(toNumber);
  }

  /** Assigns one of the tenant's numbers to one of its users (null: unassigns). not_found otherwise. */
  async assign(scope: TenantScope, number: string, userId: string | null): Promise<PhoneNumber> {
    if (userId !== null) {
      const user = await this.db
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', scope.tenantId)
        .where('id', '=', userId)
        .executeTakeFirst();
      if (!user) throw new ParleyError('not_found', 'No such user in this organisation.');
    }
    const r = await this.db
      .updateTable('telephony_numbers')
      .set({ user_id: userId })
      .where('tenant_id', '=', scope.tenantId)
      .where('number', '=', number)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0)
      throw new ParleyError('not_found', `No number ${number} in this organisation.`);
    return (await this.byNumber(number))!;
  }

  /** The tenant's dial plan country: its own setting, else the tenant's country. */
  async dialPlanCountry(scope: TenantScope): Promise<string> {
    const plan = await this.db
      .selectFrom('telephony_dial_plans')
      .select('country')
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    if (plan) return plan.country;
    const t = await this.db
      .selectFrom('tenants')
      .select('country')
      .where('id', '=', scope.tenantId)
      .executeTakeFirst();
    return t?.country ?? '';
  }

  /** Whether the user withholds their number on every call out (a user setting; default no). */
  async withholdsCallerId(scope: TenantScope, userId: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('telephony_user_settings')
      .select('withhold_caller_id')
      .where('tenant_id', '=', scope.tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r?.withhold_caller_id ?? 0) === 1;
  }

  async setWithholdCallerId(scope: TenantScope, userId: string, withhold: boolean): Promise<void> {
    const v = withhold ? 1 : 0;
    await this.db
      .insertInto('telephony_user_settings')
      .values({ tenant_id: scope.tenantId, user_id: userId, withhold_caller_id: v })
      .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet({ withhold_caller_id: v }))
      .execute();
  }

  async setDialPlanCountry(scope: TenantScope, country: string): Promise<void> {
    await this.db
      .insertInto('telephony_dial_plans')
      .values({ tenant_id: scope.tenantId, country })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ country }))
      .execute();
  }
}
