/**
 * The SDK's realtime connection: one WebSocket at a time, reconnected with backoff, resumed with the
 * last durable event seq it processed, kept alive by heartbeats. Requests are matched to answers by id.
 *
 * ```
 *            connect()                 welcome
 *  closed ─────────────▶ connecting ─────────────▶ open
 *    ▲                     │    ▲ retry (backoff)    │ drop / heartbeat lost
 *    │                     │    └────────────────┐   ▼
 *    │◀── close() or ──────┴──── terminal ─── resuming ──welcome──▶ open
 *         revoked / disabled       error         ▲  │ retry (backoff)
 *                                                └──┘
 * ```
 * `connecting` is a first connection; `resuming` a reconnection, where the server replays the durable
 * events missed since `lastSeq` and the client subscribes again for a fresh presence snapshot.
 * Events are handed out once each, in seq order, whatever the server sends.
 */
import {
  ParleyError,
  PROTOCOL_VERSION,
  type CallServerFrame,
  type ChatServerFrame,
  RealtimeCloseCodes,
  type ClientFrame,
  type DeviceInfo,
  type DurableEvent,
  type Presence,
  type ResultOf,
  type Welcome,
} from '@parley/protocol';
import { TypedEmitter } from './typed-emitter.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { toError } from './rest-client.ts';

export type ConnectionState = 'connecting' | 'open' | 'resuming' | 'closed';

const transitions: Record<ConnectionState, readonly ConnectionState[]> = {
  closed: ['connecting'],
  connecting: ['connecting', 'open', 'closed'],
  open: ['resuming', 'closed'],
  resuming: ['resuming', 'open', 'closed'],
};

/** What the SDK needs of a WebSocket: the browser's and `ws`'s both fit. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Opens a socket to `url` authenticated with `token`. */
export type SocketFactory = (url: string, token: string) => SocketLike;

export interface LinkEvents extends Record<string, unknown[]> {
  state: [ConnectionState];
  welcome: [Welcome];
  presence: [Presence];
  event: [DurableEvent];
  /**
   * The resume was refused (too long away, or too much missed): durable events after `after` up to
   * `upTo` were not replayed. Fetch them from the REST API (`ParleyClient.eventsAfter`).
   */
  gap: [{ after: number; upTo: number }];
  /** Errors not tied to a request: throttling notices, terminal connection failures. */
  error: [ParleyError];
  /** A chat push (`chat.message`, `chat.typing`, `chat.receipt`, `chat.conversation`). */
  chat: [ChatPush];
  /** A call push (`call.incoming`, `call.update`, `call.sdp`, `call.ice`). */
  call: [CallServerFrame];
}

/** The chat frames the server pushes. */
export type ChatPush = ChatServerFrame;

export interface LinkOptions {
  url: string;
  socketFactory: () => Promise<SocketFactory>;
  /** A current access token (refreshing it first when it is about to expire). */
  token: () => Promise<string>;
  /**
   * After a socket failed before it opened: a terminal error (revoked, disabled) to stop on, or null to
   * retry. Browsers do not show the upgrade's status, so this asks the REST API.
   */
  diagnose: () => Promise<ParleyError | null>;
  /** Runs after each welcome, before the state turns open (re-publish, re-subscribe). */
  onReady: (welcome: Welcome, reconnect: boolean) => Promise<void>;
  device: DeviceInfo;
  backoff: BackoffOptions;
  requestTimeoutMs: number;
}

type RequestFrame = { [K in ClientFrame['t']]: Omit<Extract<ClientFrame, { t: K }>, 'id'> }[ClientFrame['t']];

interface Pending {
  resolve(v: unknown): void;
  reject(e: ParleyError): void;
  timer: ReturnType<typeof setTimeout>;
}

const terminalCloses = new Set<number>([RealtimeCloseCodes.unauthorized, RealtimeCloseCodes.sessionRevoked]);

export class RealtimeLink extends TypedEmitter<LinkEvents> {
  private _state: ConnectionState = 'closed';
  private socket: SocketLike | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private attempt = 0;
  /** Highest durable event seq processed; null before the first welcome. */
  private lastSeq: number | null = null;
  /** The chat resume cursor of the last welcome (see the resume contract in protocol/chat.ts). */
  private chatCursor: number | null = null;
  private welcomed = false;
  /** The socket whose hello has been answered (requests wait for it). */
  private greeted: SocketLike | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private lastHeard = 0;
  private waiter: { resolve(w: Welcome): void; reject(e: ParleyError): void } | null = null;

