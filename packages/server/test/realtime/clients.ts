/**
 * SDK clients for realtime tests: each signed in with a fixture token, reconnecting fast, with a switch
 * that makes reconnection attempts fail (the network is "down") until turned back on, and recorders that
 * wait for a pushed presence or event.
 */
import WebSocket from 'ws';
import { ParleyClient, type SocketLike } from '@parley/sdk';
import type { DurableEvent, Presence, Welcome } from '@parley/protocol';
import type { TestServer } from '../helpers/server.ts';

export interface TestClient {
  client: ParleyClient;
  presences: Presence[];
  events: DurableEvent[];
  welcomes: Welcome[];
  errors: string[];
  /** While false, new sockets fail to connect (an unreachable port). */
  network: { up: boolean };
  /** Resolves with the first pushed presence (already received or later) matching `pred`. */
  waitPresence(pred: (p: Presence) => boolean, timeoutMs?: number): Promise<Presence>;
  waitEvents(count: number, timeoutMs?: number): Promise<DurableEvent[]>;
  waitWelcome(count: number, timeoutMs?: number): Promise<Welcome>;
}

const open: ParleyClient[] = [];

export function makeClient(s: TestServer, user: { token: string }, deviceId?: string): TestClient {
  const network = { up: true };
  const client = new ParleyClient({
    baseUrl: s.url,
    backoff: { baseMs: 20, maxMs: 100 },
    requestTimeoutMs: 5000,
    device: { id: deviceId, kind: 'bot' },
    socketFactory: (url, token) =>
      (network.up
        ? new WebSocket(url, { headers: { authorization: `Bearer ${token}` } })
        : new WebSocket('ws://127.0.0.1:9/unreachable')) as unknown as SocketLike,
  });
  client.useTokens({ accessToken: user.token, expiresIn: 900 });
  const tc: TestClient = {
    client,
    presences: [],
    events: [],
    welcomes: [],
    errors: [],
    network,
    waitPresence: (pred, timeoutMs = 3000) => waitFor(() => tc.presences.find(pred), timeoutMs, 'presence'),
    waitEvents: (count, timeoutMs = 3000) =>
      waitFor(() => (tc.events.length >= count ? tc.events : undefined), timeoutMs, `${count} events`),
    waitWelcome: (count, timeoutMs = 3000) =>
      waitFor(() => tc.welcomes[count - 1], timeoutMs, `welcome #${count}`),
  };
  client.on('presence', (p) => tc.presences.push(p));
  client.on('event', (e) => tc.events.push(e));
  client.on('welcome', (w) => tc.welcomes.push(w));
  client.on('error', (e) => tc.errors.push(e.code));
  open.push(client);
  return tc;
}

/** Disconnects every client made so far. */
export function closeClients(): void {
  for (const c of open.splice(0)) c.disconnect();
}

/** Polls `get` until it returns something (bounded). */
export async function waitFor<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw WebSocket to the realtime endpoint with a frame log, for tests of malformed input. */
export async function rawSocket(
  s: TestServer,
  token: string,
): Promise<{ ws: WebSocket; frames: Array<Record<string, unknown>>; closed: Promise<number> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${s.app.config.port}/api/realtime`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, closed };
}

/**
 * Resolves once the server has answered a ping on `c`'s connection. Pushes and answers share one
 * ordered stream, so any push the server wrote before it has arrived by then: a test that something was
 * not pushed waits for this instead of sleeping.
 */
export async function roundTrip(c: TestClient): Promise<void> {
  await c.client['link'].request({ t: 'ping' });
}
