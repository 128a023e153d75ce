/**
 * Where a caller is, for emergency calls (issue 20 item 4): civic addresses tenant admins keep (migration
 * 020). A site is a named address (an office, a floor); each user points at a site, or has an address
 * of their own (a home worker), or neither. A tenant also keeps an emergency callback number: the
 * number an emergency call shows for a caller with no number of their own.
 *
 * Every operation takes a TenantScope and touches only that tenant's rows: another tenant's site or
 * user is not_found, never revealed.
 */
import type { Kysely } from 'kysely';
import { ParleyError } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import type { TenantScope } from '../directory/scope.ts';
import { newId } from '../ids.ts';
import type { CivicAddress } from '@parley/protocol';

/** A civic address (RFC 5139's parts): defined with its schema in @parley/protocol. */
export type { CivicAddress } from '@parley/protocol';

export interface EmergencySite {
  id: string;
  name: string;
  address: CivicAddress;
  /** Users pointing at this site. */
  users: number;
}

export interface UserLocation {
  userId: string;
  /** The site the user is at, or null. */
  siteId: string | null;
  /** The user's own address (when not at a site), or null. */
  address: CivicAddress | null;
}

/** Where an emergency call says the caller is: the address, and what it came from. */
export interface CallerLocation {
  address: CivicAddress;
  /** The site's name, or null for a user's own address. */
  site: string | null;
}

