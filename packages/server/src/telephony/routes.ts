/**
 * Telephony's HTTP API (issue 18). The operator keeps carriers' SIP trunk side, keyed by billing's
 * carrier id (`/api/operator/telephony/carriers/:carrierId`: billing names and prices the carrier, this
 * says where and how to send its calls), and the number inventory (`/api/operator/telephony/numbers`,
 * each number a carrier's, then given to a tenant). A tenant admin sees the tenant's numbers, assigns
 * them to users and sets the dial plan country (`/api/telephony/...`, scoped by the dispatcher's
 * TenantScope: another tenant's number is not_found, never revealed); every user reads their own number
 * (`/api/me/phone-number`). Every change is audited.
 */
import { z } from 'zod';
import { Id, ParleyError } from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { TelephonyStore } from './telephony-store.ts';
import type { TrunkStatusBoard } from './trunk-status.ts';
import { importNumberCsv } from './number-import.ts';

const E164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'an E.164 number: + and up to 15 digits');
const Country = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code');
const Host = z.string().min(1).max(253);
const PREFERENCE_WORDS = 'a whole number from -1000 to 1000 (lower is tried first)';

export const TrunkCarrier = z.object({
  id: z.string(),
  name: z.string(),
  tenantId: z.string().nullable(),
  addresses: z.array(z.object({ host: z.string(), port: z.number().int() })),
  transport: z.enum(['udp', 'tcp', 'tls']),
  allow: z.array(z.string()),
  codecs: z.array(z.enum(['PCMU', 'PCMA', 'G722'])),
  callerIdFormat: z.enum(['e164', 'e164_no_plus', 'national']),
  channelLimit: z.number().int().nullable(),
  enabled: z.boolean(),
  auth: z.enum(['ip', 'register']),
  // The password is write-only: never in an answer (z.object drops it).
  registration: z
    .object({
      registrar: z.object({ host: z.string(), port: z.number().int() }),
      username: z.string(),
      authUsername: z.string().nullable(),
      domain: z.string().nullable(),
      expires: z.number().int(),
    })
    .nullable(),
  identity: z.enum(['pai', 'rpid', 'none']),
  healthCheck: z.boolean(),
  /** Least-cost routing's tie-break between carriers that cost the same, lower first. */
  preference: z.number().int().default(0),
  emergency: z.boolean().default(false),
  pidfLo: z.boolean().default(false),
});

const Registration = z.strictObject({
  registrar: z.strictObject({ host: Host, port: z.number().int().min(1).max(65535).default(5060) }),
  username: z.string().min(1).max(128),
  authUsername: z.string().min(1).max(128).nullable().default(null),
  // Write-only; left out when the trunk already registers, the stored password is kept.
  password: z.string().min(1).max(256).optional(),
  domain: Host.nullable().default(null),
  expires: z.number().int().min(60).max(86_400).default(3600),
});

export const PutTrunkRequest = z
  .strictObject({
    tenantId: Id.nullable().default(null),
    addresses: z
      .array(z.strictObject({ host: Host, port: z.number().int().min(1).max(65535) }))
      .min(1)
      .max(8),
    transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
    allow: z.array(Host).max(64).default([]),
    codecs: z
      .array(z.enum(['PCMU', 'PCMA', 'G722']))
      .min(1)
      .default(['PCMA', 'PCMU']),
    callerIdFormat: z.enum(['e164', 'e164_no_plus', 'national']).default('e164'),
    channelLimit: z.number().int().min(1).nullable().default(null),
    enabled: z.boolean().default(true),
    auth: z.enum(['ip', 'register']).default('ip'),
    registration: Registration.nullable().default(null),
    identity: z.enum(['pai', 'rpid', 'none']).default('pai'),
    healthCheck: z.boolean().default(true),
    preference: z
      .number()
      .int(PREFERENCE_WORDS)
      .min(-1000, PREFERENCE_WORDS)
      .max(1000, PREFERENCE_WORDS)
      .default(0),
    // The carrier for emergency calls, and whether they carry the caller's location (emergency.ts).
    emergency: z.boolean().default(false),
    pidfLo: z.boolean().default(false),
  })
  .refine((t) => (t.auth === 'register') === (t.registration !== null), {
    message: "a registration trunk (auth 'register') has a registration, and only it",
    path: ['registration'],
  });

export const PhoneNumber = z.object({
  number: z.string(),
  carrierId: z.string(),
  tenantId: z.string().nullable(),
  userId: z.string().nullable(),
});

