/**
 * The app's session: one `ParleyClient` for the page, its sign-in state and its connection state, as
 * an external store React reads with `useSyncExternalStore`. Tokens live in the browser's token store,
 * so a reload starts signed in (the stored user shows at once; the connection then confirms the
 * session). When the server ends the session (expired, revoked, disabled), the state turns signed-out
 * with the sentence the sign-in screen shows.
 */
import { ParleyClient, ParleyError, type ConnectionState } from '@parley/sdk';
import type { User } from '@parley/protocol';
import { browserTokenStore, watchOtherTabs } from './token-store.ts';
import { errorSentence } from '../errors/messages.ts';
import { testSettings } from '../calls/test-hooks.ts';

export type SessionState =
  | { status: 'signed-out'; /** Why, when the server ended the session. */ reason: string | null }
  | { status: 'signed-in'; user: User };

export interface SessionSnapshot {
  session: SessionState;
  connection: ConnectionState;
  /** True once the link has been open since sign-in (a drop after that shows the reconnect banner). */
  wasOpen: boolean;
}

type Listener = () => void;

/** How long without input before this device reports itself idle (the server then shows Away). */
export const IDLE_AFTER_MS = 5 * 60_000;

export class Session {
  readonly client: ParleyClient;
  private snap: SessionSnapshot;
  private readonly listeners = new Set<Listener>();
  private stopIdle: (() => void) | null = null;

  constructor(baseUrl: string) {
    this.client = new ParleyClient({
      baseUrl,
      tokenStore: browserTokenStore,
      device: { id: deviceId(), kind: 'web' },
      // A person waits for the app to come back: retry sooner than the SDK's 30 s ceiling.
      backoff: { baseMs: 500, maxMs: 8_000 },
      // The TURN test forces calls through the relay (calls/test-hooks.ts); users never set this.
      webrtc: { iceTransportPolicy: testSettings.iceTransportPolicy },
    });
    const user = this.client.signedIn ? this.client.user : null;
    this.snap = {
      session: user ? { status: 'signed-in', user } : { status: 'signed-out', reason: null },
      connection: this.client.state,
      wasOpen: false,
    };
    this.client.on('state', (connection) =>
      this.set({ connection, wasOpen: this.snap.wasOpen || connection === 'open' }),
    );
    this.client.on('session.ended', (err) => this.ended(err));
    watchOtherTabs((signedIn) => {
      // Another tab signed out: this one follows. Another signed in: reload to pick up its session.
      if (!signedIn && this.snap.session.status === 'signed-in') this.ended(null);
      if (signedIn && this.snap.session.status === 'signed-out') location.reload();
    });
  }

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getSnapshot = (): SessionSnapshot => this.snap;

  /** Signs in; rejects with a coded error (shown with `errorSentence`). */
  async signIn(address: string, password: string): Promise<void> {
    const user = await this.client.signIn(address, password);
    this.set({ session: { status: 'signed-in', user }, wasOpen: false });
    this.start();
  }

  /** Connects after sign-in or a reload with a stored session. */
  start(): void {
    if (this.snap.session.status !== 'signed-in') return;
    if (this.client.state !== 'closed') return;
    this.client.connect().then(
      () => {
        this.stopIdle ??= this.client.presence.trackIdle(undefined, IDLE_AFTER_MS);
      },
      (err: unknown) => {
        if (err instanceof ParleyError && err.status === 401) this.ended(err);
      },
    );
  }

  async signOut(): Promise<void> {
    this.stopIdle?.();
    this.stopIdle = null;
    await this.client.signOut();
    this.set({ session: { status: 'signed-out', reason: null }, wasOpen: false });
  }

  /**
   * Reports an error from any request: a 401 means the session is over (the client's tokens no longer
   * work), which returns the app to sign-in with the reason. Returns the sentence to show otherwise.
   */
  failed(err: unknown): string {
    if (err instanceof ParleyError && err.status === 401 && err.code !== 'invalid_credentials') {
      this.ended(err);
    }
    return errorSentence(err);
  }

  private ended(err: ParleyError | null): void {
    this.stopIdle?.();
    this.stopIdle = null;
    if (this.client.state !== 'closed') this.client.disconnect();
    // The client may still hold tokens when the ending came from a request rather than the SDK itself.
    if (this.client.signedIn) void this.client.signOut();
    this.set({
      session: { status: 'signed-out', reason: err ? errorSentence(err) : null },
      wasOpen: false,
    });
  }

  private set(patch: Partial<SessionSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    for (const l of this.listeners) l();
  }
}

/** Each tab is one device (its presence is its own); a reload keeps the tab's id. */
function deviceId(): string {
  const KEY = 'parley.device';
  try {
    const have = sessionStorage.getItem(KEY);
    if (have) return have;
    const id = crypto.randomUUID().replace(/-/g, '');
    sessionStorage.setItem(KEY, id);
    return id;
  } catch {
    return crypto.randomUUID().replace(/-/g, '');
  }
}
