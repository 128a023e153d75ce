/**
 * The call records (CDRs): call control tells them how each call goes (`CallRecordSink`), and they
 * keep one row per call and tenant with a party in it (call-records-tables.ts).
 *
 * Every change is one write through the writer queue (`storage.write`), so it is stored when its
 * promise resolves. The writes of one call are chained: each waits for the previous one of the same
 * call to settle before it is queued, so an `ended` never overtakes its `opened` even on PostgreSQL,
 * where two writes in flight together may commit in either order.
 *
 * `ended` completes the record and, in the same transaction, appends each user's durable events
 * (`call.missed` to a callee who missed it, `call.ended` to both parties): a crash keeps all or none.
 *
 * Crash closing. A server that dies mid-call cannot end its calls, and call control keeps its calls in
 * memory, so nothing of them survives a restart. While calls are open, one UPDATE every
 * `aliveMs` moves every open record's `alive_at` to now (one statement whatever the number of calls);
 * every change of a record moves it too. At the next start, `closeOrphans` ends every record still open
 * at its `alive_at` with reason `failed` and the same events: the recovered call is at most `aliveMs`
 * shorter than it was, never longer. (One server per database today; several nodes sharing PostgreSQL
 * would each close only the records of the node that died, which needs a node column: later.)
 */
import { sql, type Kysely } from 'kysely';
import type { CallEndReason, CallPeer } from '@parley/protocol';
import { systemClock, type Clock, type TimerHandle } from '@parley/sip';
import type { Database } from '../storage/schema.ts';
import type { StorageHandle } from '../storage/db.ts';
import type { EventLog, StagedEvents } from '../realtime/event-log.ts';
import { trustedScope } from '../directory/scope.ts';
import { iso } from '../ids.ts';
import type { CallOpened, CallRecordSink, RecordParty } from './record-sink.ts';
import type { CallRecordsTable } from './call-records-tables.ts';
import type { RouteDecision } from '../telephony/least-cost.ts';
import {
  callerDisposition,
  dispositionFor,
  durationSeconds,
  isMissed,
  reasonAcrossTenants,
} from './call-records-outcome.ts';

/** A phone leg's media statistics, as the media drivers measure them (migration 014's columns). */
export interface CallMediaStats {
  driver: 'embedded' | 'rtpengine';
  packetsIn: number | null;
  packetsOut: number | null;
  lossPct: number | null;
  jitterMs: number | null;
  failure: string | null;
}

/** What a trunk leg tells its call's records (each field optional: set when known). */
export interface CallTrunkLeg {
  /** Billing's carrier id. */
  carrier?: string;
  /** The number as the caller typed it. */
  typed?: string;
  userCodec?: string | null;
  carrierCodec?: string | null;
  sipEndCode?: number | null;
  sipEndText?: string | null;
  /** How the call was routed (least-cost routing's decision, kept as JSON in `route_decision`). */
  routeDecision?: RouteDecision;
}

export interface CallRecordsDeps {
  storage: StorageHandle;
  events: Pick<EventLog, 'stage' | 'publish'>;
  /** How often open records' last-alive time is refreshed, ms (PARLEY_CALL_RECORD_ALIVE_MS). */
  aliveMs: number;
  /** Timers and wall time (tests pass a FakeClock and a matching `now`). */
  time?: { clock: Clock; now(): number };
  /** Told of a failed alive refresh (the next one retries; the records stay open meanwhile). */
  onError?: (err: unknown) => void;
}

/** Open records closed at one time by `closeOrphans` (a bounded transaction; it loops until none). */
const ORPHAN_BATCH = 500;

type RecordRow = CallRecordsTable;

