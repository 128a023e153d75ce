/**
 * `ParleyClient`: the one object an application holds. Sign in (tokens are refreshed before they
 * expire), connect the realtime link (reconnects with backoff and resumes), publish and watch presence,
 * manage contacts, and listen to typed events. Works in browsers (global `WebSocket` and `fetch`) and in
 * Node 20 (`ws`, loaded on demand, or any WebSocket constructor given in the options).
 *
 * ```ts
 * const client = new ParleyClient({ baseUrl: 'https://parley.example' });
 * await client.signIn('alice@contoso.example', password);
 * client.on('presence', (p) => render(p));
 * await client.connect();
 * await client.presence.subscribe(contactIds);
 * await client.presence.set({ manual: { availability: 'busy', until: inOneHour } });
 * ```
 */
import {
  ParleyError,
  type DurableEvent,
  type LoginResponse,
  type Presence,
  type User,
  type Welcome,
} from '@parley/protocol';
import { TypedEmitter } from './typed-emitter.ts';
import { RestClient, type FetchLike } from './rest-client.ts';
import { RealtimeLink, type ConnectionState, type SocketFactory, type SocketLike } from './realtime-link.ts';
import { PresenceApi } from './presence-api.ts';
import { ContactsApi } from './contacts-api.ts';
import { DirectoryApi } from './directory-api.ts';
import { ChatApi, type ChatEvents } from './chat-api.ts';
import { AdminApi } from './admin-api.ts';
import { OperatorApi } from './operator-api.ts';
import { CallsApi } from './calls-api.ts';
import { TelephonyApi } from './telephony-api.ts';
import { EmergencyApi } from './emergency-api.ts';
import { resolveWebRtc, type WebRtcOptions } from './call-webrtc.ts';
import { defaultBackoff, type BackoffOptions } from './backoff.ts';

/** A WebSocket constructor: the browser's, Node 22's, or `ws`'s. */
export type WebSocketConstructor = new (url: string) => unknown;

export interface ParleyClientOptions {
  /** The server's base URL, such as https://parley.example. */
  baseUrl: string;
  /** Defaults to the global WebSocket, else the `ws` package (Node), which sends the token as a header. */
  WebSocket?: WebSocketConstructor;
  /** Advanced: how to open the socket (tests use this to pick a source address). */
  socketFactory?: SocketFactory;
  fetch?: FetchLike;
  device?: { id?: string; kind?: 'web' | 'desktop' | 'mobile' | 'bot' | 'other' };
  backoff?: BackoffOptions;
  requestTimeoutMs?: number;
  /**
   * Where the session's tokens are kept between page loads (a browser's localStorage), shared by every
   * client of the same store: a refresh takes the store's lock and first looks whether another holder
   * (another tab) has refreshed already, since presenting a rotated-away refresh token ends the session.
   */
  tokenStore?: TokenStore;
  /**
   * The WebRTC stack for calls: default, the browser's `RTCPeerConnection` and
   * `navigator.mediaDevices.getUserMedia`; in Node, werift's `RTCPeerConnection` and a media source.
   */
  webrtc?: WebRtcOptions;
}

/** A session's tokens as a `TokenStore` keeps them. */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string | null;
  /** Epoch ms at which the access token expires. */
  expiresAt: number;
  user: User | null;
}

/** Keeps tokens across page loads and between the tabs of one browser. */
export interface TokenStore {
  load(): StoredTokens | null;
  /** null: signed out. */
  save(tokens: StoredTokens | null): void;
  /** Runs `fn` while no other holder of the store runs one (browsers: the Web Locks API). */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
}

export interface ClientEvents extends Record<string, unknown[]> {
  state: [ConnectionState];
  /** A watched user's presence changed (or was re-sent after a reconnection). */
  presence: [Presence];
  /** A durable event (notice, contact list change; chat and calls later), once each, in order. */
  event: [DurableEvent];
  /** After each (re)connection: whether missed events were replayed ('resumed') or must be refetched ('expired'). */
  welcome: [Welcome];
  /** Durable events in (after, upTo] were not replayed (resume expired): fetch them with `eventsAfter`. */
  gap: [{ after: number; upTo: number }];
  error: [ParleyError];
  /**
   * The session is over (it expired, was revoked or the user disabled): a refresh was refused or the
   * realtime link was closed for it. The client holds no tokens any more; sign in again.
   */
  'session.ended': [ParleyError];
  /** Chat: a message (new, edited, deleted), in seq order per conversation, once each. */
  'chat.message': [ChatEvents['message']];
  /** Chat: a member is typing, or stopped (`typing` false, sent by the server when it expires). */
  'chat.typing': [ChatEvents['typing']];
  /** Chat: a member's read or delivered position moved. */
  'chat.receipt': [ChatEvents['receipt']];
  /** Chat: a conversation was renamed or its members changed. */
  'chat.conversation': [ChatEvents['conversation']];
}

/** Refresh the access token when it has less than this left. */
const REFRESH_MARGIN_MS = 30_000;

