/**
 * The realtime hub: gives each authenticated connection of the gateway a protocol session, delivers
 * durable events to a user's sessions, fans presence changes out to watcher sets, and runs the one
 * heartbeat sweep for all connections (no timer per connection).
 *
 * Heartbeat: clients ping every `heartbeatMs` (the SDK does); any frame counts as liveness. The sweep
 * runs every half interval: a connection silent for one interval gets a WebSocket ping (browsers answer
 * it without script), so it has at least half an interval to answer before it has been silent for two,
 * when it is dropped. A connection that has not said hello within one interval is closed.
 */
import type { Logger } from 'pino';
import { RealtimeCloseCodes } from '@parley/protocol';
import type { Bus } from '../bus/bus.ts';
import type { RealtimeConnection, RealtimeGateway } from './gateway.ts';
import type { EventLog } from './event-log.ts';
import type { PresenceService } from '../presence/presence-service.ts';
import type { UserTenants } from '../presence/user-tenants.ts';
import { WatcherSets } from './watchers.ts';
import {
  RealtimeSession,
  type SessionCalls,
  type SessionChat,
  type SessionContext,
  type SessionLimits,
} from './session.ts';
import { jsonFrame } from './wire-frame.ts';
import { QueuedBytes } from './queued-bytes.ts';

export interface HubDeps {
  gateway: Pick<RealtimeGateway, 'onConnection'>;
  bus: Bus;
  presence: PresenceService;
  events: EventLog;
  userTenants: UserTenants;
  log: Logger;
  limits: SessionLimits;
  /** Seconds durable events are kept. */
  eventRetention: number;
  /** Bytes all connections may queue together before the slowest are cut (see queued-bytes.ts). */
  maxQueuedBytes: number;
  /** Chat's realtime frames and welcome part. */
  chat?: SessionChat;
  /** Call control's frames, welcome part and device ends. */
  calls?: SessionCalls;
}

export class RealtimeHub {
  readonly watchers = new WatcherSets<RealtimeSession>();
  readonly queuedBytes: QueuedBytes;
  private readonly byUser = new Map<string, Set<RealtimeSession>>();
  private readonly all = new Set<RealtimeSession>();
  private readonly ctx: SessionContext;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly deps: HubDeps) {
    this.queuedBytes = new QueuedBytes(deps.maxQueuedBytes);
    this.ctx = {
      queuedBytes: this.queuedBytes,
      presence: deps.presence,
      watchers: this.watchers,
      userTenants: deps.userTenants,
      events: deps.events,
      limits: deps.limits,
      log: deps.log,
      now: Date.now,
      ...(deps.chat ? { chat: deps.chat } : {}),
      ...(deps.calls ? { calls: deps.calls } : {}),
    };
    deps.gateway.onConnection((c) => this.accept(c));
    deps.presence.onChange((tenantId, _userId, presence) => this.watchers.push(tenantId, presence));
    this.unsubscribe.push(deps.bus.subscribe('user.event', (e) => this.deliver(e.userId, e.tenantId, e)));
    const beat = setInterval(() => this.sweep(), deps.limits.heartbeatMs / 2);
    beat.unref();
    const prune = setInterval(() => {
      deps.events
        .prune(Date.now() - deps.eventRetention * 1000)
        .catch((err: unknown) => deps.log.warn({ err }, 'event log prune failed'));
    }, 3_600_000);
    prune.unref();
    this.timers.push(beat, prune);
  }

  /** Open protocol sessions on this node. */
  get size(): number {
    return this.all.size;
  }

  sessionsOf(userId: string): ReadonlySet<RealtimeSession> {
    return this.byUser.get(userId) ?? new Set();
  }

  private accept(conn: RealtimeConnection): void {
    const s = new RealtimeSession(conn, this.ctx);
    this.all.add(s);
    let set = this.byUser.get(s.userId);
    if (!set) this.byUser.set(s.userId, (set = new Set()));
    set.add(s);
    conn.socket.on('message', (data, isBinary) => s.onMessage(data, isBinary));
    conn.socket.on('pong', () => (s.lastSeen = Date.now()));
    conn.socket.on('close', (code) => {
      this.all.delete(s);
      const us = this.byUser.get(s.userId);
      us?.delete(s);
      if (us?.size === 0) this.byUser.delete(s.userId);
      s.closed(code);
    });
  }

  private deliver(
    userId: string,
    tenantId: string,
    e: { event: Parameters<RealtimeSession['deliver']>[0] },
  ): void {
    const set = this.byUser.get(userId);
    if (!set) return;
    const wire = jsonFrame({ t: 'event', event: e.event });
    for (const s of set) if (s.tenantId === tenantId) s.deliver(e.event, wire);
  }

  private sweep(): void {
    const now = Date.now();
    const hb = this.deps.limits.heartbeatMs;
    for (const s of this.all) {
      const silent = now - s.lastSeen;
      if (s.state === 'connecting' && now - s.openedAt > hb)
        s.socket.close(RealtimeCloseCodes.policy, 'no hello');
      else if (silent > 2 * hb) s.socket.terminate();
      else if (silent >= hb) s.socket.ping();
    }
  }

  close(): void {
    this.timers.forEach((t) => clearInterval(t));
    this.unsubscribe.forEach((u) => u());
  }
}
