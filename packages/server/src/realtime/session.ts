/**
 * One realtime connection's protocol session: reads frames, answers requests, pushes presence and
 * durable events. Kept small on purpose (a few numbers, a device key and a subscription list) because a
 * server holds tens of thousands of them; everything shared lives in the `SessionContext`.
 *
 * ```
 *   connecting ──hello──▶ resuming ──replayed──▶ open ──closed──▶ closed
 *        │                   ▲  │                 │
 *        │                   │  └───────closed────┼──────────────▶ closed
 *        │                   └─────event gap──────┘
 *        └──────────────────closed (no hello in time, revoked, dropped)──▶ closed
 * ```
 * `resuming` sends missed durable events from the log; live events that arrive meanwhile only raise
 * the target seq, and the replay reads again until it reaches it, so each event is sent once and in
 * order. Frames are handled one at a time, in arrival order.
 */
import type { RawData, WebSocket } from 'ws';
import type { Logger } from 'pino';
import {
  ClientFrame,
  ParleyError,
  PROTOCOL_VERSION,
  RealtimeCloseCodes,
  type CallClientFrame,
  type CallServerFrame,
  type CallView,
  type ChatWelcome,
  type DurableEvent,
  type ResultOf,
  type SubscribeResult,
  type Welcome,
} from '@parley/protocol';
import type { RealtimeConnection } from './gateway.ts';
import type { EventLog } from './event-log.ts';
import type { PresenceService } from '../presence/presence-service.ts';
import type { WatcherSets, Watcher } from './watchers.ts';
import type { UserTenants } from '../presence/user-tenants.ts';
import { admit, type FloodLimits, type FloodState } from './flood-gate.ts';
import { jsonFrame } from './wire-frame.ts';
import type { QueuedBytes, QueuedConnection } from './queued-bytes.ts';

export type SessionState = 'connecting' | 'resuming' | 'open' | 'closed';

const transitions: Record<SessionState, readonly SessionState[]> = {
  connecting: ['resuming', 'closed'],
  resuming: ['open', 'closed'],
  open: ['resuming', 'closed'],
  closed: [],
};

export interface SessionLimits extends FloodLimits {
  maxFrameBytes: number;
  maxSubscriptions: number;
  heartbeatMs: number;
  resumeWindowMs: number;
  resumeMaxEvents: number;
  /** A connection whose unsent bytes exceed this is a slow consumer and is dropped. */
  maxBufferedBytes: number;
}

/** What every session shares: collaborators and limits. */
export interface SessionContext {
  presence: Pick<PresenceService, 'deviceConnected' | 'deviceDisconnected' | 'publish' | 'set' | 'get'>;
  watchers: WatcherSets<RealtimeSession>;
  userTenants: Pick<UserTenants, 'resolve'>;
  events: Pick<EventLog, 'head' | 'after' | 'appendedAt'>;
  limits: SessionLimits;
  /** The process-wide bound on queued bytes, shared by every session. */
  queuedBytes: Pick<QueuedBytes, 'wrote' | 'forget'>;
  log: Logger;
  now(): number;
  /** Chat frames and the chat part of the welcome (chat/chat-service.ts); absent, chat frames get not_found. */
  chat?: SessionChat;
  /** Call frames, the calls part of the welcome and the end of a device (calls/); absent, call frames get not_found. */
  calls?: SessionCalls;
}

/** What a session hands to call control: its call frames, and when its device comes and goes. */
export interface SessionCalls {
  frame(session: CallSession, f: CallClientFrame): unknown;
  /** The device said hello: the calls it still holds a part in (it may have come back within the grace). */
  welcome(session: CallSession): CallView[];
  /** The device's connection closed (`deliberate`: signed out or revoked, so no grace). */
  closed(session: CallSession, deliberate: boolean): void;
}

/** A session as call control sees it: who, which device, and a way to push frames to it. */
export interface CallSession {
  readonly tenantId: string;
  readonly userId: string;
  /** `sessionId/deviceId`: the same for a client that reconnects with its device id. */
  readonly deviceKey: string | null;
  /** What carries the device's media: a realtime client (WebRTC, the default) or a SIP phone (RTP). */
  readonly kind?: 'device' | 'sip';
  push(frame: CallServerFrame): void;
}

