/**
 * Each user's durable event log: chat messages, call records and notices (later issues add kinds) that a
 * reconnecting client must not miss. Events are numbered per user by a strictly increasing `seq`,
 * allocated in the same transaction as the insert (an upsert on the user's head row, which serializes
 * concurrent appends for one user on both engines). After commit the event is published on the bus so
 * every node can deliver it to that user's connections; a client that was away replays from the log.
 * Events older than the retention are pruned. Every write goes through the writer queue; an event that
 * describes another change (a chat membership, a read position, a mention) is `stage`d inside that
 * change's own write, so a crash can never keep one without the other.
 */
import { sql, type Kysely } from 'kysely';
import type { DurableEvent, DurableEventData } from '@parley/protocol';
import type { Database } from '../storage/schema.ts';
import type { Bus } from '../bus/bus.ts';
import type { TenantScope } from '../directory/scope.ts';
import type { StorageHandle } from '../storage/db.ts';

/**
 * Events written inside a caller's transaction, not yet announced: `EventLog.publish` them once that
 * transaction has committed (never before: a rolled-back change must not be pushed).
 */
export interface StagedEvents {
  tenantId: string;
  events: Array<[userId: string, event: DurableEvent]>;
}

export class EventLog {
  constructor(
    private readonly storage: StorageHandle,
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
   * Appends the same event to several users' logs in one write (the writer queue's transaction): all
   * or none. Each user gets it under their own next seq. Published after the commit.
   */
  async appendToMany<K extends keyof DurableEventData>(
    scope: TenantScope,
    userIds: readonly string[],
    kind: K,
    data: DurableEventData[K],
  ): Promise<Map<string, DurableEvent>> {
    const staged = await this.storage.write((tx) => this.stage(tx, scope, userIds, kind, data));
    return this.publish(staged);
  }

  /**
   * Writes the event to each user's log inside the caller's write transaction `tx`, so the event and
   * the change it describes commit (or roll back) together; the caller publishes the result after its
   * commit. Heads are locked in id order, so two such appends over overlapping users cannot deadlock.
   */
  async stage<K extends keyof DurableEventData>(
    tx: Kysely<Database>,
    scope: TenantScope,
    userIds: readonly string[],
    kind: K,
    data: DurableEventData[K],
  ): Promise<StagedEvents> {
    const at = Date.now();
    const json = JSON.stringify(data);
    const iso = new Date(at).toISOString();
    const events: StagedEvents['events'] = [];
    for (const userId of [...new Set(userIds)].sort()) {
      const head = await tx
        .insertInto('user_event_heads')
        .values({ user_id: userId, tenant_id: scope.tenantId, seq: 1 })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ seq: sql<number>`user_event_heads.seq + 1` }))
        .returning('seq')
        .executeTakeFirstOrThrow();
      const seq = Number(head.seq);
      await tx
        .insertInto('user_events')
        .values({ user_id: userId, seq, tenant_id: scope.tenantId, kind, data: json, at })
        .execute();
      events.push([userId, { seq, kind, at: iso, data: data as Record<string, unknown> }]);
    }
    return { tenantId: scope.tenantId, events };
  }

  /** Announces committed events on the bus (every node delivers them to the users' connections). */
  publish(staged: StagedEvents | null | undefined): Map<string, DurableEvent> {
    const out = new Map<string, DurableEvent>();
    for (const [userId, event] of staged?.events ?? []) {
      out.set(userId, event);
      this.bus.publish('user.event', { tenantId: staged!.tenantId, userId, event });
    }
    return out;
  }

  /** The user's highest seq (0: no events yet). */
  async head(userId: string): Promise<number> {
    const row = await this.storage.db
      .selectFrom('user_event_heads')
      .select('seq')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row ? Number(row.seq) : 0;
  }

  /** Events with seq > `after`, in order, at most `limit`. */
  async after(userId: string, after: number, limit: number): Promise<DurableEvent[]> {
    const rows = await this.storage.db
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
    const row = await this.storage.db
      .selectFrom('user_events')
      .select('at')
      .where('user_id', '=', userId)
      .where('seq', '=', seq)
      .executeTakeFirst();
    return row ? Number(row.at) : null;
  }

  /** Deletes events appended before `before` (ms); head rows stay, so seqs are never reused. */
  async prune(before: number): Promise<number> {
    const r = await this.storage.write((tx) =>
      tx.deleteFrom('user_events').where('at', '<', before).executeTakeFirst(),
    );
    return Number(r.numDeletedRows);
  }
}
