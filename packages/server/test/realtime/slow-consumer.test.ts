/**
 * Clients that stop reading, with real sockets paused by the client: a resume replays its backlog as
 * fast as the client reads (back-pressure), not all at once; a live socket that stops reading is cut
 * once its queue passes PARLEY_REALTIME_MAX_BUFFERED while its user's other socket gets everything; and
 * past PARLEY_REALTIME_MAX_QUEUED in total the slowest consumer is cut first. Server memory stays bounded.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { trustedScope } from '../../src/directory/scope.ts';
import { makeTenant, makeUser, startServer, type TestServer, type TenantFixture } from '../helpers/server.ts';
import { waitFor } from './clients.ts';

const BOUND = 64 * 1024;
/** Large notices, so kernel socket buffers fill in a few hundred events. */
const TEXT = 'x'.repeat(32 * 1024);
const FRAME = TEXT.length + 200;

interface Client {
  ws: WebSocket;
  seqs: number[];
  closed: Promise<number>;
}

/** A raw realtime socket that says hello (optionally resuming) and records the events pushed to it. */
async function connect(s: TestServer, token: string, resume?: number): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${s.app.config.port}/api/realtime`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const seqs: number[] = [];
  let welcomed!: () => void;
  const welcome = new Promise<void>((r) => (welcomed = r));
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString()) as { t: string; re?: number; event?: { seq: number } };
    if (f.t === 'event') seqs.push(f.event!.seq);
    if (f.t === 'result' && f.re === 1) welcomed();
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r) => ws.once('open', r));
  ws.send(
    JSON.stringify({
      t: 'hello',
      id: 1,
      v: 1,
      ...(resume !== undefined ? { resume: { lastSeq: resume } } : {}),
    }),
  );
  if (resume === undefined) await welcome;
  return { ws, seqs, closed };
}

/**
 * Appends a large notice for `userId`, then lets the event loop turn (SQLite commits synchronously, so a
 * loop of appends would otherwise never let sockets write, drain or close).
 */
async function notice(s: TestServer, tenantId: string, userId: string): Promise<void> {
  await s.app.events.append(trustedScope(tenantId), userId, 'notice', { text: TEXT, from: null });
  await new Promise((r) => setImmediate(r));
}

/** Bytes the server holds unsent for `userId`'s connections now. */
const queuedFor = (s: TestServer, userId: string) =>
  [...s.app.realtime.sessionsOf(userId)].reduce((n, x) => n + x.conn.stream.writableLength, 0);

describe('slow consumers', () => {
  let s: TestServer;
  let t: TenantFixture;
  before(async () => {
    s = await startServer('sqlite', { realtimeMaxBuffered: BOUND, realtimeResumeMaxEvents: 5000 });
    t = await makeTenant(s, 'slow');
  });
  after(() => s.close());

  test('a resume replays a backlog far larger than the bound as fast as the client reads, without dropping it', async () => {
    const u = await makeUser(s, t.id, `backlog@${t.domain}`);
    const N = 300; // about 10 MB
    for (let i = 0; i < N; i++) await notice(s, t.id, u.id);
    const c = await connect(s, u.token, 0);
    c.ws.pause(); // the client stops reading its socket at once
    const session = await waitFor(
      () => [...s.app.realtime.sessionsOf(u.id)].find((x) => x.conn.stream.writableNeedDrain),
      5000,
      'the replay to wait for the client',
    );
    assert.equal(session.state, 'resuming');
    assert.ok(queuedFor(s, u.id) <= BOUND + FRAME, `${queuedFor(s, u.id)} bytes queued`);
    c.ws.resume();
    await waitFor(() => (c.seqs.length === N ? true : undefined), 20_000, `${N} events`);
    assert.deepEqual(
      c.seqs,
      Array.from({ length: N }, (_, i) => i + 1),
    );
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    c.ws.close();
  });

  test("a socket that stops reading is cut once its queue passes the bound; the user's other socket gets every event", async () => {
    const u = await makeUser(s, t.id, `stalled@${t.domain}`);
    const reader = await connect(s, u.token);
    const stalled = await connect(s, u.token);
    stalled.ws.pause();
    let sent = 0;
    let most = 0;
    for (; sent < 2000 && s.app.realtime.sessionsOf(u.id).size === 2;) {
      await notice(s, t.id, u.id);
      sent++;
      most = Math.max(most, queuedFor(s, u.id));
    }
    assert.equal(s.app.realtime.sessionsOf(u.id).size, 1, `still 2 sessions after ${sent} events`);
    assert.ok(most <= BOUND + 2 * FRAME, `the server held at most ${most} bytes for the user`);
    stalled.ws.resume();
    assert.equal(await stalled.closed, 1006, 'the stalled socket was cut');
    await waitFor(() => (reader.seqs.length === sent ? true : undefined), 10_000, `${sent} events`);
    assert.deepEqual(
      reader.seqs,
      Array.from({ length: sent }, (_, i) => i + 1),
    );
    reader.ws.close();
  });
});

describe('the process-wide bound on queued bytes', () => {
  let s: TestServer;
  let t: TenantFixture;
  const TOTAL = 256 * 1024;
  before(async () => {
    // Each connection alone could queue 4 MiB; together they may queue only TOTAL.
    s = await startServer('sqlite', { realtimeMaxQueued: TOTAL });
    t = await makeTenant(s, 'queued');
  });
  after(() => s.close());

  test('past the bound the slowest consumer is cut first, the others keep theirs, and the total stays bounded', async () => {
    const [slowest, slow, healthy] = await Promise.all(
      ['slowest', 'slow', 'healthy'].map((n) => makeUser(s, t.id, `${n}@${t.domain}`)),
    );
    const a = await connect(s, slowest!.token);
    const b = await connect(s, slow!.token);
    const c = await connect(s, healthy!.token);
    a.ws.pause();
    b.ws.pause();
    let most = 0;
    const total = () => {
      const n = s.app.realtime.queuedBytes.bytes;
      most = Math.max(most, n);
      return n;
    };
    // The slowest fills its kernel buffers, then queues in the server to about half the bound.
    for (let i = 0; i < 2000 && queuedFor(s, slowest!.id) < TOTAL / 2; i++) {
      await notice(s, t.id, slowest!.id);
      total();
    }
    assert.ok(queuedFor(s, slowest!.id) >= TOTAL / 2, 'the first consumer is backlogged');
    // Now the second one falls behind too, until the total passes the bound.
    for (let i = 0; i < 2000 && s.app.realtime.sessionsOf(slowest!.id).size === 1; i++) {
      await notice(s, t.id, slow!.id);
      total();
    }
    assert.equal(s.app.realtime.sessionsOf(slowest!.id).size, 0, 'the slowest consumer was cut');
    assert.equal(s.app.realtime.sessionsOf(slow!.id).size, 1, 'the less slow one was not');
    assert.ok(most <= TOTAL + FRAME, `at most ${most} bytes queued in all`);
    // A consumer that reads is untouched.
    for (let i = 0; i < 5; i++) await notice(s, t.id, healthy!.id);
    await waitFor(() => (c.seqs.length === 5 ? true : undefined), 5000, 'the healthy consumer');
    a.ws.resume();
    assert.equal(await a.closed, 1006);
    b.ws.resume();
    await waitFor(() => (b.seqs.length > 0 ? true : undefined), 10_000, 'the less slow one catches up');
    b.ws.close();
    c.ws.close();
  });
});
