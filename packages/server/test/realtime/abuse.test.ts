/**
 * Hostile and broken clients: malformed, binary, oversized and unknown frames get coded errors; a
 * flooding client is throttled, then disconnected; huge subscriptions are refused with a code; silent
 * and unauthenticated sockets are cut. After each, the server still serves everyone else.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { makeTenant, makeUser, startServer, type TestServer, type TenantFixture } from '../helpers/server.ts';
import { closeClients, makeClient, rawSocket, waitFor } from './clients.ts';

const MAX_FRAME = 4096;

describe('realtime abuse', () => {
  let s: TestServer;
  let t: TenantFixture;
  before(async () => {
    s = await startServer('sqlite', {
      realtimeMaxFrame: MAX_FRAME,
      realtimeRate: 20,
      realtimeBurst: 40,
      realtimeMaxSubscriptions: 50,
      realtimeHeartbeatMs: 300,
    });
    t = await makeTenant(s, 'abuse');
  });
  afterEach(() => closeClients());
  after(() => s.close());

  /** The server still answers: a fresh client connects and pings. */
  async function alive(): Promise<void> {
    const c = makeClient(s, t.admin);
    await c.client.connect();
    await c.client.presence.subscribe([t.user.id]);
    c.client.disconnect();
  }

  const errorFor = (frames: Array<Record<string, unknown>>, i: number) =>
    waitFor(() => frames.filter((f) => f.t === 'error')[i], 2000, `error #${i}`);

  test('malformed, binary, unknown and invalid frames each get a coded error; the connection stays usable', async () => {
    const { ws, frames } = await rawSocket(s, t.user.token);
    ws.send('{"t":"hello", this is not json');
    assert.equal((await errorFor(frames, 0)).code, 'malformed_json');
    ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
    assert.equal((await errorFor(frames, 1)).code, 'unsupported_media_type');
    ws.send(JSON.stringify({ t: 'presence.subscribe', id: 5, userIds: ['x'] }));
    const early = await errorFor(frames, 2);
    assert.deepEqual([early.code, early.re], ['hello_required', 5]);
    ws.send(JSON.stringify({ t: 'hello', id: 6, v: 99 }));
    assert.equal((await errorFor(frames, 3)).code, 'unsupported_version');
    ws.send(JSON.stringify({ t: 'teleport', id: 7 }));
    const unknown = await errorFor(frames, 4);
    assert.deepEqual([unknown.code, unknown.re], ['validation_failed', 7]);
    ws.send(JSON.stringify({ t: 'hello', id: 8, v: 1, extra: true }));
    assert.equal((await errorFor(frames, 5)).code, 'validation_failed');
    ws.send('null');
    assert.equal((await errorFor(frames, 6)).code, 'validation_failed');
    ws.send(JSON.stringify({ t: 'hello', id: 9, v: 1 }));
    await waitFor(() => frames.find((f) => f.t === 'result' && f.re === 9), 2000, 'welcome');
    ws.send(JSON.stringify({ t: 'hello', id: 10, v: 1 }));
    assert.equal((await errorFor(frames, 7)).code, 'conflict');
    ws.send(JSON.stringify({ t: 'presence.publish', id: 11, state: { availability: 'sleepy' } }));
    const bad = await errorFor(frames, 8);
    assert.deepEqual([bad.code, bad.field], ['validation_failed', 'state.availability']);
    ws.send(JSON.stringify({ t: 'ping', id: 12 }));
    await waitFor(() => frames.find((f) => f.t === 'pong' && f.re === 12), 2000, 'pong');
    ws.close();
    await alive();
  });

  test('an oversized frame gets payload_too_large (answering its request id); a far larger one closes that socket with 1009', async () => {
    const { ws, frames, closed } = await rawSocket(s, t.user.token);
    ws.send(JSON.stringify({ t: 'ping', id: 1, pad: 'x'.repeat(MAX_FRAME) }));
    const tooBig = await errorFor(frames, 0);
    assert.deepEqual([tooBig.code, tooBig.re], ['payload_too_large', 1]);
    ws.send(JSON.stringify({ t: 'hello', id: 2, v: 1 }));
    await waitFor(
      () => frames.find((f) => f.t === 'result' && f.re === 2),
      2000,
      'welcome after the refusal',
    );
    ws.send('x'.repeat(MAX_FRAME * 16 + 1));
    assert.equal(await closed, 1009);
    await alive();
  });

  test('a flooding client is throttled with rate_limited, then disconnected with 4029', async () => {
    const { ws, frames, closed } = await rawSocket(s, t.user.token);
    ws.send(JSON.stringify({ t: 'hello', id: 0, v: 1 }));
    await waitFor(() => frames.find((f) => f.t === 'result' && f.re === 0), 2000, 'welcome');
    for (let i = 1; i <= 400 && ws.readyState === WebSocket.OPEN; i++)
      ws.send(JSON.stringify({ t: 'ping', id: i }));
    assert.equal(await closed, 4029);
    const errors = frames.filter((f) => f.t === 'error');
    assert.ok(errors.length >= 1 && errors.every((e) => e.code === 'rate_limited'), JSON.stringify(errors));
    // One notice per throttling episode, not one per dropped frame (a stalled server may refill between reads).
    assert.ok(errors.length <= 5, `${errors.length} notices`);
    const pongs = frames.filter((f) => f.t === 'pong').length;
    assert.ok(pongs >= 30 && pongs <= 200, `${pongs} pings answered (burst 40, then 20/s)`);
    await alive();
  });

  test('huge subscriptions are refused with a code: over 500 ids per frame, over the per-connection limit', async () => {
    const c = makeClient(s, t.user);
    await c.client.connect();
    const ids = Array.from({ length: 501 }, (_, i) => `u${i}`);
    // Straight through the link: the SDK's own subscribe would split the list into frames of 500.
    await assert.rejects(c.client['link'].request({ t: 'presence.subscribe', userIds: ids }), {
      code: 'validation_failed',
    });
    await assert.rejects(c.client.presence.subscribe(ids.slice(0, 60)), { code: 'limit_exceeded' });
    const users = await Promise.all(
      Array.from({ length: 3 }, (_, i) => makeUser(s, t.id, `sub${i}@${t.domain}`)),
    );
    const ok = await c.client.presence.subscribe(users.map((u) => u.id));
    assert.equal(ok.presences.length, 3);
    await alive();
  });

  test('a socket that never says hello is closed; one that goes silent is dropped; an idle one that answers pings stays', async () => {
    const idle = await rawSocket(s, t.user.token);
    idle.ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1 }));
    const { closed } = await rawSocket(s, t.user.token);
    assert.equal(await closed, 1008);
    // autoPong off: this client neither sends frames nor answers the server's pings.
    const ws = new WebSocket(`ws://127.0.0.1:${s.app.config.port}/api/realtime`, {
      headers: { authorization: `Bearer ${t.user.token}` },
      autoPong: false,
    });
    const gone = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1 }));
    const started = Date.now();
    assert.equal(await gone, 1006);
    assert.ok(Date.now() - started >= 300, 'not before the heartbeat timeout');
    // Sends nothing after hello, but its WebSocket layer answers the server's pings, as browsers do.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(idle.ws.readyState, WebSocket.OPEN);
    idle.ws.close();
  });

  test('no token, a bad token, a revoked session: refused at the upgrade or cut, with codes', async () => {
    const upgrade = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${s.app.config.port}/api/realtime`, { headers });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
    assert.equal(await upgrade({}), 401);
    assert.equal(await upgrade({ authorization: 'Bearer not.a-token' }), 401);

    const u = await makeUser(s, t.id, `revoked@${t.domain}`);
    const c = makeClient(s, u);
    await c.client.connect();
    const out = await s.http.post('/api/auth/logout', undefined, { token: u.token });
    assert.equal(out.status, 204);
    await waitFor(() => (c.client.state === 'closed' ? true : undefined), 2000, 'closed');
    assert.ok(c.errors.includes('session_revoked'), c.errors.join());
    // The SDK gives up on a revoked session rather than retrying forever.
    await assert.rejects(c.client.connect(), { code: 'session_revoked' });
    await alive();
  });
});
