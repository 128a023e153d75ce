/**
 * Each user's call history, read from the call records: the calls they placed and the calls that came
 * to them, newest first, with the other party as this user may see it, and the missed-call badge.
 *
 * Every query is scoped by tenant and user: a record is in a user's history only in their own tenant's
 * records and only where they are the caller or the callee. Newest first is two index ranges
 * (call_records_caller, call_records_callee) merged here, rather than one OR that would sort.
 * Calls still ringing are left out (the devices show them live); a call answered and still going on
 * is listed as answered, with no end yet.
 */
import { sql, type Kysely } from 'kysely';
import {
  ParleyError,
  type CallHistoryEntry,
  type CallHistoryPage,
  type CallHistoryQuery,
  type CallPeer,
  type MarkCallsSeenRequest,
} from '@parley/protocol';
import type { z } from 'zod';
import type { Database } from '../storage/schema.ts';
import type { StorageHandle } from '../storage/db.ts';
import { ECHO_DISPLAY_NAME, ECHO_USER_ID } from './echo.ts';
import type { TenantScope } from '../directory/scope.ts';
import { iso } from '../ids.ts';
import type { CallRecordsTable } from './call-records-tables.ts';
import { dispositionFor, durationSeconds } from './call-records-outcome.ts';

type Query = z.output<typeof CallHistoryQuery>;
type Side = 'outgoing' | 'incoming';
type Row = CallRecordsTable & { peer_name: string | null; peer_address: string | null };
/** A position in the history: newest first by placing time, then by call id (a total order). */
interface Cursor {
  placedAt: number;
  callId: string;
}

export class CallHistory {
  constructor(
    private readonly storage: StorageHandle,
    private readonly now: () => number = Date.now,
  ) {}

  /** One page of `userId`'s history (older than `before` when given), with the unseen-missed count. */
  async page(scope: TenantScope, userId: string, query: Query): Promise<CallHistoryPage> {
    const cursor = query.before ? await this.cursor(scope, userId, query.before, 'before') : null;
    const take = query.limit + 1;
    const [outgoing, incoming] = await Promise.all([
      query.filter === 'missed'
        ? Promise.resolve([])
        : this.side(scope, userId, 'outgoing', cursor, false, take),
      this.side(scope, userId, 'incoming', cursor, query.filter === 'missed', take),
    ]);
    const merged = merge(outgoing, incoming);
    const calls = merged.slice(0, query.limit);
    return {
      calls,
      next: merged.length > query.limit ? calls.at(-1)!.callId : null,
      unseenMissed: await this.unseen(this.storage.db, scope, userId),
    };
  }

  /** Marks the user's missed calls seen (all, or up to and including `upTo`); answers the new count. */
  async markSeen(
    scope: TenantScope,
    userId: string,
    req: z.output<typeof MarkCallsSeenRequest>,
  ): Promise<{ unseenMissed: number }> {
    const upTo = req.upTo ? await this.cursor(scope, userId, req.upTo, 'upTo') : null;
    const at = this.now();
    return this.storage.write(async (tx) => {
      let q = tx
        .updateTable('call_records')
        .set({ missed_seen_at: at })
        .where('tenant_id', '=', scope.tenantId)
        .where('callee_user_id', '=', userId)
        .where('missed', '=', 1)
        .where('missed_seen_at', 'is', null);
      if (upTo) q = q.where(sql<boolean>`(placed_at, call_id) <= (${upTo.placedAt}, ${upTo.callId})`);
      await q.execute();
      return { unseenMissed: await this.unseen(tx, scope, userId) };
    });
  }

  /** Where call `callId` sits in the user's history; 404 naming `field` when it is not theirs. */
  private async cursor(scope: TenantScope, userId: string, callId: string, field: string): Promise<Cursor> {
    const row = await this.storage.db
      .selectFrom('call_records')
      .select(['placed_at', 'call_id'])
      .where('tenant_id', '=', scope.tenantId)
      .where('call_id', '=', callId)
      .where((eb) => eb.or([eb('caller_user_id', '=', userId), eb('callee_user_id', '=', userId)]))
      .executeTakeFirst();
    if (!row) throw new ParleyError('not_found', 'no such call in your history', { field });
    return { placedAt: Number(row.placed_at), callId: row.call_id };
  }

