/**
 * Which tenant each user belongs to, for subscription checks. A user never changes tenant, so answers
 * are cached (bounded); unknown ids are looked up in one query per request.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

export class UserTenants {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly maxCached = 200_000,
  ) {}

  /** The tenant of each known id; unknown ids are absent. */
  async resolve(userIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const missing: string[] = [];
    for (const id of userIds) {
      const t = this.cache.get(id);
      if (t) out.set(id, t);
      else missing.push(id);
    }
    for (let i = 0; i < missing.length; i += 500) {
      const rows = await this.db
        .selectFrom('users')
        .select(['id', 'tenant_id'])
        .where('id', 'in', missing.slice(i, i + 500))
        .execute();
      for (const r of rows) {
        out.set(r.id, r.tenant_id);
        if (this.cache.size >= this.maxCached) this.cache.clear();
        this.cache.set(r.id, r.tenant_id);
      }
    }
    return out;
  }
}