export class EmergencyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  // Sites

  async listSites(scope: TenantScope): Promise<EmergencySite[]> {
    const rows = await this.db
      .selectFrom('emergency_sites')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .orderBy('name')
      .orderBy('id')
      .execute();
    const counts = await this.db
      .selectFrom('emergency_user_locations')
      .select(['site_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('tenant_id', '=', scope.tenantId)
      .where('site_id', 'is not', null)
      .groupBy('site_id')
      .execute();
    const by = new Map(counts.map((c) => [c.site_id!, Number(c.n)]));
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      address: JSON.parse(r.address) as CivicAddress,
      users: by.get(r.id) ?? 0,
    }));
  }

  async getSite(scope: TenantScope, id: string): Promise<EmergencySite> {
    const site = (await this.listSites(scope)).find((s) => s.id === id);
    if (!site) throw new ParleyError('not_found', 'No such site in this organisation.', { field: 'siteId' });
    return site;
  }

  async createSite(scope: TenantScope, name: string, address: CivicAddress): Promise<EmergencySite> {
    const id = newId('site');
    const at = this.now();
    await this.db
      .insertInto('emergency_sites')
      .values({
        id,
        tenant_id: scope.tenantId,
        name,
        address: JSON.stringify(address),
        created_at: at,
        updated_at: at,
      })
      .execute();
    return { id, name, address, users: 0 };
  }

  async updateSite(
    scope: TenantScope,
    id: string,
    name: string,
    address: CivicAddress,
  ): Promise<EmergencySite> {
    const r = await this.db
      .updateTable('emergency_sites')
      .set({ name, address: JSON.stringify(address), updated_at: this.now() })
      .where('tenant_id', '=', scope.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0)
      throw new ParleyError('not_found', 'No such site in this organisation.', { field: 'siteId' });
    return this.getSite(scope, id);
  }

  /** Removes a site nobody is at (`site_in_use` otherwise: a user must never lose their location unseen). */
  async removeSite(scope: TenantScope, id: string): Promise<void> {
    const site = await this.getSite(scope, id);
    if (site.users > 0)
      throw new ParleyError(
        'site_in_use',
        `${site.users} user${site.users === 1 ? ' is' : 's are'} at ${site.name}: move them first.`,
        { field: 'siteId' },
      );
    await this.db
      .deleteFrom('emergency_sites')
      .where('tenant_id', '=', scope.tenantId)
      .where('id', '=', id)
      .execute();
  }

  // Users' locations

  async listLocations(scope: TenantScope): Promise<UserLocation[]> {
    const rows = await this.db
      .selectFrom('emergency_user_locations')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .orderBy('user_id')
      .execute();
    return rows.map((r) => ({
      userId: r.user_id,
      siteId: r.site_id,
      address: r.address === null ? null : (JSON.parse(r.address) as CivicAddress),
    }));
  }

  async location(scope: TenantScope, userId: string): Promise<UserLocation> {
    await this.user(scope, userId);
    const r = await this.db
      .selectFrom('emergency_user_locations')
      .selectAll()
      .where('tenant_id', '=', scope.tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return {
      userId,
      siteId: r?.site_id ?? null,
      address: r?.address ? (JSON.parse(r.address) as CivicAddress) : null,
    };
  }

  /** Puts the user at a site, or gives them their own address, or (both null) clears their location. */
  async setLocation(
    scope: TenantScope,
    userId: string,
    loc: { siteId: string | null; address: CivicAddress | null },
  ): Promise<UserLocation> {
    await this.user(scope, userId);
    if (loc.siteId !== null) await this.getSite(scope, loc.siteId);
    if (loc.siteId === null && loc.address === null) {
      await this.db
        .deleteFrom('emergency_user_locations')
        .where('tenant_id', '=', scope.tenantId)
        .where('user_id', '=', userId)
        .execute();
      return { userId, siteId: null, address: null };
    }
    const values = {
      site_id: loc.siteId,
      address: loc.siteId !== null || loc.address === null ? null : JSON.stringify(loc.address),
      updated_at: this.now(),
    };
    await this.db
      .insertInto('emergency_user_locations')
      .values({ tenant_id: scope.tenantId, user_id: userId, ...values })
      .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet(values))
      .execute();
    return this.location(scope, userId);
  }

  /** Where an emergency call of the user says they are: their site's address, their own, or null. */
  async callerLocation(scope: TenantScope, userId: string): Promise<CallerLocation | null> {
    const r = await this.db
      .selectFrom('emergency_user_locations')
      .leftJoin('emergency_sites', (j) =>
        j
          .onRef('emergency_sites.id', '=', 'emergency_user_locations.site_id')
          .onRef('emergency_sites.tenant_id', '=', 'emergency_user_locations.tenant_id'),
      )
      .select([
        'emergency_user_locations.address as own',
        'emergency_sites.address as siteAddress',
        'emergency_sites.name as siteName',
      ])
      .where('emergency_user_locations.tenant_id', '=', scope.tenantId)
      .where('emergency_user_locations.user_id', '=', userId)
      .executeTakeFirst();
    if (r?.siteAddress) return { address: JSON.parse(r.siteAddress) as CivicAddress, site: r.siteName };
    if (r?.own) return { address: JSON.parse(r.own) as CivicAddress, site: null };
    return null;
  }

  // Settings

  async callbackNumber(scope: TenantScope): Promise<string | null> {
    const r = await this.db
      .selectFrom('emergency_settings')
      .select('callback_number')
      .where('tenant_id', '=', scope.tenantId)
      .executeTakeFirst();
    return r?.callback_number ?? null;
  }

  async setCallbackNumber(scope: TenantScope, number: string | null): Promise<void> {
    await this.db
      .insertInto('emergency_settings')
      .values({ tenant_id: scope.tenantId, callback_number: number })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ callback_number: number }))
      .execute();
  }

  /** The tenant admins: who is alerted of an emergency call (enabled users with the admin role). */
  async admins(scope: TenantScope): Promise<Array<{ id: string; address: string; displayName: string }>> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'address', 'display_name'])
      .where('tenant_id', '=', scope.tenantId)
      .where('role', '=', 'admin')
      .where('enabled', '=', 1)
      .orderBy('address')
      .execute();
    return rows.map((r) => ({ id: r.id, address: r.address, displayName: r.display_name }));
  }

  private async user(scope: TenantScope, userId: string): Promise<{ displayName: string }> {
    const u = await this.db
      .selectFrom('users')
      .select('display_name')
      .where('tenant_id', '=', scope.tenantId)
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!u) throw new ParleyError('not_found', 'No such user in this organisation.', { field: 'userId' });
    return { displayName: u.display_name };
  }
}
