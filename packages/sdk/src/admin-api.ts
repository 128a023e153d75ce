/**
 * A tenant admin's API in the SDK: users (add, change, disable, reset a password, roles, a CSV import in
 * batches), SIP devices and extensions, API keys, licences and seat assignments, the wallet, its
 * ledger and top-up requests, the audit log. Every call goes to the server's REST API with the signed-in admin's token.
 */
import {
  BULK_USERS_MAX,
  type ApiKey,
  type AuditEntry,
  type BulkCreateUsersResponse,
  type BulkUserResult,
  type CreateApiKeyResponse,
  type CreateSipDeviceRequest,
  type ExtensionEntry,
  type LedgerEntry,
  type Licence,
  type Paged,
  type Plan,
  type Role,
  type SipDevice,
  type SipDeviceCredentials,
  type TopUpRequestView,
  type User,
  type UserExtension,
  type Wallet,
} from '@parley/protocol';
import type { RestClient } from './rest-client.ts';
import { queryString } from './query-string.ts';

export interface NewUser {
  address: string;
  displayName: string;
  password: string;
  title?: string;
  department?: string;
  role?: 'user' | 'admin';
}

export interface UserChange {
  displayName?: string;
  title?: string | null;
  department?: string | null;
  role?: 'user' | 'admin';
  enabled?: boolean;
  password?: string;
}

/** Progress of `importUsers`: rows answered so far of the whole import. */
export interface ImportProgress {
  done: number;
  total: number;
  created: number;
  failed: number;
}

const q = queryString;
const id = encodeURIComponent;

export class AdminApi {
  constructor(private readonly rest: Pick<RestClient, 'request'>) {}

  // --- users ---

  listUsers(
    opts: { query?: string; role?: Role; limit?: number; cursor?: string } = {},
  ): Promise<Paged<User>> {
    return this.rest.request('GET', `/api/users${q(opts)}`);
  }

  /** Whether the server sends mail (notices by e-mail go only when it does). */
  mailStatus(): Promise<{ configured: boolean }> {
    return this.rest.request('GET', '/api/admin/mail');
  }

  createUser(user: NewUser): Promise<User> {
    return this.rest.request('POST', '/api/users', user);
  }

  updateUser(userId: string, change: UserChange): Promise<User> {
    return this.rest.request('PATCH', `/api/users/${id(userId)}`, change);
  }

  /** Up to BULK_USERS_MAX rows in one request, answered per row (see `importUsers` for more). */
  bulkCreateUsers(rows: Array<Record<string, unknown>>): Promise<BulkCreateUsersResponse> {
    return this.rest.request('POST', '/api/users/bulk', { rows });
  }

  /**
   * Imports any number of rows in batches of `batchSize` (at most BULK_USERS_MAX), one batch at a time,
   * calling `onProgress` after each; the results carry each row's index in `rows`. A batch refused whole
   * (the network, the server) stops the import with that error: the rows answered so far stay created,
   * and sending the same rows again creates none twice (they answer `duplicate_address`).
   */
  async importUsers(
    rows: Array<Record<string, unknown>>,
    opts: { batchSize?: number; onProgress?: (p: ImportProgress) => void; signal?: AbortSignal } = {},
  ): Promise<BulkUserResult[]> {
    const size = Math.min(Math.max(opts.batchSize ?? 100, 1), BULK_USERS_MAX);
    const results: BulkUserResult[] = [];
    let created = 0;
    for (let start = 0; start < rows.length; start += size) {
      if (opts.signal?.aborted) break;
      const r = await this.bulkCreateUsers(rows.slice(start, start + size));
      for (const x of r.results) results.push({ ...x, index: start + x.index });
      created += r.created;
      opts.onProgress?.({
        done: results.length,
        total: rows.length,
        created,
        failed: results.length - created,
      });
    }
    return results;
  }

  // --- SIP devices ---

  sipDevices(userId: string): Promise<{ items: SipDevice[] }> {
    return this.rest.request('GET', `/api/users/${id(userId)}/sip-devices`);
  }

