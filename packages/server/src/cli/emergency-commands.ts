/**
 * `parley emergency ...`: a tenant's emergency locations and callback number on an open storage, as the
 * tenant admin's HTTP API keeps them (telephony/emergency-routes.ts, the same validation): sites (named
 * civic addresses), where a user is (a site, or nowhere), and the callback number. Each change is
 * audited as the CLI. A running server reads them on every emergency call, so they apply at once.
 */
import { Address, Domain, ParleyError } from '@parley/protocol';
import type { Storage } from '../storage/db.ts';
import { AuditLog, systemActor } from '../audit/audit-log.ts';
import { Directory } from '../directory/directory.ts';
import { trustedScope } from '../directory/scope.ts';
import { EmergencyStore, type EmergencySite, type UserLocation } from '../telephony/emergency-store.ts';
import { CivicAddress } from '@parley/protocol';
import { check } from './check.ts';

export interface SiteAddArgs {
  tenant: string;
  name: string;
  country: string;
  city: string;
  street?: string;
  number?: string;
  postalCode?: string;
  floor?: string;
  building?: string;
  room?: string;
}

/** The flag of each address part, to name it in a refusal. */
const FLAGS: Record<string, string> = {
  country: '--country',
  city: '--city',
  street: '--street',
  houseNumber: '--number',
  postalCode: '--postal-code',
  floor: '--floor',
  building: '--building',
  room: '--room',
};

export class EmergencyCommands {
  private readonly store: EmergencyStore;
  private readonly directory: Directory;
  private readonly audit: AuditLog;
  private readonly actor = systemActor('cli');

  constructor(storage: Storage) {
    this.store = new EmergencyStore(storage.db);
    this.directory = new Directory(storage);
    this.audit = new AuditLog(storage.db);
  }

  /** `emergency site add`: a site of the tenant. */
  async addSite(a: SiteAddArgs): Promise<EmergencySite> {
    const tenantId = await this.tenantId(a.tenant);
    if (a.name.trim() === '')
      throw new ParleyError('validation_failed', '--name: a name for the site', { field: '--name' });
    const parsed = CivicAddress.safeParse({
      country: a.country.toUpperCase(),
      city: a.city,
      street: a.street,
      houseNumber: a.number,
      postalCode: a.postalCode,
      floor: a.floor,
      building: a.building,
      room: a.room,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const flag = FLAGS[String(issue.path[0])] ?? '--city';
      throw new ParleyError('validation_failed', `${flag}: ${issue.message}`, { field: flag });
    }
    const site = await this.store.createSite(trustedScope(tenantId), a.name.trim(), parsed.data);
    await this.audit.record(this.actor, {
      tenantId,
      action: 'emergency.site.add',
      target: site.id,
      detail: { name: site.name },
    });
    return site;
  }

  /** `emergency site list`. */
  async listSites(tenant: string): Promise<{ items: EmergencySite[] }> {
    return { items: await this.store.listSites(trustedScope(await this.tenantId(tenant))) };
  }

  /** `emergency location set --user A --site NAME|ID` (or `--site none`: no location). */
  async setLocation(a: { user: string; site: string }): Promise<UserLocation & { site: string | null }> {
    const u = await this.directory.findUserRecordByAddress(check(Address, a.user, '--user'));
    if (!u) throw new ParleyError('not_found', `no user has the address ${a.user}`, { field: '--user' });
    const scope = trustedScope(u.tenant_id);
    let site: EmergencySite | null = null;
    if (a.site !== 'none') {
      const sites = await this.store.listSites(scope);
      const want = a.site.trim().toLowerCase();
      const named = sites.filter((s) => s.id === a.site || s.name.toLowerCase() === want);
      if (named.length > 1)
        throw new ParleyError('conflict', `${named.length} sites are named ${a.site}: name one by its id`, {
          field: '--site',
        });
      site = named[0] ?? null;
      if (!site)
        throw new ParleyError('not_found', `the user's tenant has no site ${a.site}`, { field: '--site' });
    }
    const loc = await this.store.setLocation(scope, u.id, { siteId: site?.id ?? null, address: null });
    await this.audit.record(this.actor, {
      tenantId: u.tenant_id,
      action: 'emergency.location.set',
      target: u.id,
      detail: { siteId: loc.siteId, own: false },
    });
    return { ...loc, site: site?.name ?? null };
  }

  /** `emergency callback set --tenant D --number +E164|none`. */
  async setCallback(a: { tenant: string; number: string }): Promise<{ callbackNumber: string | null }> {
    const tenantId = await this.tenantId(a.tenant);
    const n = a.number === 'none' ? null : a.number.replace(/[\s().-]/g, '');
    if (n !== null && !/^\+[1-9]\d{1,14}$/.test(n))
      throw new ParleyError(
        'validation_failed',
        '--number: an E.164 number (+ and up to 15 digits), or none',
        {
          field: '--number',
        },
      );
    await this.store.setCallbackNumber(trustedScope(tenantId), n);
    await this.audit.record(this.actor, {
      tenantId,
      action: 'emergency.settings.set',
      target: tenantId,
      detail: { callbackNumber: n },
    });
    return { callbackNumber: n };
  }

  private async tenantId(domain: string): Promise<string> {
    const t = await this.directory.findTenantByDomain(check(Domain, domain, '--tenant'));
    if (!t) throw new ParleyError('not_found', `no tenant has the domain ${domain}`, { field: '--tenant' });
    return t.id;
  }
}