/** The frames a session hands to chat, and what chat adds to the welcome. */
export interface SessionChat {
  frame(session: { tenantId: string; userId: string }, f: ChatClientFrame): Promise<unknown>;
  welcome(tenantId: string, userId: string, chatSince: number | undefined): Promise<ChatWelcome>;
}
export type ChatClientFrame = Extract<ClientFrame, { t: `chat.${string}` }>;

/** Close codes after which the device leaves at once, without the reconnect grace. */
const deliberate = new Set<number>([
  RealtimeCloseCodes.normal,
  RealtimeCloseCodes.sessionRevoked,
  RealtimeCloseCodes.unauthorized,
]);

const REPLAY_BATCH = 200;

export class RealtimeSession implements Watcher, FloodState, QueuedConnection, CallSession {
  state: SessionState = 'connecting';
  readonly tenantId: string;
  readonly userId: string;
  /** When the last frame (or pong) arrived; the heartbeat sweep reads it. */
  lastSeen: number;
  readonly openedAt: number;
  tokens: number;
  tokensAt: number;
  notified = false;
  /** Bytes this connection's stream held at the last write (kept for the process-wide bound). */
  queued = 0;
  /** Highest durable event seq sent on this connection. */
  private lastSeq = 0;
  /** Highest durable event seq known to exist (replay target). */
  private targetSeq = 0;
  private device: string | null = null;
  /**
   * Watched user ids, yourself excluded (interned strings from the watcher sets, so an entry costs one
   * pointer); null until the first subscription. Membership is asked of the watcher sets.
   */
  private subs: string[] | null = null;
  private queue: Promise<void> | null = null;

  constructor(
    readonly conn: RealtimeConnection,
    private readonly ctx: SessionContext,
  ) {
    this.tenantId = conn.principal.tenantId;
    this.userId = conn.principal.id;
    this.openedAt = this.lastSeen = this.tokensAt = ctx.now();
    this.tokens = ctx.limits.burst;
  }

  private to(next: SessionState): void {
    if (!transitions[this.state].includes(next))
      throw new Error(`realtime session: illegal transition ${this.state} -> ${next}`);
    this.state = next;
  }

  get socket(): WebSocket {
    return this.conn.socket;
  }

  // --- sending ---

  /** Writes a complete WebSocket frame built once for many recipients (presence fan-out, events). */
  sendWire(wire: Buffer): void {
    const ws = this.conn.socket;
    if (this.state === 'closed' || ws.readyState !== 1) return;
    const stream = this.conn.stream;
    if (stream.writableLength > this.ctx.limits.maxBufferedBytes) return this.cut();
    // Safe beside ws's own writes: without compression its sender writes synchronously, frame by frame.
    stream.write(wire);
    this.ctx.queuedBytes.wrote(this);
  }

  /** Drops a slow consumer: a close frame would only queue behind what it does not read. */
  cut(): void {
    this.ctx.log.warn({ conn: this.conn.id, user: this.userId }, 'realtime: slow consumer dropped');
    this.conn.socket.terminate();
  }

  /** Sends a text frame through ws (answers, errors). */
  sendFrame(frame: Buffer | string): void {
    const ws = this.conn.socket;
    if (this.state === 'closed' || ws.readyState !== 1) return;
    if (ws.bufferedAmount > this.ctx.limits.maxBufferedBytes) return this.cut();
    ws.send(frame, { binary: false });
    this.ctx.queuedBytes.wrote(this);
  }

  /** The device key (`sessionId/deviceId`) once hello is done. */
  get deviceKey(): string | null {
    return this.device;
  }

  /** Pushes a call frame (call control's way to reach this device). */
  push(frame: CallServerFrame): void {
    this.send(frame);
  }

  /**
   * Answers, errors and call pushes, framed here (wire-frame.ts) and written in one socket write: ws's
   * `send` frames a string into a header and a payload written as two buffers (a `writev`), with its
   * own checks on top, for the same bytes (compression is off, gateway.ts).
   */
  private send(frame: object): void {
    this.sendWire(jsonFrame(frame));
  }

  private sendError(err: ParleyError, re?: number): void {
    this.send({
      t: 'error',
      ...(re !== undefined ? { re } : {}),
      code: err.code,
      message: err.message,
      ...(err.field ? { field: err.field } : {}),
    });
  }

