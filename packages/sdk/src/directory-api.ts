/** The directory in the SDK: search the signed-in user's organisation, read one user, the organisation. */
import type { Tenant, User } from '@parley/protocol';
import type { RestClient } from './rest-client.ts';

export class DirectoryApi {
  constructor(private readonly rest: Pick<RestClient, 'request'>) {}

  /** Users whose name or address starts with `query` (all users without one), a page at a time. */
  search(
    query: string,
    opts: { limit?: number; cursor?: string } = {},
  ): Promise<{ items: User[]; nextCursor: string | null }> {
    const q = new URLSearchParams();
    if (query) q.set('query', query);
    if (opts.limit) q.set('limit', String(opts.limit));
    if (opts.cursor) q.set('cursor', opts.cursor);
    const s = q.toString();
    return this.rest.request('GET', `/api/users${s ? `?${s}` : ''}`);
  }

  user(userId: string): Promise<User> {
    return this.rest.request('GET', `/api/users/${encodeURIComponent(userId)}`);
  }

  /** The signed-in user's organisation (its name, time zone, domains). */
  tenant(): Promise<Tenant> {
    return this.rest.request('GET', '/api/tenant');
  }
}