  constructor(private readonly o: LinkOptions) {
    super();
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The highest durable event seq this client has processed (null before the first connection). */
  get lastEventSeq(): number | null {
    return this.lastSeq;
  }

  private to(next: ConnectionState): void {
    if (!transitions[this._state].includes(next))
      throw new Error(`realtime link: illegal transition ${this._state} -> ${next}`);
    const changed = this._state !== next;
    this._state = next;
    if (changed) this.emit('state', next);
  }

  /** Connects (retrying with backoff); resolves at the first welcome, rejects on a terminal error. */
  connect(): Promise<Welcome> {
    if (this._state !== 'closed')
      return Promise.reject(new ParleyError('conflict', `already ${this._state}`));
    this.to('connecting');
    const p = new Promise<Welcome>((resolve, reject) => (this.waiter = { resolve, reject }));
    void this.open();
    return p;
  }

  /** Closes on purpose: the server removes this device at once (no grace). */
  close(): void {
    if (this._state === 'closed') return;
    this.stopTimers();
    const ws = this.socket;
    this.socket = null;
    if (ws) {
      detach(ws);
      try {
        ws.close(RealtimeCloseCodes.normal, 'bye');
      } catch {
        // already closing
      }
    }
    this.failPending(new ParleyError('unavailable', 'connection closed'));
    this.to('closed');
    this.waiter?.reject(new ParleyError('unavailable', 'connection closed'));
    this.waiter = null;
  }

  /** Simulates a network loss (tests, "reconnect now" buttons): the socket is dropped and resumed. */
  drop(): void {
    const ws = this.socket;
    if (!ws) return;
    this.lost(ws, 1006);
  }

  /** Sends a request and resolves with its result; rejects with the server's coded error. */
  request<K extends ClientFrame['t']>(frame: Extract<RequestFrame, { t: K }>): Promise<ResultOf[K]> {
    const ws = this.socket;
    if (!ws || ws.readyState !== 1 || (this.greeted !== ws && frame.t !== 'hello')) {
      return Promise.reject(new ParleyError('unavailable', 'not connected'));
    }
    const id = this.nextId++;
    return new Promise<ResultOf[K]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ParleyError('unavailable', `${frame.t}: no answer in ${this.o.requestTimeoutMs} ms`));
      }, this.o.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Sends raw text (tests of the server's handling of bad frames). */
  sendRaw(text: string): void {
    this.socket?.send(text);
  }

  // --- internals ---

  private async open(): Promise<void> {
    let token: string;
    let factory: SocketFactory;
    try {
      [token, factory] = await Promise.all([this.o.token(), this.o.socketFactory()]);
    } catch (err) {
      const e = err instanceof ParleyError ? err : new ParleyError('unavailable', String(err));
      if (e.code === 'unavailable') return this.scheduleRetry();
      return this.terminal(e);
    }
    if (this._state === 'closed') return;
    const ws = factory(this.o.url, token);
    this.socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.lastHeard = Date.now();
      void this.hello(ws);
    };
    ws.onmessage = (ev) => {
      this.lastHeard = Date.now();
      this.onFrame(typeof ev.data === 'string' ? ev.data : String(ev.data));
    };
    ws.onerror = () => {};
    ws.onclose = (ev) => {
      if (this.socket !== ws) return;
      if (!opened) void this.failedToOpen(ws);
      else this.lost(ws, ev.code);
    };
  }

  private async hello(ws: SocketLike): Promise<void> {
    const reconnect = this.welcomed;
    try {
      const welcome = await this.request({
        t: 'hello',
        v: PROTOCOL_VERSION,
        device: this.o.device,
        ...(this.lastSeq !== null
          ? {
              resume: {
                lastSeq: this.lastSeq,
                ...(this.chatCursor !== null ? { chatSince: this.chatCursor } : {}),
              },
            }
          : {}),
      });
      if (this.socket !== ws) return;
      if (welcome.chat) this.chatCursor = welcome.chat.cursor;
      // Nothing to replay: continue from the server's head (history comes from the REST API).
      if (welcome.resume === 'expired' && this.lastSeq !== null && this.lastSeq < welcome.lastSeq) {
        this.emit('gap', { after: this.lastSeq, upTo: welcome.lastSeq });
      }
      if (welcome.resume !== 'resumed' || this.lastSeq === null) this.lastSeq = welcome.lastSeq;
      this.welcomed = true;
      this.greeted = ws;
      this.attempt = 0;
      this.startHeartbeat(ws, welcome.heartbeatMs);
      this.emit('welcome', welcome);
      await this.o.onReady(welcome, reconnect);
      if (this.socket !== ws) return;
      this.to('open');
      this.waiter?.resolve(welcome);
      this.waiter = null;
    } catch (err) {
      if (this.socket !== ws) return;
      const e = err instanceof ParleyError ? err : new ParleyError('internal', String(err));
      if (e.code === 'unsupported_version') return this.terminal(e);
      this.lost(ws, 1006);
    }
  }

