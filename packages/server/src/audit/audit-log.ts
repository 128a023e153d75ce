/**
 * The audit log of administrative actions: who, what, when, from where. Tenant admins read their own
 * tenant's entries; operators read everything.
 */
import type { Kysely } from 'kysely';
import type { AuditLogTable, Database } from '../storage/schema.ts';
import { newId, iso } from '../ids.ts';
import type { TenantScope } from '../directory/scope.ts';

export interface Actor {
  id: string | null;
  address: string | null;
  sourceAddress: string | null;
}

export const systemActor = (what = 'cli'): Actor => ({ id: null, address: what, sourceAddress: null });

export interface AuditRecord {
  tenantId: string | null;
  action: string;
  target?: string | null;
  detail?: Record<string, unknown> | null;
}

/** An audit_log row (its seq aside): for stores that write the entry in their own transaction. */
export type AuditRow = Omit<AuditLogTable, 'seq'>;

/** The row that records `rec` done by `actor` now. */
export function auditRow(actor: Actor, rec: AuditRecord, at = Date.now()): AuditRow {
  return {
    id: newId('aud'),
    tenant_id: rec.tenantId,
    actor_id: actor.id,
    actor_address: actor.address,
    action: rec.action,
    target: rec.target ?? null,
    detail: rec.detail ? JSON.stringify(rec.detail) : null,
    source_address: actor.sourceAddress,
    at,
  };
}

export class AuditLog {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Records an action. Pass the transaction (`tx`, from storage.write) of the change it describes, so
   * the change and its entry commit together; alone, the entry is a lone insert.
   */
  async record(actor: Actor, rec: AuditRecord, tx: Kysely<Database> = this.db): Promise<void> {
    await tx.insertInto('audit_log').values(auditRow(actor, rec)).execute();
  }

  /** Newest first; `scope` null means every tenant (operators). */
  async list(scope: TenantScope | null, limit: number, cursor?: string) {
    let q = this.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(limit + 1);
    if (scope) q = q.where('tenant_id', '=', scope.tenantId);
    if (cursor && /^\d+$/.test(cursor)) q = q.where('seq', '<', Number(cursor));
    const rows = await q.execute();
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => ({
        id: r.id,
        tenantId: r.tenant_id,
        actorId: r.actor_id,
        actorAddress: r.actor_address,
        action: r.action,
        target: r.target,
        detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
        sourceAddress: r.source_address,
        at: iso(r.at),
      })),
      nextCursor: more ? String(page.at(-1)!.seq) : null,
    };
  }
}
