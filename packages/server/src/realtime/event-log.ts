/**
 * Each user's durable event log: chat messages, call records and notices (later issues add kinds) that a
 * reconnecting client must not miss. Events are numbered per user by a strictly increasing `seq`,
 * allocated in the same transaction as the insert (an upsert on the user's head row, which serializes
 * concurrent appends for one user on both engines). After commit the event is published on the bus so
 * every node can deliver it to that user's connections; a client that was away replays from the log.
 * Events older than the retention are pruned.
 */
import { sql, type Kysely } from 'kysely';
import type { DurableEvent, DurableEventData } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import type { Bus } from '../bus/bus.ts';
import type { TenantScope } from '../directory/scope.ts';

export class EventLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: Pick<Bus, 'publish'>,
  ) {}

  /** Appends an event for `userId` (who must be in `scope`'s tenant) and publishes it after commit. */
  async append<K extends keyof DurableEventData>(
    scope: TenantScope,
    userId: string,
    kind: K,
    data: DurableEventData[K],
  ): Promise<DurableEvent> {
    return (await this.appendToMany(scope, [userId], kind, data)).get(userId)!;
  }

  /**
   * Appends the same event to several users' logs in one transaction (a chat message to every member
   * of a conversation): all or none. Each user gets it under their own next seq. Heads are locked in id
   * order, so two such appends over overlapping members cannot deadlock.
   */
  async appendToMany<K extends keyof DurableEventData>(
    scope: TenantScope,
    userIds: readonly string[],
    kind: K,
    data: DurableEventData[K],
  ): Promise<Map<string, DurableEvent>> {
    const at = Date.now();
    const json = JSON.stringify(data);
    const ids = [...new Set(userIds)].sort();
    const seqs = await this.db.transaction().execute(async (tx) => {
      const out: Array<[string, number]> = [];
      for (const userId of ids) {
        const head = await tx
          .insertInto('user_event_heads')
          .values({ user_id: userId, tenant_id: scope.tenantId, seq: 1 })
          .onConflict((oc) =>
            oc.column('user_id').doUpdateSet({ seq: sql<number>`user_event_heads.seq + 1` }),
          )
          .returning('seq')
          .executeTakeFirstOrThrow();
        const seq = Number(head.seq);
        await tx
          .insertInto('user_events')
          .values({ user_id: userId, seq, tenant_id: scope.tenantId, kind, data: json, at })
          .execute();
        out.push([userId, seq]);
      }
      return out;
    });
    const events = new Map<string, DurableEvent>();
    for (const [userId, seq] of seqs) {
      const event: DurableEvent = {
        seq,
        kind,
        at: new Date(at).toISOString(),
        data: data as Record<string, unknown>,
      };
      events.set(userId, event);
      this.bus.publish('user.event', { tenantId: scope.tenantId, userId, event });
    }
    return events;
  }

  /** The user's highest seq (0: no events yet). */
  async head(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom('user_event_heads')
      .select('seq')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ? Number(row.seq) : 0;
  }

  /** Events with seq > `after`, in order, at most `limit`. */
  async after(userId: string, after: number, limit: number): Promise<DurableEvent[]> {
    const rows = await this.db
      .selectFrom('user_events')
      .select(['seq', 'kind', 'data', 'at'])
      .where('user_id', '=', userId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      kind: r.kind,
      at: new Date(Number(r.at)).toISOString(),
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }

  /** When the event `seq` of the user was appended (ms), or null if it does not exist (pruned). */
  async appendedAt(userId: string, seq: number): Promise<number | null> {
    const row = await this.db
      .selectFrom('user_events')
      .select('at')
      .where('user_id', '=', userId)
      .where('seq', '=', seq)
      .executeTakeFirst();
    return row ? Number(row.at) : null;
  }

  /** Deletes events appended before `before` (ms); head rows stay, so seqs are never reused. */
  async prune(before: number): Promise<number> {
    const r = await this.db.deleteFrom('user_events').where('at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