  private onFrame(text: string): void {
    let f: {
      t?: unknown;
      re?: unknown;
      data?: unknown;
      code?: string;
      message?: string;
      field?: string;
      presence?: Presence;
      event?: DurableEvent;
    };
    try {
      f = JSON.parse(text) as typeof f;
    } catch {
      return;
    }
    switch (f.t) {
      case 'result':
      case 'pong': {
        const p = this.pending.get(f.re as number);
        if (!p) return;
        this.pending.delete(f.re as number);
        clearTimeout(p.timer);
        p.resolve(f.t === 'pong' ? {} : f.data);
        return;
      }
      case 'error': {
        const e = toError(f.code, f.message ?? 'error', f.field);
        const p = typeof f.re === 'number' ? this.pending.get(f.re) : undefined;
        if (p) {
          this.pending.delete(f.re as number);
          clearTimeout(p.timer);
          p.reject(e);
        } else this.emit('error', e);
        return;
      }
      case 'presence':
        if (f.presence) this.emit('presence', f.presence);
        return;
      case 'event': {
        const e = f.event;
        if (!e || (this.lastSeq !== null && e.seq <= this.lastSeq)) return; // never twice
        this.lastSeq = e.seq;
        this.emit('event', e);
        return;
      }
      default:
        // Chat pushes go to the chat API (it orders and de-duplicates by seq); others are ignored.
        if (typeof f.t === 'string' && f.t.startsWith('chat.')) this.emit('chat', f as unknown as ChatPush);
        else if (typeof f.t === 'string' && f.t.startsWith('call.'))
          this.emit('call', f as unknown as CallServerFrame);
        return; // a push type from a newer server: ignored
    }
  }

  private startHeartbeat(ws: SocketLike, everyMs: number): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      if (this.socket !== ws) return;
      if (Date.now() - this.lastHeard > 2 * everyMs)
        return this.lost(ws, RealtimeCloseCodes.heartbeatTimeout);
      this.request({ t: 'ping' }).catch(() => {});
    }, everyMs);
    (this.heartbeat as { unref?: () => void }).unref?.();
  }

  /** An open socket was lost: reconnect and resume. */
  private lost(ws: SocketLike, code: number): void {
    if (this.socket !== ws) return;
    this.socket = null;
    detach(ws);
    const w = ws as SocketLike & { terminate?: () => void };
    try {
      if (w.terminate) w.terminate();
      else ws.close(4000, 'reconnecting');
    } catch {
      // already closed
    }
    this.stopTimers();
    this.failPending(new ParleyError('unavailable', 'connection lost'));
    if (terminalCloses.has(code)) {
      return this.terminal(
        new ParleyError('session_revoked', 'the server ended this session; sign in again'),
      );
    }
    this.scheduleRetry();
  }

  private async failedToOpen(ws: SocketLike): Promise<void> {
    if (this.socket === ws) this.socket = null;
    detach(ws);
    const e = await this.o.diagnose().catch(() => null);
    if (this._state === 'closed') return;
    if (e) return this.terminal(e);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this._state === 'closed') return;
    this.to(this.welcomed ? 'resuming' : 'connecting');
    const delay = backoffDelay(this.attempt++, this.o.backoff);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this._state !== 'closed') void this.open();
    }, delay);
  }

  private terminal(e: ParleyError): void {
    this.stopTimers();
    this.failPending(e);
    if (this._state !== 'closed') this.to('closed');
    this.emit('error', e);
    this.waiter?.reject(e);
    this.waiter = null;
  }

  private stopTimers(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.retry) clearTimeout(this.retry);
    this.heartbeat = this.retry = null;
  }

  private failPending(e: ParleyError): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(e);
    }
    this.pending.clear();
  }
}

function detach(ws: SocketLike): void {
  ws.onopen = ws.onmessage = null;
  // Not null: closing a socket still connecting reports an error afterwards (Node's ws emits it, and an
  // 'error' event with no listener would throw out of the process).
  ws.onerror = () => {};
  ws.onclose = null;
}
