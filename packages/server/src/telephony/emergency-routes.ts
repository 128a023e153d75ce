/**
 * Emergency locations and settings on the HTTP API (issue 20 item 4), for tenant admins, under
 * `/api/admin/emergency/...`: the organisation's sites (named civic addresses), each user's location
 * (a site, or an address of their own), and the emergency callback number (the number an emergency
 * call shows for a caller with no number). Scoped by the dispatcher's TenantScope: another tenant's
 * site or user is not_found. Every change is audited. The emergency numbers of the dial plan country are
 * listed with the settings, so the admin screen can say what is recognised.
 */
import { z } from 'zod';
import { CivicAddress, Id } from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { TelephonyStore } from './telephony-store.ts';
import type { EmergencyStore } from './emergency-store.ts';
import { emergencyNumbers } from './emergency-numbers.ts';

const SiteRequest = z.strictObject({ name: z.string().trim().min(1).max(120), address: CivicAddress });
const Site = z.object({ id: z.string(), name: z.string(), address: CivicAddress, users: z.number().int() });
const SiteParams = z.strictObject({ siteId: Id });
const UserParams = z.strictObject({ userId: Id });
const Location = z.object({
  userId: z.string(),
  siteId: z.string().nullable(),
  address: CivicAddress.nullable(),
});
const LocationRequest = z
  .strictObject({ siteId: Id.nullable().default(null), address: CivicAddress.nullable().default(null) })
  .refine((l) => l.siteId === null || l.address === null, {
    message: 'a user is at a site or has an address of their own, not both',
    path: ['address'],
  });
const Settings = z.object({
  callbackNumber: z.string().nullable(),
  country: z.string(),
  numbers: z.array(z.string()),
});
const SettingsRequest = z.strictObject({
  callbackNumber: z
    .string()
    .regex(/^\+[1-9]\d{1,14}$/, 'an E.164 number: + and up to 15 digits')
    .nullable(),
});

const EXAMPLE_ADDRESS = {
  country: 'GB',
  city: 'London',
  street: 'Example Street',
  houseNumber: '1',
  postalCode: 'SW1A 1AA',
};

export function emergencyRoutes(
  store: EmergencyStore,
  telephony: TelephonyStore,
  audit: AuditLog,
): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/admin/emergency/settings',
      tag: 'telephony',
      summary:
        'Emergency calls: the callback number for callers with no number, and the emergency numbers of the dial plan country',
      access: 'admin',
      response: Settings,
      handler: async ({ scope }) => {
        const country = await telephony.dialPlanCountry(scope);
        return {
          callbackNumber: await store.callbackNumber(scope),
          country,
          numbers: [...emergencyNumbers(country)],
        };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/admin/emergency/settings',
      tag: 'telephony',
      summary: 'Set the emergency callback number (shown on emergency calls of users with no number)',
      access: 'admin',
      body: SettingsRequest,
      example: { callbackNumber: '+442079460000' },
      response: Settings,
      handler: async ({ scope, body, actor }) => {
        await store.setCallbackNumber(scope, body.callbackNumber);
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'emergency.settings.set',
          target: scope.tenantId,
          detail: { callbackNumber: body.callbackNumber },
        });
        const country = await telephony.dialPlanCountry(scope);
        return { callbackNumber: body.callbackNumber, country, numbers: [...emergencyNumbers(country)] };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/admin/emergency/sites',
      tag: 'telephony',
      summary: "The organisation's sites: named civic addresses users are at",
      access: 'admin',
      response: z.object({ items: z.array(Site) }),
      handler: async ({ scope }) => ({ items: await store.listSites(scope) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/admin/emergency/sites',
      tag: 'telephony',
      summary: 'Add a site (a named civic address)',
      access: 'admin',
      body: SiteRequest,
      example: { name: 'Head office', address: EXAMPLE_ADDRESS },
      response: Site,
      status: 201,
      handler: async ({ scope, body, actor }) => {
        const site = await store.createSite(scope, body.name, body.address);
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'emergency.site.add',
          target: site.id,
          detail: { name: site.name },
        });
        return site;
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/admin/emergency/sites/:siteId',
      tag: 'telephony',
      summary: "Change a site's name and address",
      access: 'admin',
      params: SiteParams,
      resources: { siteId: 'emergency_site' },
      body: SiteRequest,
      example: { name: 'Head office', address: EXAMPLE_ADDRESS },
      response: Site,
      handler: async ({ scope, params, body, actor }) => {
        const site = await store.updateSite(scope, params.siteId, body.name, body.address);
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'emergency.site.update',
          target: site.id,
          detail: { name: site.name },
        });
        return site;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/admin/emergency/sites/:siteId',
      tag: 'telephony',
      summary: 'Remove a site nobody is at (site_in_use otherwise)',
      access: 'admin',
      params: SiteParams,
      resources: { siteId: 'emergency_site' },
      response: z.object({ removed: z.boolean() }),
      handler: async ({ scope, params, actor }) => {
        await store.removeSite(scope, params.siteId);
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'emergency.site.remove',
          target: params.siteId,
        });
        return { removed: true };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/admin/emergency/locations',
      tag: 'telephony',
      summary: "Users' emergency locations (users with none are not listed)",
      access: 'admin',
      response: z.object({ items: z.array(Location) }),
      handler: async ({ scope }) => ({ items: await store.listLocations(scope) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/admin/emergency/locations/:userId',
      tag: 'telephony',
      summary: "A user's emergency location: a site, an address of their own, or none",
      access: 'admin',
      params: UserParams,
      resources: { userId: 'user' },
      response: Location,
      handler: async ({ scope, params }) => store.location(scope, params.userId),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/admin/emergency/locations/:userId',
      tag: 'telephony',
      summary:
        "Set a user's emergency location: a site (siteId), an address of their own (address), or none (both null)",
      access: 'admin',
      params: UserParams,
      resources: { userId: 'user' },
      body: LocationRequest,
      example: { address: EXAMPLE_ADDRESS },
      response: Location,
      handler: async ({ scope, params, body, actor }) => {
        const loc = await store.setLocation(scope, params.userId, body);
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'emergency.location.set',
          target: params.userId,
          detail: { siteId: loc.siteId, own: loc.address !== null },
        });
        return loc;
      },
    }),
  ];
}
