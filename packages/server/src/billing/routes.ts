/**
 * Billing's HTTP API, declared in the route table. Operators manage plans, carriers, decks and tenants'
 * billing accounts (`/api/operator/billing/...`); a tenant admin manages the tenant's licences, seat
 * assignments, wallet and billing settings, and previews an authorisation (`/api/billing/...`, scoped to
 * the caller's tenant by the dispatcher's TenantScope). Billing's coded errors become the catalogue's.
 *
 * Money moves only with the operator's authority: a tenant admin may ask for credit (a top-up request),
 * the operator approves or declines it, tops up directly or adjusts. Every route that moves money is
 * `idempotent` (an Idempotency-Key header is required) and writes its ledger entry, audit entry and the
 * key's answer in one transaction through the wallet; routes never reach into the credit store.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Id, ParleyError, type ErrorCode } from '@parley/protocol';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { iso } from '../ids.ts';
import { trustedScope } from '../directory/scope.ts';
import type { Billing } from './billing.ts';
import type { IdempotencyClaim, LedgerEntry as LedgerEntryValue, WalletView } from './credit-store.ts';
import type { DeckInfo } from './deck-store.ts';
import { BillingError } from './errors.ts';
import { decimalToMicros, formatMicros } from './money.ts';
import type { Plan as PlanValue } from './plans.ts';
import type { TopUpRequest as TopUpRequestValue } from './top-up-requests.ts';
import * as S from '@parley/protocol';

/** Runs a billing call, turning its coded errors into the API's. */
async function api<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof BillingError) {
      const detail = err.problems?.length
        ? `${err.message}${
            err.problems.length > 3
              ? `; all problems: ${err.problems
                  .slice(0, 50)
                  .map((x) => `row ${x.row}${x.column ? ` (${x.column})` : ''}: ${x.message}`)
                  .join('; ')}`
              : ''
          }`
        : err.message;
      throw new ParleyError(err.code as ErrorCode, detail, { rows: err.problems });
    }
    throw err;
  }
}

const planOut = (p: PlanValue): z.input<typeof S.Plan> => ({
  id: p.id,
  name: p.name,
  pricePerUserMonth: formatMicros(p.pricePerUserMonth),
  pricePerUserMonthMicros: p.pricePerUserMonth,
  services: p.services,
  allowedClasses: p.allowedClasses,
  sellDeckId: p.sellDeckId,
  includedMinutes: p.includedMinutes.map((m) => ({ country: m.country, class: m.cls, minutes: m.minutes })),
  archived: p.archived,
  createdAt: iso(p.createdAt),
});

const deckOut = (d: DeckInfo): z.input<typeof S.Deck> => ({
  id: d.id,
  name: d.name,
  kind: d.kind,
  carrierId: d.carrierId,
  createdAt: iso(d.createdAt),
  versions: d.versions.map((v) => ({
    version: v.version,
    effectiveFrom: iso(v.effectiveFrom),
    importedAt: iso(v.importedAt),
    rowCount: v.rowCount,
  })),
});

const walletOut = (w: WalletView): z.input<typeof S.Wallet> => ({
  balance: formatMicros(w.balance),
  held: formatMicros(w.held),
  available: formatMicros(w.available),
  balanceMicros: w.balance,
  heldMicros: w.held,
  availableMicros: w.available,
  premiumEnabled: w.premiumEnabled,
  sellDeckId: w.sellDeckId,
});

const ledgerOut = (e: LedgerEntryValue): z.input<typeof S.LedgerEntry> => ({
  seq: e.seq,
  id: e.id,
  kind: e.kind,
  amount: formatMicros(e.amount),
  amountMicros: e.amount,
  balanceAfter: formatMicros(e.balanceAfter),
  reference: e.reference,
  note: e.note,
  at: iso(e.at),
});

const requestOut = (r: TopUpRequestValue): z.input<typeof S.TopUpRequestView> => ({
  id: r.id,
  tenantId: r.tenantId,
  amount: formatMicros(r.amount),
  amountMicros: r.amount,
  note: r.note,
  state: r.state,
  requestedBy: r.requestedBy,
  requestedAt: iso(r.requestedAt),
  decidedBy: r.decidedBy,
  decidedAt: r.decidedAt === null ? null : iso(r.decidedAt),
  decisionNote: r.decisionNote,
  ledgerId: r.ledgerId,
});

/**
 * The Idempotency-Key claim of a money-moving request: its key and a fingerprint of what it asks (the
 * route, its path ids and its parsed body), so the same key with another request is told apart.
 */