  /**
   * Gives the user a desk phone or softphone. The answer's `settings.password` (and the provisioning
   * text, which holds it) is shown this once: the server keeps only digest hashes.
   */
  addSipDevice(userId: string, device: CreateSipDeviceRequest = {}): Promise<SipDeviceCredentials> {
    return this.rest.request('POST', `/api/users/${id(userId)}/sip-devices`, device);
  }

  renameSipDevice(deviceId: string, name: string): Promise<SipDevice> {
    return this.rest.request('PATCH', `/api/sip-devices/${id(deviceId)}`, { name });
  }

  /** A new password (generated when `password` is not given), shown this once; the phone must register again. */
  resetSipPassword(deviceId: string, password?: string): Promise<SipDeviceCredentials> {
    return this.rest.request(
      'POST',
      `/api/sip-devices/${id(deviceId)}/password`,
      password === undefined ? {} : { password },
    );
  }

  removeSipDevice(deviceId: string): Promise<void> {
    return this.rest.request('DELETE', `/api/sip-devices/${id(deviceId)}`);
  }

  // --- extensions ---

  extensions(): Promise<{ items: ExtensionEntry[] }> {
    return this.rest.request('GET', '/api/extensions');
  }

  extensionOf(userId: string): Promise<UserExtension> {
    return this.rest.request('GET', `/api/users/${id(userId)}/extension`);
  }

  /** Another user's number is refused `duplicate_extension`. */
  setExtension(userId: string, extension: string): Promise<UserExtension> {
    return this.rest.request('PUT', `/api/users/${id(userId)}/extension`, { extension });
  }

  clearExtension(userId: string): Promise<void> {
    return this.rest.request('DELETE', `/api/users/${id(userId)}/extension`);
  }

  // --- API keys ---

  listApiKeys(): Promise<{ items: ApiKey[] }> {
    return this.rest.request('GET', '/api/api-keys');
  }

  /** The secret is in this answer only. */
  createApiKey(name: string, role: 'user' | 'admin'): Promise<CreateApiKeyResponse> {
    return this.rest.request('POST', '/api/api-keys', { name, role });
  }

  revokeApiKey(keyId: string): Promise<void> {
    return this.rest.request('DELETE', `/api/api-keys/${id(keyId)}`);
  }

  // --- licences ---

  plans(): Promise<{ items: Plan[] }> {
    return this.rest.request('GET', '/api/billing/plans');
  }

  licences(): Promise<{ items: Licence[] }> {
    return this.rest.request('GET', '/api/billing/licences');
  }

  setSeats(planId: string, seats: number): Promise<Licence> {
    return this.rest.request('PUT', '/api/billing/licences', { planId, seats });
  }

  assignments(
    planId?: string,
  ): Promise<{ items: Array<{ userId: string; planId: string; assignedAt: string }> }> {
    return this.rest.request('GET', `/api/billing/assignments${q({ planId })}`);
  }

  assign(userId: string, planId: string): Promise<void> {
    return this.rest.request('POST', '/api/billing/assignments', { userId, planId });
  }

  unassign(userId: string, planId: string): Promise<void> {
    return this.rest.request('DELETE', '/api/billing/assignments', { userId, planId });
  }

  // --- wallet ---

  wallet(): Promise<Wallet> {
    return this.rest.request('GET', '/api/billing/wallet');
  }

  /** Newest first; `before`: the seq of the oldest entry already shown. */
  ledger(opts: { limit?: number; before?: number } = {}): Promise<{ items: LedgerEntry[] }> {
    return this.rest.request('GET', `/api/billing/ledger${q(opts)}`);
  }

  topUpRequests(
    opts: { state?: 'pending' | 'approved' | 'declined'; limit?: number } = {},
  ): Promise<{ items: TopUpRequestView[] }> {
    return this.rest.request('GET', `/api/billing/wallet/top-up-requests${q(opts)}`);
  }

  /** Asks the operator for credit (a decimal string such as "25.00"); nothing moves until approved. */
  requestTopUp(amount: string, note?: string): Promise<TopUpRequestView> {
    return this.rest.request(
      'POST',
      '/api/billing/wallet/top-up-requests',
      note ? { amount, note } : { amount },
    );
  }

  // --- audit ---

  audit(opts: { limit?: number; cursor?: string } = {}): Promise<Paged<AuditEntry>> {
    return this.rest.request('GET', `/api/audit${q(opts)}`);
  }
}