export class ParleyClient extends TypedEmitter<ClientEvents> {
  readonly rest: RestClient;
  readonly presence: PresenceApi;
  readonly contacts: ContactsApi;
  readonly directory: DirectoryApi;
  readonly chat: ChatApi;
  /** A tenant admin's calls (users, keys, licences, wallet, audit); the server refuses others with 403. */
  readonly admin: AdminApi;
  /** The operator's calls (tenants, plans, decks, wallets, approvals, audit). */
  readonly operator: OperatorApi;
  /** The phone network: trunks and numbers (operator), the tenant's numbers and dial plan, your number. */
  readonly telephony: TelephonyApi;
  /** Emergency calls (tenant admin): sites, users' locations, the callback number. */
  readonly emergency: EmergencyApi;
  /** Calls between users: place, answer, hang up, history (calls-api.ts). */
  readonly calls: CallsApi;
  private readonly link: RealtimeLink;
  private accessToken: string | null = null;
  /** Why the server ended the last session (a later connect says so rather than "sign in first"). */
  private endedBy: ParleyError | null = null;
  private refreshToken: string | null = null;
  private expiresAt = 0;
  private refreshing: Promise<void> | null = null;
  private me: User | null = null;

  constructor(private readonly opts: ParleyClientOptions) {
    super();
    const stored = opts.tokenStore?.load();
    if (stored) this.adopt(stored);
    // Bound: a browser's fetch called as a method of another object throws "Illegal invocation".
    const fetchFn = opts.fetch ?? (globalThis.fetch?.bind(globalThis) as unknown as FetchLike | undefined);
    if (!fetchFn) throw new ParleyError('unavailable', 'no fetch: pass one in the options');
    this.rest = new RestClient(opts.baseUrl, fetchFn, () =>
      this.accessToken ? this.freshToken() : Promise.resolve(null),
    );
    this.contacts = new ContactsApi(this.rest);
    this.directory = new DirectoryApi(this.rest);
    this.admin = new AdminApi(this.rest);
    this.operator = new OperatorApi(this.rest);
    this.telephony = new TelephonyApi(this.rest);
    this.emergency = new EmergencyApi(this.rest);
    const wsUrl = new URL('/api/realtime', opts.baseUrl);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    this.link = new RealtimeLink({
      url: wsUrl.toString(),
      socketFactory: () => this.socketFactory(),
      token: () => this.freshToken(),
      diagnose: () => this.diagnose(),
      // A refused re-subscription (a limit lowered meanwhile) must not make the link reconnect forever.
      onReady: (w, reconnect) =>
        this.presence.restore(w.userId, reconnect).catch((err: unknown) => {
          if (err instanceof ParleyError && err.code !== 'unavailable') this.emit('error', err);
        }),
      device: { id: opts.device?.id ?? randomId(), kind: opts.device?.kind ?? 'other' },
      backoff: opts.backoff ?? defaultBackoff,
      requestTimeoutMs: opts.requestTimeoutMs ?? 15_000,
    });
    this.presence = new PresenceApi(this.link, (p) => this.emit('presence', p), this.rest);
    this.link.on('presence', (p) => this.presence.received(p));
    this.chat = new ChatApi(
      this.rest,
      this.link,
      (kind, e) => (this.emit as (k: string, v: unknown) => void)(`chat.${kind}`, e),
      opts.backoff ?? defaultBackoff,
      () => this.freshToken(),
    );
    this.link.on('chat', (f) => this.chat.received(f));
    this.calls = new CallsApi(this.rest, this.link, resolveWebRtc(opts.webrtc), () => this.me?.id ?? null);
    this.link.on('call', (f) => this.calls.received(f));
    this.link.on('event', (e) => {
      this.calls.event(e);
      this.emit('event', e);
    });
    this.link.on('state', (s) => {
      if (s === 'closed') this.calls.closed();
      else if (s === 'resuming') this.calls.suspended();
      this.emit('state', s);
    });
    this.link.on('welcome', (w) => {
      this.chat.resumed(w);
      this.calls.resumed(w);
      this.emit('welcome', w);
    });
    this.link.on('gap', (g) => this.emit('gap', g));
    this.link.on('error', (e) => {
      this.emit('error', e);
      if (e.status === 401) this.ended(e);
    });
  }

  /** Whether the client holds a session (signed in, or tokens from its store). */
  get signedIn(): boolean {
    return this.accessToken !== null;
  }

  /** The signed-in user. */
  get user(): User | null {
    return this.me;
  }

  get state(): ConnectionState {
    return this.link.state;
  }

  /** The highest durable event seq processed (what a resume continues from). */
  get lastEventSeq(): number | null {
    return this.link.lastEventSeq;
  }

  // --- sign-in ---

  async signIn(address: string, password: string): Promise<User> {
    const r = await this.rest.request<LoginResponse>(
      'POST',
      '/api/auth/login',
      { address, password },
      { auth: false },
    );
    this.useTokens(r);
    return r.user;
  }