function claim(
  route: string,
  ctx: { idempotencyKey: string | null; params?: unknown; body?: unknown },
): IdempotencyClaim {
  if (ctx.idempotencyKey === null) throw new Error(`bug: ${route} is not declared idempotent`);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([route, ctx.params ?? null, ctx.body ?? null]))
    .digest('hex');
  return { key: ctx.idempotencyKey, fingerprint };
}

const PlanParams = z.strictObject({ planId: Id });
const RequestParams = z.strictObject({ requestId: Id });
const DeckParams = z.strictObject({ deckId: Id });
const TenantParams = z.strictObject({ tenantId: Id });

/** Operator routes: plans, carriers, decks, tenants' billing accounts. */
export function operatorBillingRoutes(
  billing: Billing,
  audit: AuditLog,
  opts: {
    /** Largest deck-import body, bytes (PARLEY_DECK_MAX_BYTES); the server's body limit when absent. */
    deckMaxBytes?: number;
  } = {},
): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/operator/billing/plans',
      tag: 'billing',
      summary: 'Every plan, archived ones included',
      access: 'operator',
      response: z.object({ items: z.array(S.Plan) }),
      handler: async () => ({
        items: (await billing.plans.listPlans({ includeArchived: true })).map(planOut),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/billing/plans',
      tag: 'billing',
      summary: 'Create a plan: price per user per month, services, allowed classes, included minutes',
      access: 'operator',
      body: S.CreatePlanRequest,
      example: {
        name: 'Domestic Calling',
        pricePerUserMonth: '8.00',
        services: ['calling', 'voicemail'],
        allowedClasses: ['domestic', 'mobile', 'toll-free', 'emergency'],
        includedMinutes: [{ country: 'GB', class: 'domestic', minutes: 3000 }],
      },
      response: S.Plan,
      status: 201,
      handler: async ({ body, actor }) => {
        const plan = await api(
          billing.plans.createPlan({
            name: body.name,
            pricePerUserMonth: decimalToMicros(body.pricePerUserMonth),
            services: body.services,
            allowedClasses: body.allowedClasses,
            sellDeckId: body.sellDeckId ?? null,
            includedMinutes: body.includedMinutes.map((m) => ({
              country: m.country,
              cls: m.class,
              minutes: m.minutes,
            })),
          }),
        );
        await audit.record(actor, {
          tenantId: null,
          action: 'billing.plan.create',
          target: plan.id,
          detail: { name: plan.name },
        });
        return planOut(plan);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/billing/plans/:planId/archive',
      tag: 'billing',
      summary: 'Archive a plan: no new licences; existing seats keep working',
      access: 'operator',
      params: PlanParams,
      response: S.Plan,
      handler: async ({ params, actor }) => {
        await api(billing.plans.archivePlan(params.planId));
        await audit.record(actor, { tenantId: null, action: 'billing.plan.archive', target: params.planId });
        return planOut((await billing.plans.getPlan(params.planId))!);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/billing/carriers',
      tag: 'billing',
      summary: 'Carriers (whose cost decks price our outbound minutes)',
      access: 'operator',
      response: z.object({ items: z.array(S.Carrier) }),
      handler: async () => ({
        items: (await billing.decks.listCarriers()).map((c) => ({
          id: c.id,
          name: c.name,
          createdAt: iso(c.createdAt),
        })),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/billing/carriers',
      tag: 'billing',
      summary: 'Add a carrier',
      access: 'operator',
      body: S.CreateCarrierRequest,
      example: { name: 'Carrier One' },
      response: S.Carrier,
      status: 201,
      handler: async ({ body, actor }) => {
        const c = await api(billing.decks.createCarrier(body.name));
        await audit.record(actor, {
          tenantId: null,
          action: 'billing.carrier.create',
          target: c.id,
          detail: { name: c.name },
        });
        return { id: c.id, name: c.name, createdAt: iso(c.createdAt) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/billing/decks',
      tag: 'billing',
      summary: 'Rate decks (sell and cost) with their versions',
      access: 'operator',
      response: z.object({ items: z.array(S.Deck) }),
      handler: async () => ({ items: (await billing.decks.listDecks()).map(deckOut) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/billing/decks',
      tag: 'billing',
      summary: 'Create a rate deck: a sell deck, or a cost deck of a carrier',
      access: 'operator',
      body: S.CreateDeckRequest,
      example: { name: 'GB retail', kind: 'sell' },
      response: S.Deck,
      status: 201,
      handler: async ({ body, actor }) => {
        const d = await api(
          billing.decks.createDeck({ name: body.name, kind: body.kind, carrierId: body.carrierId ?? null }),
        );
        await audit.record(actor, {
          tenantId: null,
          action: 'billing.deck.create',
          target: d.id,
          detail: { name: d.name, kind: d.kind },
        });
        return deckOut(d);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/billing/decks/:deckId/versions',
      tag: 'billing',
      summary:
        'Import a CSV as the next version of a deck, in force from effectiveFrom; a bad file is refused whole (deck_invalid, with rows)',
      access: 'operator',
      params: DeckParams,
      body: S.ImportDeckRequest,
      // A deck of 50,000 prefixes is a few megabytes of CSV, above the server's default body limit.
      bodyLimit: opts.deckMaxBytes,
      example: {
        csv: 'prefix,destination,class,rate_per_minute,connection_fee,first_increment,next_increment\n44,United Kingdom,domestic,0.01,0,60,60\n',
        effectiveFrom: '2026-12-01T00:00:00Z',
      },
      response: S.ImportDeckResponse,
      status: 201,
      handler: async ({ params, body, actor }) => {
        const r = await api(
          billing.decks.importVersion(params.deckId, body.csv, Date.parse(body.effectiveFrom)),
        );
        await audit.record(actor, {
          tenantId: null,
          action: 'billing.deck.import',
          target: params.deckId,
          detail: { version: r.version, rows: r.rows },
        });
        return { deckId: params.deckId, ...r };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/billing/tenants/:tenantId/wallet',
      tag: 'billing',
      summary: "A tenant's wallet and billing settings",
      access: 'operator',
      params: TenantParams,
      response: S.Wallet,
      handler: async ({ params }) => walletOut(await api(billing.wallet.view(trustedScope(params.tenantId)))),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/billing/tenants/:tenantId/ledger',
      tag: 'billing',
      summary: "Every movement of a tenant's credit, newest first",
      access: 'operator',
      params: TenantParams,
      query: S.LedgerQuery,
      response: z.object({ items: z.array(S.LedgerEntry) }),
      handler: async ({ params, query }) => {
        const scope = trustedScope(params.tenantId);
        await api(billing.wallet.view(scope));
        return {
          items: (await billing.wallet.ledger(scope, { limit: query.limit, beforeSeq: query.before })).map(
            ledgerOut,
          ),
        };
      },
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api/operator/billing/tenants/:tenantId/account',
      tag: 'billing',
      summary: "Set a tenant's own sell deck (overrides its plans' decks) or premium-rate consent",
      access: 'operator',
      params: TenantParams,
      body: S.TenantAccountRequest,
      example: { sellDeckId: null },
      response: S.Wallet,
      handler: async ({ params, body, actor }) => {
        const scope = trustedScope(params.tenantId);
        await api(billing.wallet.view(scope));
        if (body.sellDeckId) {
          const deck = await billing.decks.getDeck(body.sellDeckId);
          if (!deck || deck.kind !== 'sell')
            throw new ParleyError('validation_failed', 'no such sell deck', { field: 'sellDeckId' });
        }
        const wallet = await api(billing.wallet.setOptions(scope, body));
        await audit.record(actor, {
          tenantId: params.tenantId,
          action: 'billing.account.update',
          target: params.tenantId,
          detail: body,
        });
        return walletOut(wallet);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/billing/tenants/:tenantId/adjustments',
      tag: 'billing',
      summary: "Correct a tenant's balance (positive or negative, never into credit held by calls)",
      access: 'operator',
      idempotent: true,
      params: TenantParams,
      body: S.AdjustmentRequest,
      example: { amount: '-1.50', note: 'goodwill correction' },
      response: S.LedgerEntry,
      status: 201,
      handler: async (ctx) => {
        const { params, body, actor } = ctx;
        const scope = trustedScope(params.tenantId);
        await api(billing.wallet.view(scope));
        const e = await api(
          billing.wallet.adjust(scope, signedMicros(body.amount), body.note, {
            actor,
            idempotency: claim('adjustment', ctx),
          }),
        );
        return ledgerOut(e);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/billing/tenants/:tenantId/top-ups',
      tag: 'billing',
      summary: "Add credit to a tenant's wallet (the operator's act, e.g. once a payment arrived)",
      access: 'operator',
      idempotent: true,
      params: TenantParams,
      body: S.TopUpRequest,
      example: { amount: '25.00', reference: 'payment-123' },
      response: S.LedgerEntry,
      status: 201,
      handler: async (ctx) => {
        const { params, body, actor } = ctx;
        const scope = trustedScope(params.tenantId);
        await api(billing.wallet.view(scope));
        const e = await api(
          billing.wallet.topUp(scope, decimalToMicros(body.amount), {
            reference: body.reference,
            note: body.note,
            actor,
            idempotency: claim('top-up', ctx),
          }),
        );
        return ledgerOut(e);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/operator/billing/top-up-requests',
      tag: 'billing',
      summary: "Tenants' top-up requests, newest first (filter by state, tenant)",
      access: 'operator',
      query: S.OperatorTopUpRequestsQuery,
      response: z.object({ items: z.array(S.TopUpRequestView) }),
      handler: async ({ query }) => ({
        items: (
          await billing.topUpRequests.list(query.tenantId ? trustedScope(query.tenantId) : null, query)
        ).map(requestOut),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/billing/top-up-requests/:requestId/approve',
      tag: 'billing',
      summary: "Approve a pending top-up request: its amount is credited to the tenant's wallet, once",
      access: 'operator',
      idempotent: true,
      params: RequestParams,
      body: S.TopUpDecision,
      example: { note: 'paid by bank transfer' },
      response: S.ApprovedTopUp,
      handler: async (ctx) => {
        const { params, body, actor } = ctx;
        const r = await api(
          billing.topUpRequests.approve(params.requestId, {
            actor,
            note: body.note,
            idempotency: claim('approve', ctx),
          }),
        );
        return { request: requestOut(r.request), entry: ledgerOut(r.entry) };
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/operator/billing/top-up-requests/:requestId/decline',
      tag: 'billing',
      summary: 'Decline a pending top-up request: nothing moves',
      access: 'operator',
      params: RequestParams,
      body: S.TopUpDecision,
      example: { note: 'no payment received' },
      response: S.TopUpRequestView,
      handler: async ({ params, body, actor }) =>
        requestOut(await api(billing.topUpRequests.decline(params.requestId, { actor, note: body.note }))),
    }),
  ];
}

/** Tenant admin routes: licences, assignments, wallet, settings, authorisation preview. */
export function tenantBillingRoutes(billing: Billing, audit: AuditLog): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/billing/plans',
      tag: 'billing',
      summary: 'Plans the tenant can license',
      access: 'admin',
      response: z.object({ items: z.array(S.Plan) }),
      handler: async () => ({ items: (await billing.plans.listPlans()).map(planOut) }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/billing/licences',
      tag: 'billing',
      summary: "The tenant's licences: seats held and assigned per plan",
      access: 'admin',
      response: z.object({ items: z.array(S.Licence) }),
      handler: async ({ scope }) => ({ items: await billing.plans.licences(scope) }),
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/billing/licences',
      tag: 'billing',
      summary: 'Set the seats held of a plan (0 ends the licence; never below the seats assigned)',
      access: 'admin',
      body: S.SetSeatsRequest,
      example: { planId: 'plan_example', seats: 10 },
      response: S.Licence,
      handler: async ({ scope, body, actor }) => {
        const l = await api(billing.plans.setSeats(scope, body.planId, body.seats));
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'billing.licence.seats',
          target: body.planId,
          detail: { seats: body.seats },
        });
        return l;
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/billing/assignments',
      tag: 'billing',
      summary: 'Give a user a seat of a plan the tenant holds',
      access: 'admin',
      body: S.AssignmentRequest,
      example: { userId: 'usr_example', planId: 'plan_example' },
      response: z.void(),
      status: 204,
      handler: async ({ scope, body, actor }) => {
        await api(billing.plans.assign(scope, body.userId, body.planId));
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'billing.assign',
          target: body.userId,
          detail: { planId: body.planId },
        });
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/billing/assignments',
      tag: 'billing',
      summary: "Take a plan's seat back from a user",
      access: 'admin',
      body: S.AssignmentRequest,
      example: { userId: 'usr_example', planId: 'plan_example' },
      response: z.void(),
      status: 204,
      handler: async ({ scope, body, actor }) => {
        await api(billing.plans.unassign(scope, body.userId, body.planId));
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'billing.unassign',
          target: body.userId,
          detail: { planId: body.planId },
        });
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/billing/assignments',
      tag: 'billing',
      summary: "Who holds the tenant's seats (of one plan with planId), oldest first",
      access: 'admin',
      query: S.AssignmentsQuery,
      response: S.Assignments,
      handler: async ({ scope, query }) => ({
        items: (await billing.plans.assignments(scope, query.planId)).map((a) => ({
          userId: a.userId,
          planId: a.planId,
          assignedAt: iso(a.assignedAt),
        })),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/billing/users/:userId/plans',
      tag: 'billing',
      summary: "A user's assigned plans",
      access: 'admin',
      params: z.strictObject({ userId: Id }),
      resources: { userId: 'user' },
      response: S.UserPlans,
      handler: async ({ scope, params }) => ({
        items: (await api(billing.plans.userPlans(scope, params.userId))).map((p) => ({
          planId: p.planId,
          assignedAt: iso(p.assignedAt),
        })),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/billing/wallet',
      tag: 'billing',
      summary: "The tenant's prepaid credit: balance, held by running calls, available",
      access: 'admin',
      response: S.Wallet,
      handler: async ({ scope }) => walletOut(await api(billing.wallet.view(scope))),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/billing/ledger',
      tag: 'billing',
      summary: "Every movement of the tenant's credit, newest first",
      access: 'admin',
      query: S.LedgerQuery,
      response: z.object({ items: z.array(S.LedgerEntry) }),
      handler: async ({ scope, query }) => ({
        items: (await billing.wallet.ledger(scope, { limit: query.limit, beforeSeq: query.before })).map(
          ledgerOut,
        ),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/billing/wallet/top-up-requests',
      tag: 'billing',
      summary: 'Ask the operator for credit: nothing moves until the operator approves',
      access: 'admin',
      body: S.TopUpRequestCreate,
      example: { amount: '25.00', note: 'invoice 2026-11' },
      response: S.TopUpRequestView,
      status: 201,
      handler: async ({ scope, body, actor }) =>
        requestOut(
          await api(
            billing.topUpRequests.request(scope, decimalToMicros(body.amount), body.note ?? null, actor),
          ),
        ),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/billing/wallet/top-up-requests',
      tag: 'billing',
      summary: "The tenant's top-up requests, newest first",
      access: 'admin',
      query: S.TopUpRequestsQuery,
      response: z.object({ items: z.array(S.TopUpRequestView) }),
      handler: async ({ scope, query }) => ({
        items: (await billing.topUpRequests.list(scope, query)).map(requestOut),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/billing/wallet/top-up-requests/:requestId',
      tag: 'billing',
      summary: 'One top-up request and its decision',
      access: 'admin',
      params: RequestParams,
      resources: { requestId: 'top_up_request' },
      response: S.TopUpRequestView,
      handler: async ({ scope, params }) =>
        requestOut(await api(billing.topUpRequests.get(scope, params.requestId))),
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api/billing/settings',
      tag: 'billing',
      summary: 'Allow or block premium-rate destinations for the tenant',
      access: 'admin',
      body: S.BillingSettingsRequest,
      example: { premiumEnabled: false },
      response: S.Wallet,
      handler: async ({ scope, body, actor }) => {
        const wallet = await api(billing.wallet.setOptions(scope, { premiumEnabled: body.premiumEnabled }));
        await audit.record(actor, {
          tenantId: scope.tenantId,
          action: 'billing.settings',
          target: scope.tenantId,
          detail: body,
        });
        return walletOut(wallet);
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/billing/authorise-preview',
      tag: 'billing',
      summary: 'What credit control would answer now for a user calling a number (reserves nothing)',
      access: 'admin',
      body: S.PreviewRequest,
      example: { userId: 'usr_example', destination: '+442071234567' },
      response: S.PreviewResponse,
      handler: async ({ scope, body }) => {
        const p = await api(
          billing.credit.preview({
            scope,
            userId: body.userId,
            destination: body.destination,
            callerCountry: body.callerCountry,
          }),
        );
        if (!p.ok) return { ok: false as const, code: p.code, message: p.message };
        if (p.emergency) return { ok: true as const, emergency: true as const };
        return {
          ok: true as const,
          emergency: false as const,
          maxSeconds: p.maxSeconds,
          firstSliceSeconds: p.grantedSeconds,
          class: p.cls,
          matchedPrefix: p.matchedPrefix,
          deck: p.deck,
          ratePerMinute: formatMicros(p.ratePerMinute),
          connectionFee: formatMicros(p.connectionFee),
          firstIncrement: p.firstIncrement,
          nextIncrement: p.nextIncrement,
          poolMinutes: p.heldPoolMinutes,
          credits: formatMicros(p.heldCredits),
        };
      },
    }),
  ];
}

function signedMicros(text: string): number {
  return text.startsWith('-') ? -decimalToMicros(text.slice(1)) : decimalToMicros(text);
}