  // --- receiving ---

  /** Every frame from the socket comes here. Never throws. */
  onMessage(data: RawData, isBinary: boolean): void {
    const now = this.ctx.now();
    this.lastSeen = now;
    switch (admit(this, this.ctx.limits, now)) {
      case 'pass':
        break;
      case 'throttle':
        return;
      case 'notify':
        this.sendError(new ParleyError('rate_limited', 'too many frames; slow down', { retryAfter: 1 }));
        return;
      case 'disconnect':
        this.ctx.log.info(
          { conn: this.conn.id, user: this.userId },
          'realtime: flooding client disconnected',
        );
        this.socket.close(RealtimeCloseCodes.flooding, 'flooding');
        return;
    }
    const size = Array.isArray(data)
      ? data.reduce((n, b) => n + b.length, 0)
      : data instanceof ArrayBuffer
        ? data.byteLength
        : data.length;
    if (size > this.ctx.limits.maxFrameBytes) {
      // Not parsed, but answered: the request id is looked for near the start, where clients put it.
      const head = (Array.isArray(data) ? data[0]! : Buffer.from(data as Buffer))
        .subarray(0, 64)
        .toString('latin1');
      const id = /"id"\s*:\s*(\d{1,15})\b/.exec(head)?.[1];
      return this.sendError(
        new ParleyError('payload_too_large', `frames are limited to ${this.ctx.limits.maxFrameBytes} bytes`),
        id === undefined ? undefined : Number(id),
      );
    }
    if (isBinary) return this.sendError(new ParleyError('unsupported_media_type', 'frames are JSON text'));
    let raw: unknown;
    try {
      raw = JSON.parse(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString());
    } catch {
      return this.sendError(new ParleyError('malformed_json', 'frame is not JSON'));
    }
    const id =
      typeof raw === 'object' && raw !== null && 'id' in raw && Number.isSafeInteger(raw.id)
        ? (raw.id as number)
        : undefined;
    const parsed = ClientFrame.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.map(String).join('.');
      return this.sendError(
        new ParleyError('validation_failed', `${field || 'frame'}: ${issue.message}`, field ? { field } : {}),
        id,
      );
    }
    const frame = parsed.data;
    // One frame at a time, in order. Most requests finish synchronously; the queue exists only while an
    // asynchronous one (hello, subscribe) is pending.
    if (this.queue) this.track(this.queue.then(() => this.run(frame)));
    else {
      const pending = this.run(frame);
      if (pending) this.track(pending);
    }
  }

  private run(frame: ClientFrame): Promise<void> | undefined {
    try {
      return this.handle(frame)?.catch((err: unknown) => this.failed(err, frame.id));
    } catch (err) {
      this.failed(err, frame.id);
      return undefined;
    }
  }

  private track(p: Promise<void>): void {
    this.queue = p;
    void p.then(() => {
      if (this.queue === p) this.queue = null;
    });
  }

  private failed(err: unknown, re: number): void {
    if (err instanceof ParleyError) return this.sendError(err, re);
    this.ctx.log.error({ err, conn: this.conn.id }, 'realtime request failed');
    this.sendError(new ParleyError('internal', 'internal error'), re);
  }

  private reply<K extends keyof ResultOf>(re: number, data: ResultOf[K]): void {
    this.send({ t: 'result', re, data });
  }

  /** Answers one request; returns a promise only when it has to wait (hello, subscribe, a stored set). */
  private handle(f: ClientFrame): Promise<void> | undefined {
    if (this.state === 'closed') return;
    if (f.t === 'hello') return this.hello(f);
    if (this.state === 'connecting') throw new ParleyError('hello_required', 'send hello first');
    switch (f.t) {
      case 'ping':
        this.send({ t: 'pong', re: f.id });
        break;
      case 'presence.publish':
        this.reply<'presence.publish'>(
          f.id,
          this.ctx.presence.publish(this.tenantId, this.userId, this.device!, f.state),
        );
        break;
      case 'presence.set':
        return this.ctx.presence
          .set(this.tenantId, this.userId, f.settings)
          .then((r) => this.reply<'presence.set'>(f.id, r));
      case 'presence.subscribe':
        return this.subscribe(f.userIds).then((r) => this.reply<'presence.subscribe'>(f.id, r));
      case 'presence.unsubscribe':
        this.unsubscribe(f.userIds);
        this.reply<'presence.unsubscribe'>(f.id, {});
        break;
      case 'call.place':
      case 'call.answer':
      case 'call.decline':
      case 'call.hangup':
      case 'call.sdp':
      case 'call.ice':
      case 'call.dtmf':
        return this.callFrame(f);
      default:
        return this.chatFrame(f);
    }
    return undefined;
  }

  /** Chat requests wait in the frame queue, so one connection's sends are stored in the order sent. */
  private async chatFrame(f: ChatClientFrame): Promise<void> {
    if (!this.ctx.chat) throw new ParleyError('not_found', 'chat is not served here');
    const data = await this.ctx.chat.frame(this, f);
    this.send({ t: 'result', re: f.id, data });
  }

  /** Call requests answer synchronously or with a promise; errors are coded refusals. */
  private callFrame(f: CallClientFrame): Promise<void> | undefined {
    if (!this.ctx.calls) throw new ParleyError('not_found', 'calls are not served here');
    const data = this.ctx.calls.frame(this, f);
    if (data instanceof Promise)
      return data.then((d: unknown) => this.send({ t: 'result', re: f.id, data: d }));
    this.send({ t: 'result', re: f.id, data });
    return undefined;
  }

  // --- hello and resume ---

  private async hello(f: Extract<ClientFrame, { t: 'hello' }>): Promise<void> {
    if (this.state !== 'connecting')
      throw new ParleyError('conflict', 'hello was already done on this connection');
    if (f.v !== PROTOCOL_VERSION)
      throw new ParleyError(
        'unsupported_version',
        `this server speaks protocol version ${PROTOCOL_VERSION}`,
        { field: 'v' },
      );
    this.to('resuming');
    try {
      await this.welcome(f);
    } catch (err) {
      // A half-done hello (the log unreadable) leaves nothing usable: the client reconnects and resumes.
      this.socket.close(1011, 'internal error');
      throw err;
    }
  }

  private async welcome(f: Extract<ClientFrame, { t: 'hello' }>): Promise<void> {
    const { limits } = this.ctx;
    // The device key is per session: one signed-in client reconnecting with its device id replaces itself.
    this.device = `${this.conn.principal.sessionId}/${f.device?.id ?? `c${this.conn.id}`}`;
    this.ctx.presence.deviceConnected(this.tenantId, this.userId, this.device);
    const head = await this.ctx.events.head(this.userId);
    let resume: Welcome['resume'] = 'fresh';
    this.lastSeq = head;
    if (f.resume) {
      const from = f.resume.lastSeq;
      if (from >= head) resume = from === head ? 'resumed' : 'expired';
      else if (head - from > limits.resumeMaxEvents) resume = 'expired';
      else {
        const at = await this.ctx.events.appendedAt(this.userId, from + 1);
        resume = at !== null && at >= this.ctx.now() - limits.resumeWindowMs ? 'resumed' : 'expired';
      }
      if (resume === 'resumed') this.lastSeq = Math.min(from, head);
    }
    this.targetSeq = Math.max(this.targetSeq, head);
    const chat = await this.ctx.chat?.welcome(this.tenantId, this.userId, f.resume?.chatSince);
    if ((this.state as SessionState) !== 'resuming') return; // closed while reading
    this.reply<'hello'>(f.id, {
      v: PROTOCOL_VERSION,
      connectionId: String(this.conn.id),
      userId: this.userId,
      heartbeatMs: limits.heartbeatMs,
      resume,
      lastSeq: head,
      limits: {
        maxFrameBytes: limits.maxFrameBytes,
        maxSubscriptions: limits.maxSubscriptions,
        messagesPerSecond: limits.rate,
      },
      ...(chat ? { chat } : {}),
      ...(this.ctx.calls ? { calls: this.ctx.calls.welcome(this) } : {}),
    });
    // Everyone watches themselves (their own avatar), outside the subscription limit.
    this.ctx.watchers.add(this.userId, this);
    await this.replay();
  }

  /** Sends logged events from `lastSeq` up to `targetSeq` (which live events may raise meanwhile). */
  private async replay(): Promise<void> {
    while (this.state === 'resuming' && this.lastSeq < this.targetSeq) {
      const batch = await this.ctx.events.after(this.userId, this.lastSeq, REPLAY_BATCH);
      if (this.state !== 'resuming') return;
      for (const e of batch) {
        // Back-pressure: a client that reads slowly gets its backlog as fast as it reads, not all at
        // once into memory (and past maxBufferedBytes, which would drop it as a slow consumer).
        if (this.conn.stream.writableNeedDrain) await this.drained();
        if (this.state !== 'resuming') return;
        this.sendEvent(e, jsonFrame({ t: 'event', event: e }));
      }
      if (batch.length === 0) break; // published but not visible yet: the next live event retries
    }
    if (this.state === 'resuming') this.to('open');
  }

  /** Resolves when the stream has written out its queue, or closed. */
  private drained(): Promise<void> {
    const stream = this.conn.stream;
    return new Promise((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  }

  private sendEvent(e: DurableEvent, wire: Buffer): void {
    if (e.seq <= this.lastSeq) return;
    this.lastSeq = e.seq;
    this.sendWire(wire);
  }

  /** A durable event of this user was appended (on any node); `wire` is its framed push. */
  deliver(e: DurableEvent, wire: Buffer): void {
    if (e.seq > this.targetSeq) this.targetSeq = e.seq;
    if (this.state !== 'open') return; // connecting: hello reads the head; resuming: the replay picks it up
    if (e.seq <= this.lastSeq) return;
    if (e.seq === this.lastSeq + 1) return this.sendEvent(e, wire);
    // A gap (appends for one user committed out of publish order): fill it from the log.
    this.to('resuming');
    this.replay().catch((err: unknown) => {
      this.ctx.log.error({ err, conn: this.conn.id }, 'realtime: event catch-up failed');
      this.socket.close(1011, 'internal error');
    });
  }

  // --- presence subscriptions ---

  /** Whether this session is in `userId`'s watcher set (yourself included: everyone watches themselves). */
  private watching(userId: string): boolean {
    return this.ctx.watchers.watchers(userId)?.has(this) ?? false;
  }

  private async subscribe(userIds: string[]): Promise<SubscribeResult> {
    const wanted = [...new Set(userIds)];
    const fresh = wanted.filter((id) => !this.watching(id));
    const max = this.ctx.limits.maxSubscriptions;
    if ((this.subs?.length ?? 0) + fresh.length > max) {
      throw new ParleyError('limit_exceeded', `a connection may watch at most ${max} users`, {
        field: 'userIds',
      });
    }
    const tenants = await this.ctx.userTenants.resolve(fresh);
    if (this.state === 'closed') return { presences: [], refused: [] };
    const refused: SubscribeResult['refused'] = [];
    const presences: SubscribeResult['presences'] = [];
    for (const id of wanted) {
      if (this.watching(id)) {
        presences.push(this.ctx.presence.get(id));
        continue;
      }
      // Another tenant's user and an unknown id look the same: ids of other tenants cannot be probed.
      if (tenants.get(id) !== this.tenantId) {
        refused.push({ userId: id, code: 'not_found' });
        continue;
      }
      if ((this.subs?.length ?? 0) >= max) {
        refused.push({ userId: id, code: 'limit_exceeded' });
        continue;
      }
      (this.subs ??= []).push(this.ctx.watchers.add(id, this));
      presences.push(this.ctx.presence.get(id));
    }
    return { presences, refused };
  }

  private unsubscribe(userIds: string[]): void {
    if (!this.subs) return;
    for (const id of userIds) {
      const i = this.subs.indexOf(id);
      if (i < 0) continue; // not watched, or yourself (always watched)
      this.subs[i] = this.subs[this.subs.length - 1]!;
      this.subs.pop();
      this.ctx.watchers.remove(id, this);
    }
  }

  // --- end ---

  /** The socket closed (`code` as received or 1006 when dropped). Releases everything this session holds. */
  closed(code: number): void {
    if (this.state === 'closed') return;
    this.to('closed');
    this.ctx.queuedBytes.forget(this);
    if (this.subs) for (const id of this.subs) this.ctx.watchers.remove(id, this);
    this.subs = null;
    this.ctx.watchers.remove(this.userId, this);
    if (this.device) this.ctx.presence.deviceDisconnected(this.device, deliberate.has(code));
    this.ctx.calls?.closed(this, deliberate.has(code));
  }
}