  /** Uses tokens obtained elsewhere (a login page, a test fixture). */
  useTokens(t: { accessToken: string; refreshToken?: string | null; expiresIn?: number; user?: User }): void {
    this.endedBy = null;
    this.accessToken = t.accessToken;
    this.refreshToken = t.refreshToken ?? this.refreshToken;
    this.expiresAt = Date.now() + (t.expiresIn ?? 900) * 1000;
    if (t.user) this.me = t.user;
    this.opts.tokenStore?.save({
      accessToken: this.accessToken,
      refreshToken: this.refreshToken,
      expiresAt: this.expiresAt,
      user: this.me,
    });
  }

  private adopt(t: StoredTokens): void {
    this.accessToken = t.accessToken;
    this.refreshToken = t.refreshToken;
    this.expiresAt = t.expiresAt;
    this.me = t.user ?? this.me;
  }

  /** Drops the tokens after the server ended the session, and says so once. */
  private ended(err: ParleyError): void {
    if (!this.accessToken) return;
    this.endedBy = err;
    this.accessToken = this.refreshToken = null;
    this.opts.tokenStore?.save(null);
    this.emit('session.ended', err);
  }

  /** Exchanges the refresh token for new tokens (one at a time, however many callers ask). */
  refresh(): Promise<void> {
    const store = this.opts.tokenStore;
    const run = async () => {
      // Another tab may have rotated the token while this one waited for the lock: use its tokens.
      const stored = store?.load();
      if (stored?.refreshToken && stored.refreshToken !== this.refreshToken) {
        this.adopt(stored);
        if (stored.expiresAt - Date.now() >= REFRESH_MARGIN_MS) return;
      }
      if (!this.refreshToken) throw new ParleyError('unauthorized', 'no refresh token: sign in again');
      try {
        const r = await this.rest.request<LoginResponse>(
          'POST',
          '/api/auth/refresh',
          { refreshToken: this.refreshToken },
          { auth: false },
        );
        this.useTokens(r);
      } catch (err) {
        if (err instanceof ParleyError && err.status === 401) this.ended(err);
        throw err;
      }
    };
    this.refreshing ??= (async () => {
      try {
        await (store?.exclusive ? store.exclusive(run) : run());
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** Signs out: the session, its tokens and connections end. */
  async signOut(): Promise<void> {
    this.disconnect();
    if (this.accessToken) await this.rest.request('POST', '/api/auth/logout').catch(() => {});
    this.accessToken = this.refreshToken = null;
    this.opts.tokenStore?.save(null);
  }

  // --- realtime ---

  /** Connects (retrying with backoff); resolves at the first welcome. */
  connect(): Promise<Welcome> {
    if (!this.accessToken)
      return Promise.reject(this.endedBy ?? new ParleyError('unauthorized', 'sign in first'));
    return this.link.connect();
  }

  /** Disconnects on purpose: this device leaves presence at once. */
  disconnect(): void {
    this.link.close();
  }

  /** Drops the connection as a network failure would; the client reconnects and resumes. */
  simulateNetworkDrop(): void {
    this.link.drop();
  }

  /** Sends raw text on the socket (for tests of the server's handling of bad frames). */
  sendRawFrame(text: string): void {
    this.link.sendRaw(text);
  }

  /** Durable events after `after` from the REST API (when a resume has expired). */
  eventsAfter(after: number, limit = 100): Promise<{ events: DurableEvent[]; lastSeq: number }> {
    return this.rest.request('GET', `/api/me/events?after=${after}&limit=${limit}`);
  }

  private async freshToken(): Promise<string> {
    if (this.refreshToken && this.expiresAt - Date.now() < REFRESH_MARGIN_MS) await this.refresh();
    if (!this.accessToken) throw new ParleyError('unauthorized', 'sign in first');
    return this.accessToken;
  }

  /** Why a socket did not open: a terminal error, or null to retry (network, expired token). */
  private async diagnose(): Promise<ParleyError | null> {
    try {
      await this.rest.request('GET', '/api/me');
      return null;
    } catch (err) {
      if (!(err instanceof ParleyError)) return null;
      if (err.code === 'token_expired') {
        this.expiresAt = 0; // refreshed before the next attempt
        return this.refreshToken ? null : err;
      }
      return err.status === 401 || err.status === 403 ? err : null;
    }
  }

  private factory: Promise<SocketFactory> | null = null;

  private socketFactory(): Promise<SocketFactory> {
    this.factory ??= makeSocketFactory(this.opts);
    return this.factory;
  }
}

async function makeSocketFactory(o: ParleyClientOptions): Promise<SocketFactory> {
  if (o.socketFactory) return o.socketFactory;
  const Ctor = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  // Browsers cannot set headers on a WebSocket: the token goes in the query string.
  if (Ctor) return (url, token) => new Ctor(`${url}?access_token=${encodeURIComponent(token)}`) as SocketLike;
  const name = 'ws'; // a variable, so browser bundlers do not try to include the Node package
  const mod = (await import(/* @vite-ignore */ name)) as {
    default: new (url: string, opts: { headers: Record<string, string> }) => unknown;
  };
  return (url, token) =>
    new mod.default(url, { headers: { authorization: `Bearer ${token}` } }) as SocketLike;
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return (c?.randomUUID?.() ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`).replace(
    /[^A-Za-z0-9_-]/g,
    '',
  );
}