const AddNumberRequest = z.strictObject({
  number: E164,
  carrierId: Id,
  tenantId: Id.nullable().default(null),
  userId: Id.nullable().default(null),
});
const ImportNumbersRequest = z.strictObject({ csv: z.string().min(1).max(8_000_000) });
const AllocateRequest = z.strictObject({ tenantId: Id.nullable() });
const AssignRequest = z.strictObject({ userId: Id.nullable() });
const DialPlan = z.strictObject({ country: Country });
const CarrierParams = z.strictObject({ carrierId: Id });
const NumberParams = z.strictObject({ number: E164 });

const AddressStatus = z.object({
  host: z.string(),
  port: z.number().int(),
  state: z.enum(['unknown', 'up', 'down']),
  lastError: z.string().nullable(),
  since: z.number().nullable(),
  checkedAt: z.number().nullable(),
});

export const CarrierStatus = z.object({
  carrierId: z.string(),
  addresses: z.array(AddressStatus),
  registration: z.object({
    state: z.enum(['off', 'registering', 'registered', 'failed']),
    lastError: z.string().nullable(),
    expiresAt: z.number().nullable(),
    nextAttemptAt: z.number().nullable(),
  }),
});

export function operatorTelephonyRoutes(
  store: TelephonyStore,
  audit: AuditLog,
  status: TrunkStatusBoard,
): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/operator/telephony/carriers/status',
      tag: 'telephony',
      summary: "Each carrier's health (OPTIONS per address) and registration, with the last error",
      access: 'operator',
      response: z.object({ items: z.array(CarrierStatus) }),
      handler: async () => ({
        items: (await store.listTrunks()).map((t) => status.get(t.id, t.addresses)),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/telephony/carriers',
      tag: 'telephony',
      summary: "Carriers' SIP trunks",
      access: 'operator',
      response: z.object({ items: z.array(TrunkCarrier) }),
      handler: async () => ({ items: await store.listTrunks() }),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/operator/telephony/carriers/:carrierId',
      tag: 'telephony',
      summary: "Set the SIP trunk of billing's carrier: addresses, transport, allowed sources, codecs",
      access: 'operator',
      params: CarrierParams,
      body: PutTrunkRequest,
      example: { addresses: [{ host: '203.0.113.10', port: 5060 }], allow: ['203.0.113.10'] },
      response: TrunkCarrier,
      handler: async ({ params, body, actor }) => {
        let registration = null;
        if (body.registration) {
          const password =
            body.registration.password ?? (await store.get(params.carrierId))?.registration?.password;
          if (!password)
            throw new ParleyError('validation_failed', 'A new registration needs its password.', {
              field: 'registration.password',
            });
          registration = { ...body.registration, password };
        }
        const t = await store.putTrunk({ id: params.carrierId, ...body, registration });
        await audit.record(actor, {
          tenantId: null,
          action: 'telephony.carrier.put',
          target: t.id,
          detail: {
            addresses: t.addresses,
            allow: t.allow,
            transport: t.transport,
            enabled: t.enabled,
            preference: t.preference,
            emergency: t.emergency === true,
          },
        });
        return t;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/operator/telephony/carriers/:carrierId',
      tag: 'telephony',
      summary: "Remove a carrier's SIP trunk (billing's carrier stays)",
      access: 'operator',
      params: CarrierParams,
      response: z.object({ removed: z.boolean() }),
      handler: async ({ params, actor }) => {
        const removed = await store.removeTrunk(params.carrierId);
        if (removed)
          await audit.record(actor, {
            tenantId: null,
            action: 'telephony.carrier.remove',
            target: params.carrierId,
          });
        return { removed };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/telephony/numbers',
      tag: 'telephony',
      summary: 'The number inventory',
      access: 'operator',
      response: z.object({ items: z.array(PhoneNumber) }),
      handler: async () => ({ items: await store.listNumbers() }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/telephony/numbers',
      tag: 'telephony',
      summary: "Add a carrier's number to the inventory, optionally given to a tenant (and a user)",
      access: 'operator',
      body: AddNumberRequest,
      example: { number: '+442079460018', carrierId: 'car_0123456789abcdef' },
      response: PhoneNumber,
      status: 201,
      handler: async ({ body, actor }) => {
        const n = await store.addNumber(body);
        await audit.record(actor, {
          tenantId: n.tenantId,
          action: 'telephony.number.add',
          target: n.number,
          detail: { carrierId: n.carrierId, userId: n.userId },
        });
        return n;
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/telephony/numbers/import',
      tag: 'telephony',
      summary:
        'Import numbers from a CSV (number,carrier[,tenant]); a file with a bad row is refused whole (numbers_invalid, with rows)',
      access: 'operator',
      body: ImportNumbersRequest,
      example: { csv: 'number,carrier,tenant\n+442079460018,Acme Telecom,example.com\n' },
      response: z.object({ imported: z.number().int(), items: z.array(PhoneNumber) }),
      status: 201,
      handler: async ({ body, actor }) => {
        const items = await importNumberCsv(store.db, body.csv);
        for (const n of items)
          await audit.record(actor, {
            tenantId: n.tenantId,
            action: 'telephony.number.add',
            target: n.number,
            detail: { carrierId: n.carrierId, userId: null, imported: true },
          });
        return { imported: items.length, items };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/operator/telephony/numbers/:number/tenant',
      tag: 'telephony',
      summary: 'Give a number to a tenant, or take it back (null); its user assignment is cleared',
      access: 'operator',
      params: NumberParams,
      body: AllocateRequest,
      response: PhoneNumber,
      handler: async ({ params, body, actor }) => {
        const n = await store.allocate(params.number, body.tenantId);
        await audit.record(actor, {
          tenantId: body.tenantId,
          action: 'telephony.number.allocate',
          target: n.number,
        });
        return n;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/operator/telephony/numbers/:number',
      tag: 'telephony',
      summary: 'Remove a number from the inventory',
      access: 'operator',
      params: NumberParams,
      response: z.object({ removed: z.boolean() }),
      handler: async ({ params, actor }) => {
        const removed = await store.removeNumber(params.number);
        if (removed)
          await audit.record(actor, {
            tenantId: null,
            action: 'telephony.number.remove',
            target: params.number,
          });
        return { removed };
      },
    }),
  ];
}

const CallerIdSetting = z.strictObject({ withheld: z.boolean() });

export function tenantTelephonyRoutes(store: TelephonyStore, audit: AuditLog): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/me/phone-number',
      tag: 'telephony',
      summary: "The signed-in user's own number (their caller ID) and the dial plan country",
      access: 'user',
      response: z.object({ number: z.string().nullable(), country: z.string() }),
      handler: async ({ principal, scope }) => {
        if (principal?.kind !== 'user') throw new ParleyError('forbidden', 'an API key is not a user');
        return {
          number: await store.numberOfUser(scope.tenantId, principal.id),
          country: await store.dialPlanCountry(scope),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/me/caller-id',
      tag: 'telephony',
      summary: 'Whether the signed-in user withholds their number on calls to phone numbers',
      access: 'user',
      response: CallerIdSetting,
      handler: async ({ principal, scope }) => {
        if (principal?.kind !== 'user') throw new ParleyError('forbidden', 'an API key is not a user');
        return { withheld: await store.withholdsCallerId(scope, principal.id) };
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/me/caller-id',
      tag: 'telephony',
      summary:
        'Withhold (or show) the signed-in user’s number on every call to a phone number; a prefix such as *67 withholds it on one call',
      access: 'user',
      body: CallerIdSetting,
      example: { withheld: true },
      response: CallerIdSetting,
      handler: async ({ principal, scope, body, actor }) => {
        if (principal?.kind !== 'user') throw new ParleyError('forbidden', 'an API key is not a user');
        await store.setWithholdCallerId(scope, principal.id, body.withheld);
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'telephony.caller_id.set',
          target: principal.id,
          detail: { withheld: body.withheld },
        });
        return { withheld: body.withheld };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/telephony/numbers',
      tag: 'telephony',
      summary: "The organisation's numbers and who has them",
      access: 'admin',
      response: z.object({ items: z.array(PhoneNumber) }),
      handler: async ({ scope }) => ({ items: await store.tenantNumbers(scope) }),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/telephony/numbers/:number/user',
      tag: 'telephony',
      summary: "Assign one of the organisation's numbers to a user (their caller ID), or unassign (null)",
      access: 'admin',
      params: NumberParams,
      resources: { number: 'phone_number' },
      body: AssignRequest,
      example: { userId: null },
      response: PhoneNumber,
      handler: async ({ scope, params, body, actor }) => {
        const n = await store.assign(scope, params.number, body.userId);
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'telephony.number.assign',
          target: n.number,
          detail: { userId: body.userId },
        });
        return n;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/telephony/dial-plan',
      tag: 'telephony',
      summary: 'The dial plan: the country whose national numbers users may dial without +',
      access: 'admin',
      response: DialPlan,
      handler: async ({ scope }) => ({ country: await store.dialPlanCountry(scope) }),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/telephony/dial-plan',
      tag: 'telephony',
      summary: 'Set the dial plan country',
      access: 'admin',
      body: DialPlan,
      example: { country: 'GB' },
      response: DialPlan,
      handler: async ({ scope, body, actor }) => {
        await store.setDialPlanCountry(scope, body.country);
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'telephony.dial_plan.set',
          target: scope.tenantId,
          detail: { country: body.country },
        });
        return { country: body.country };
      },
    }),
  ];
}