export class CallRecords implements CallRecordSink {
  private readonly storage: StorageHandle;
  private readonly events: CallRecordsDeps['events'];
  private readonly clock: Clock;
  private readonly now: () => number;
  /** The tail of each call's chain of writes (removed when it settles with nothing after it). */
  private readonly chains = new Map<string, Promise<void>>();
  /** Calls opened through this sink and not yet ended: while any, the alive refresh runs. */
  private readonly live = new Set<string>();
  private timer: TimerHandle | null = null;
  private refreshing: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly deps: CallRecordsDeps) {
    this.storage = deps.storage;
    this.events = deps.events;
    this.clock = deps.time?.clock ?? systemClock;
    this.now = deps.time?.now ?? Date.now;
  }

  /** Stores the call's records: one for a call within a tenant, one per tenant across tenants. */
  opened(call: CallOpened): Promise<void> {
    this.live.add(call.callId);
    this.armRefresh();
    const stored = this.chain(call.callId, () =>
      this.storage.write(async (tx) => {
        await tx.insertInto('call_records').values(recordsOf(call)).execute();
      }),
    );
    // A call whose records could not be stored was refused: nothing of it stays open here.
    stored.catch(() => this.live.delete(call.callId));
    return stored;
  }

  ringing(callId: string, at: number, devices: readonly string[]): Promise<void> {
    return this.chain(callId, () =>
      this.storage.write(async (tx) => {
        await tx
          .updateTable('call_records')
          .set({
            ringing_at: at,
            rung_devices: calleeDevices(JSON.stringify(devices)),
            alive_at: aliveAtLeast(at),
          })
          .where('call_id', '=', callId)
          .where('ringing_at', 'is', null)
          .where('ended_at', 'is', null)
          .execute();
      }),
    );
  }

  answered(callId: string, at: number, device: string): Promise<void> {
    return this.chain(callId, () =>
      this.storage.write(async (tx) => {
        await tx
          .updateTable('call_records')
          .set({ answered_at: at, answer_device: calleeDevices(device), alive_at: aliveAtLeast(at) })
          .where('call_id', '=', callId)
          .where('answered_at', 'is', null)
          .where('ended_at', 'is', null)
          .execute();
      }),
    );
  }

  /** Completes the records and appends the users' events in the same transaction; pushes them after. */
  ended(callId: string, at: number, reason: CallEndReason, endedBy: string | null): Promise<void> {
    return this.chain(callId, async () => {
      try {
        const staged = await this.storage.write(async (tx) => {
          const rows = await tx
            .selectFrom('call_records')
            .selectAll()
            .where('call_id', '=', callId)
            .where('ended_at', 'is', null)
            .execute();
          const out: StagedEvents[] = [];
          for (const row of rows) out.push(...(await this.finish(tx, row, at, reason, endedBy)));
          return out;
        });
        for (const s of staged) this.events.publish(s);
      } finally {
        this.live.delete(callId);
      }
    });
  }

  /**
   * What a call through a carrier adds to its records (migration 016): the carrier, the codec of each
   * leg, the SIP code and phrase that ended the carrier leg; and how it was routed (migration 018). Only the fields given are written; chained
   * after the call's other writes, so it may come at any time after `opened`.
   */
  carrierLeg(callId: string, d: CallTrunkLeg): Promise<void> {
    const set: Partial<CallRecordsTable> = {};
    if (d.carrier !== undefined) set.carrier = d.carrier;
    if (d.typed !== undefined) set.callee_number_typed = d.typed;
    if (d.userCodec !== undefined) set.user_codec = d.userCodec;
    if (d.carrierCodec !== undefined) set.carrier_codec = d.carrierCodec;
    if (d.sipEndCode !== undefined) set.sip_end_code = d.sipEndCode;
    if (d.sipEndText !== undefined) set.sip_end_text = d.sipEndText;
    if (d.routeDecision !== undefined) set.route_decision = JSON.stringify(d.routeDecision);
    if (Object.keys(set).length === 0) return Promise.resolve();
    return this.chain(callId, () =>
      this.storage.write(async (tx) => {
        await tx.updateTable('call_records').set(set).where('call_id', '=', callId).execute();
      }),
    );
  }

  /**
   * The media statistics of a phone's leg of the call (its records, every tenant's): written when the
   * leg closes, after or before `ended` (chained with the call's other writes either way).
   */
  mediaStats(callId: string, s: CallMediaStats): Promise<void> {
    return this.chain(callId, () =>
      this.storage.write(async (tx) => {
        await tx
          .updateTable('call_records')
          .set({
            media_driver: s.driver,
            media_packets_in: s.packetsIn,
            media_packets_out: s.packetsOut,
            media_loss_pct: s.lossPct,
            media_jitter_ms: s.jitterMs,
            media_failure: s.failure,
          })
          .where('call_id', '=', callId)
          .execute();
      }),
    );
  }

  /**
   * At start, before any call: ends every record a crashed server left open, at its last-alive time,
   * as `failed`, with the users' events. Resolves to the number of records closed.
   */
  async closeOrphans(): Promise<number> {
    let closed = 0;
    for (;;) {
      const { count, staged } = await this.storage.write(async (tx) => {
        const rows = await tx
          .selectFrom('call_records')
          .selectAll()
          .where('ended_at', 'is', null)
          .orderBy('placed_at')
          .orderBy('call_id')
          .limit(ORPHAN_BATCH)
          .execute();
        const out: StagedEvents[] = [];
        for (const row of rows)
          out.push(...(await this.finish(tx, row, Number(row.alive_at), 'failed', null)));
        return { count: rows.length, staged: out };
      });
      for (const s of staged) this.events.publish(s);
      closed += count;
      if (count < ORPHAN_BATCH) return closed;
    }
  }

  /**
   * One UPDATE moving every open record's last-alive time to now. Run by the timer while calls are
   * open; public so tests can run it at a chosen instant.
   */
  refreshAlive(): Promise<void> {
    const now = this.now();
    this.refreshing = this.storage
      .write(async (tx) => {
        await tx
          .updateTable('call_records')
          .set({ alive_at: now })
          .where('ended_at', 'is', null)
          .where('alive_at', '<', now)
          .execute();
      })
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** Resolves when every write queued so far (every call's chain, the refresh) has settled. */
  async flush(): Promise<void> {
    while (this.chains.size || this.refreshing)
      await Promise.allSettled([...this.chains.values(), this.refreshing]);
  }

  /** Stops the refresh and waits for queued writes (before the storage closes). Open records stay open. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = null;
    await this.flush();
  }

  /**
   * Ends one record at `at` and stages its users' events in `tx`: `call.missed` for a callee who
   * missed it (before their `call.ended`), `call.ended` for each user party of this tenant.
   */
  private async finish(
    tx: Kysely<Database>,
    row: RecordRow,
    at: number,
    reason: CallEndReason,
    endedBy: string | null,
  ): Promise<StagedEvents[]> {
    const answeredAt = row.answered_at === null ? null : Number(row.answered_at);
    const answered = answeredAt !== null;
    // Never before the answer: a record's end cannot make its duration negative.
    const endedAt = answeredAt !== null && at < answeredAt ? answeredAt : at;
    const disposition = callerDisposition(answered, reason);
    const missed = isMissed(answered, reason);
    // A record of a call with another tenant's user (on-net) keeps nothing of that user: not their
    // presence (the caller's record: Do not disturb), nor their id as the one who ended it.
    const acrossTenants = row.on_net === 1 && row.direction !== 'internal';
    const shownReason = acrossTenants && row.direction === 'outbound' ? reasonAcrossTenants(reason) : reason;
    const by =
      acrossTenants && endedBy !== row.caller_user_id && endedBy !== row.callee_user_id ? null : endedBy;
    await tx
      .updateTable('call_records')
      .set({
        ended_at: endedAt,
        alive_at: aliveAtLeast(endedAt),
        disposition,
        end_reason: shownReason,
        ended_by: by,
        missed: missed ? 1 : 0,
      })
      .where('call_id', '=', row.call_id)
      .where('tenant_id', '=', row.tenant_id)
      .execute();
    const scope = trustedScope(row.tenant_id);
    const duration = durationSeconds(answeredAt, endedAt);
    const staged: StagedEvents[] = [];
    if (missed && row.callee_user_id !== null)
      staged.push(
        await this.events.stage(tx, scope, [row.callee_user_id], 'call.missed', {
          callId: row.call_id,
          from: await callerAsSeen(tx, row),
          at: iso(Number(row.placed_at)),
          reason: shownReason,
        }),
      );
    const sides: Array<['outgoing' | 'incoming', string | null]> = [
      ['outgoing', row.caller_user_id],
      ['incoming', row.callee_user_id],
    ];
    for (const [direction, userId] of sides) {
      if (userId === null) continue;
      // Calling yourself (another of your devices) is one call in your history: the outgoing one.
      if (direction === 'incoming' && userId === row.caller_user_id) continue;
      staged.push(
        await this.events.stage(tx, scope, [userId], 'call.ended', {
          callId: row.call_id,
          direction,
          disposition: dispositionFor(direction, disposition, missed),
          durationSeconds: duration,
        }),
      );
    }
    return staged;
  }

  /** Runs `write` after every earlier write of the same call has settled (succeeded or failed). */
  private chain(callId: string, write: () => Promise<unknown>): Promise<void> {
    const before = this.chains.get(callId) ?? Promise.resolve();
    const run = before.then(write).then(() => undefined);
    const tail = run.catch(() => undefined);
    this.chains.set(callId, tail);
    void tail.then(() => {
      if (this.chains.get(callId) === tail) this.chains.delete(callId);
    });
    return run;
  }

  /** Arms the refresh timer if calls are open and it is not armed; it re-arms itself while they are. */
  private armRefresh(): void {
    if (this.timer || this.closed) return;
    this.timer = this.clock.setTimer(this.deps.aliveMs, () => {
      this.timer = null;
      if (this.closed || this.live.size === 0) return;
      this.refreshAlive().then(
        () => this.armRefresh(),
        (err: unknown) => {
          this.deps.onError?.(err);
          this.armRefresh();
        },
      );
    });
  }
}

/**
 * The callee's device keys, kept in every record but the caller's of an on-net call across tenants
 * (an outbound record whose callee is another tenant's user keeps none of their devices).
 */
const calleeDevices = (v: string) =>
  sql<string | null>`case when on_net = 1 and direction = 'outbound' then null else ${v} end`;

/** `alive_at` moved up to `at` unless it is already later (the refresh may have run after `at`). */
const aliveAtLeast = (at: number) => sql<number>`case when alive_at < ${at} then ${at} else alive_at end`;

/** The rows a placed call stores: one per tenant with a party in it. */
function recordsOf(call: CallOpened): CallRecordsTable[] {
  const base = {
    call_id: call.callId,
    caller_device: call.callerDevice,
    rung_devices: null,
    answer_device: null,
    carrier: null,
    video: call.video ? 1 : 0,
    placed_at: call.at,
    ringing_at: null,
    answered_at: null,
    ended_at: null,
    alive_at: call.at,
    disposition: null,
    end_reason: null,
    ended_by: null,
    missed: 0,
    missed_seen_at: null,
    on_net: call.onNet ? 1 : 0,
  } as const;
  const typed = call.onNet ? { callee_number_typed: call.onNet.typed } : {};
  const { caller, callee } = call;
  if (caller.tenantId === callee.tenantId) {
    // A party that is no user is a phone number: the call went out to (or came in from) the network.
    const direction = callee.userId === null ? 'outbound' : caller.userId === null ? 'inbound' : 'internal';
    return [{ ...base, ...typed, tenant_id: caller.tenantId, direction, ...parties(caller, callee) }];
  }
  // Across tenants each record shows the other tenant's party by number only, and none of its devices.
  return [
    {
      ...base,
      ...typed,
      tenant_id: caller.tenantId,
      direction: 'outbound',
      ...parties(caller, byNumber(callee)),
    },
    {
      ...base,
      caller_device: null,
      tenant_id: callee.tenantId,
      direction: 'inbound',
      ...parties(byNumber(caller), callee),
    },
  ];
}

const byNumber = (p: RecordParty): RecordParty => ({ ...p, userId: null });

function parties(caller: RecordParty, callee: RecordParty) {
  return {
    caller_user_id: caller.userId,
    caller_number: caller.number,
    callee_user_id: callee.userId,
    callee_number: callee.number,
  };
}

/**
 * The caller as the callee may see them: a colleague by id, name and address (read in the record's
 * tenant only); a party known by number only, by that number.
 */
async function callerAsSeen(tx: Kysely<Database>, row: RecordRow): Promise<CallPeer> {
  const peer: CallPeer = { userId: null, displayName: null, address: null, number: row.caller_number };
  if (row.caller_user_id === null) return peer;
  const user = await tx
    .selectFrom('users')
    .select(['display_name', 'address'])
    .where('id', '=', row.caller_user_id)
    .where('tenant_id', '=', row.tenant_id)
    .executeTakeFirst();
  return {
    ...peer,
    userId: row.caller_user_id,
    displayName: user?.display_name ?? null,
    address: user?.address ?? null,
  };
}