  /** Up to `limit` of the calls the user placed (`outgoing`) or got (`incoming`), newest first. */
  private async side(
    scope: TenantScope,
    userId: string,
    side: Side,
    cursor: Cursor | null,
    missedOnly: boolean,
    limit: number,
  ): Promise<Entry[]> {
    const mine = side === 'outgoing' ? 'r.caller_user_id' : 'r.callee_user_id';
    const peer = side === 'outgoing' ? 'r.callee_user_id' : 'r.caller_user_id';
    let q = this.storage.db
      .selectFrom('call_records as r')
      .leftJoin('users as u', (j) => j.onRef('u.id', '=', peer).onRef('u.tenant_id', '=', 'r.tenant_id'))
      .selectAll('r')
      .select(['u.display_name as peer_name', 'u.address as peer_address'])
      .where('r.tenant_id', '=', scope.tenantId)
      .where(mine, '=', userId)
      .where((eb) => eb.or([eb('r.ended_at', 'is not', null), eb('r.answered_at', 'is not', null)]));
    if (missedOnly) q = q.where('r.missed', '=', 1);
    // A row-value comparison, so both engines walk the index from the cursor on (an OR of the two
    // cases made PostgreSQL collect every older call and sort them).
    if (cursor) q = q.where(sql<boolean>`(r.placed_at, r.call_id) < (${cursor.placedAt}, ${cursor.callId})`);
    const rows = (await q
      .orderBy('r.placed_at', 'desc')
      .orderBy('r.call_id', 'desc')
      .limit(limit)
      .execute()) as Row[];
    return rows.map((r) => ({ placedAt: Number(r.placed_at), entry: entryOf(r, side) }));
  }

  private async unseen(db: Kysely<Database>, scope: TenantScope, userId: string): Promise<number> {
    const row = await db
      .selectFrom('call_records')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', scope.tenantId)
      .where('callee_user_id', '=', userId)
      .where('missed', '=', 1)
      .where('missed_seen_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

interface Entry {
  placedAt: number;
  entry: CallHistoryEntry;
}

/**
 * The two sides merged newest first. A call to yourself (another of your devices) is on both sides:
 * it is listed once, as outgoing.
 */
function merge(outgoing: Entry[], incoming: Entry[]): CallHistoryEntry[] {
  const seen = new Set<string>();
  const out: CallHistoryEntry[] = [];
  const all = [...outgoing, ...incoming].sort(
    (a, b) =>
      b.placedAt - a.placedAt ||
      (a.entry.callId < b.entry.callId ? 1 : a.entry.callId > b.entry.callId ? -1 : 0),
  );
  for (const { entry } of all) {
    if (seen.has(entry.callId)) continue;
    seen.add(entry.callId);
    out.push(entry);
  }
  return out;
}

function entryOf(r: Row, side: Side): CallHistoryEntry {
  const answeredAt = r.answered_at === null ? null : Number(r.answered_at);
  const endedAt = r.ended_at === null ? null : Number(r.ended_at);
  const missed = r.missed === 1;
  const peerUser = side === 'outgoing' ? r.callee_user_id : r.caller_user_id;
  const peer: CallPeer = {
    userId: peerUser,
    // Parley Echo is no directory row (calls/echo.ts): its name comes from the service, not the join.
    displayName: peerUser === null ? null : peerUser === ECHO_USER_ID ? ECHO_DISPLAY_NAME : r.peer_name,
    address: peerUser === null ? null : r.peer_address,
    number: side === 'outgoing' ? r.callee_number : r.caller_number,
  };
  return {
    callId: r.call_id,
    direction: side,
    // Listed while open only once answered (see the module comment).
    disposition: dispositionFor(side, r.disposition ?? 'answered', missed),
    endReason: (r.end_reason as CallHistoryEntry['endReason']) ?? null,
    peer,
    video: r.video === 1,
    startedAt: iso(Number(r.placed_at)),
    answeredAt: answeredAt === null ? null : iso(answeredAt),
    endedAt: endedAt === null ? null : iso(endedAt),
    durationSeconds: durationSeconds(answeredAt, endedAt),
    seen: side === 'incoming' && missed ? r.missed_seen_at !== null : true,
    ...(r.on_net === 1 ? { onNet: true } : {}),
  };
}
