/**
 * The operator console's API in the SDK: tenants (create, change, suspend, resume, domains, their users
 * and admins), plans, carriers and rate decks (create, import versions), tenants' wallets, ledgers,
 * top-ups and adjustments, top-up approvals, and the platform audit log.
 *
 * Money-moving calls send an Idempotency-Key: pass the same key when retrying the same request (after a
 * network failure), so it is applied once; a fresh one is made when none is given.
 */
import type {
  AuditEntry,
  Carrier,
  Deck,
  ImportDeckResponse,
  LedgerEntry,
  Paged,
  Plan,
  Role,
  Tenant,
  TopUpRequestView,
  User,
  Wallet,
} from '@parley/protocol';
import type { RestClient } from './rest-client.ts';
import { queryString as q } from './query-string.ts';
import type { NewUser } from './admin-api.ts';

export interface NewTenant {
  name: string;
  domains: string[];
  country?: string;
  timeZone?: string;
}

export interface NewPlan {
  name: string;
  pricePerUserMonth: string;
  services: string[];
  allowedClasses: string[];
  sellDeckId?: string | null;
  includedMinutes?: Array<{ country: string; class: string; minutes: number }>;
}

const id = encodeURIComponent;

function newKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return c?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class OperatorApi {
  constructor(private readonly rest: Pick<RestClient, 'request'>) {}

  private money<T>(path: string, body: unknown, key?: string): Promise<T> {
    return this.rest.request('POST', path, body, { headers: { 'idempotency-key': key ?? newKey() } });
  }

  // --- mail ---

  /** Whether the server sends mail, its SMTP server, last send and last error. */
  mailStatus(): Promise<{
    configured: boolean;
    server?: string;
    from?: string;
    lastSentAt?: string;
    lastError?: { code: string; message: string; at: string };
  }> {
    return this.rest.request('GET', '/api/operator/system/mail');
  }

  /** Send a test mail; the coded result (`mail_off`, `mail_refused`, `mail_unreachable`) rather than a throw. */
  sendTestMail(to: string): Promise<{ ok: boolean; code?: string; message?: string; attempts: number }> {
    return this.rest.request('POST', '/api/operator/system/mail/test', { to });
  }

  // --- tenants ---

  tenants(): Promise<{ items: Tenant[] }> {
    return this.rest.request('GET', '/api/operator/tenants');
  }

  tenant(tenantId: string): Promise<Tenant> {
    return this.rest.request('GET', `/api/operator/tenants/${id(tenantId)}`);
  }

  createTenant(t: NewTenant): Promise<Tenant> {
    return this.rest.request('POST', '/api/operator/tenants', t);
  }

  updateTenant(
    tenantId: string,
    change: { name?: string; country?: string; timeZone?: string },
  ): Promise<Tenant> {
    return this.rest.request('PATCH', `/api/operator/tenants/${id(tenantId)}`, change);
  }

  suspendTenant(tenantId: string): Promise<Tenant> {
    return this.rest.request('POST', `/api/operator/tenants/${id(tenantId)}/suspend`);
  }

  resumeTenant(tenantId: string): Promise<Tenant> {
    return this.rest.request('POST', `/api/operator/tenants/${id(tenantId)}/resume`);
  }

  addDomain(tenantId: string, domain: string): Promise<Tenant> {
    return this.rest.request('POST', `/api/operator/tenants/${id(tenantId)}/domains`, { domain });
  }

  removeDomain(tenantId: string, domain: string): Promise<Tenant> {
    return this.rest.request('DELETE', `/api/operator/tenants/${id(tenantId)}/domains/${id(domain)}`);
  }

  tenantUsers(
    tenantId: string,
    opts: { query?: string; role?: Role; limit?: number; cursor?: string } = {},
  ): Promise<Paged<User>> {
    return this.rest.request('GET', `/api/operator/tenants/${id(tenantId)}/users${q(opts)}`);
  }

  /** Adds a user to a tenant, typically its first admin (`role: 'admin'`). */
  addTenantUser(tenantId: string, user: NewUser): Promise<User> {
    return this.rest.request('POST', `/api/operator/tenants/${id(tenantId)}/users`, user);
  }

  // --- plans, carriers, decks ---

  plans(): Promise<{ items: Plan[] }> {
    return this.rest.request('GET', '/api/operator/billing/plans');
  }

  createPlan(p: NewPlan): Promise<Plan> {
    return this.rest.request('POST', '/api/operator/billing/plans', p);
  }

  archivePlan(planId: string): Promise<Plan> {
    return this.rest.request('POST', `/api/operator/billing/plans/${id(planId)}/archive`);
  }

  carriers(): Promise<{ items: Carrier[] }> {
    return this.rest.request('GET', '/api/operator/billing/carriers');
  }

  createCarrier(name: string): Promise<Carrier> {
    return this.rest.request('POST', '/api/operator/billing/carriers', { name });
  }

  decks(): Promise<{ items: Deck[] }> {
    return this.rest.request('GET', '/api/operator/billing/decks');
  }

  createDeck(d: { name: string; kind: 'sell' | 'cost'; carrierId?: string | null }): Promise<Deck> {
    return this.rest.request('POST', '/api/operator/billing/decks', d);
  }

  /**
   * Imports a CSV as the deck's next version, in force from `effectiveFrom` (ISO 8601). A bad file is
   * refused whole: `deck_invalid`, with each problem's row number in the error's `rows`.
   */
  importDeck(deckId: string, csv: string, effectiveFrom: string): Promise<ImportDeckResponse> {
    return this.rest.request('POST', `/api/operator/billing/decks/${id(deckId)}/versions`, {
      csv,
      effectiveFrom,
    });
  }

  // --- wallets ---

  wallet(tenantId: string): Promise<Wallet> {
    return this.rest.request('GET', `/api/operator/billing/tenants/${id(tenantId)}/wallet`);
  }

  ledger(
    tenantId: string,
    opts: { limit?: number; before?: number } = {},
  ): Promise<{ items: LedgerEntry[] }> {
    return this.rest.request('GET', `/api/operator/billing/tenants/${id(tenantId)}/ledger${q(opts)}`);
  }

  topUp(
    tenantId: string,
    t: { amount: string; reference?: string; note?: string },
    idempotencyKey?: string,
  ): Promise<LedgerEntry> {
    return this.money(`/api/operator/billing/tenants/${id(tenantId)}/top-ups`, t, idempotencyKey);
  }

  /** A signed decimal ("-1.50"), with the reason. */
  adjust(tenantId: string, amount: string, note: string, idempotencyKey?: string): Promise<LedgerEntry> {
    return this.money(
      `/api/operator/billing/tenants/${id(tenantId)}/adjustments`,
      { amount, note },
      idempotencyKey,
    );
  }

  topUpRequests(
    opts: { state?: 'pending' | 'approved' | 'declined'; tenantId?: string; limit?: number } = {},
  ): Promise<{ items: TopUpRequestView[] }> {
    return this.rest.request('GET', `/api/operator/billing/top-up-requests${q(opts)}`);
  }

  approveTopUp(
    requestId: string,
    note?: string,
    idempotencyKey?: string,
  ): Promise<{ request: TopUpRequestView; entry: LedgerEntry }> {
    return this.money(
      `/api/operator/billing/top-up-requests/${id(requestId)}/approve`,
      note ? { note } : {},
      idempotencyKey,
    );
  }

  declineTopUp(requestId: string, note?: string): Promise<TopUpRequestView> {
    return this.rest.request(
      'POST',
      `/api/operator/billing/top-up-requests/${id(requestId)}/decline`,
      note ? { note } : {},
    );
  }

  // --- audit ---

  audit(opts: { limit?: number; cursor?: string } = {}): Promise<Paged<AuditEntry>> {
    return this.rest.request('GET', `/api/operator/audit${q(opts)}`);
  }
}
