/**
 * The session's replay against a fake socket and a fake event log whose reads we hold open, so the
 * races of resume are made to happen every time: a live event during the replay, events published out
 * of order, a socket closing mid-replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import type { Duplex } from 'node:stream';
import pino from 'pino';
import type { DurableEvent } from '@parley/protocol';
import { RealtimeSession, type SessionContext } from '../../src/realtime/session.ts';
import { WatcherSets } from '../../src/realtime/watchers.ts';
import { jsonFrame } from '../../src/realtime/wire-frame.ts';
import type { RealtimeConnection } from '../../src/realtime/gateway.ts';

const ev = (seq: number): DurableEvent => ({
  seq,
  kind: 'notice',
  at: new Date(0).toISOString(),
  data: { text: `n${seq}` },
});

function harness(initial: number) {
  const log: DurableEvent[] = Array.from({ length: initial }, (_, i) => ev(i + 1));
  const sent: Array<{
    t: string;
    re?: number;
    event?: DurableEvent;
    data?: { resume?: string };
    code?: string;
  }> = [];
  let gate: Promise<void> | null = null;
  const socket = {
    readyState: 1,
    bufferedAmount: 0,
    send: (f: Buffer | string) => sent.push(JSON.parse(f.toString()) as (typeof sent)[number]),
    close: () => {},
    terminate: () => {},
    ping: () => {},
  };
  const stream = {
    writableLength: 0,
    // A pushed frame: 2- or 4-byte header (these payloads are under 64 KiB), then the JSON.
    write: (wire: Buffer) =>
      sent.push(JSON.parse(wire.subarray(wire[1]! === 126 ? 4 : 2).toString()) as (typeof sent)[number]),
  };
  const conn = {
    id: 7,
    stream: stream as unknown as Duplex,
    principal: {
      kind: 'user',
      id: 'usr_a',
      address: 'a@x.example',
      tenantId: 'ten_a',
      role: 'user',
      sessionId: 'ses_a',
    },
    socket: socket as unknown as WebSocket,
  } as RealtimeConnection;
  const ctx: SessionContext = {
    presence: {
      deviceConnected: () => {},
      deviceDisconnected: () => {},
      publish: () => {
        throw new Error('unused');
      },
      set: () => {
        throw new Error('unused');
      },
      get: (userId) => ({
        userId,
        availability: 'offline',
        activity: 'none',
        manualUntil: null,
        note: null,
        outOfOffice: null,
        since: '',
      }),
    },
    watchers: new WatcherSets<RealtimeSession>(),
    userTenants: { resolve: async () => new Map() },
    events: {
      head: async () => log.length,
      appendedAt: async () => Date.now(),
      // Reads the log as it is when called, then waits for the gate (a slow query).
      after: async (_u, after, limit) => {
        const snapshot = log.filter((e) => e.seq > after).slice(0, limit);
        if (gate) await gate;
        return snapshot;
      },
    },
    limits: {
      maxFrameBytes: 65536,
      maxSubscriptions: 100,
      heartbeatMs: 10_000,
      resumeWindowMs: 60_000,
      resumeMaxEvents: 1000,
      rate: 1000,
      burst: 1000,
      maxBufferedBytes: 1 << 22,
    },
    queuedBytes: { wrote: () => {}, forget: () => {} },
    log: pino({ level: 'silent' }),
    now: Date.now,
  };
  const session = new RealtimeSession(conn, ctx);
  const frame = (o: object) => session.onMessage(Buffer.from(JSON.stringify(o)), false);
  const append = () => {
    const e = ev(log.length + 1);
    log.push(e);
    return e;
  };
  let release: () => void = () => {};
  const hold = () => {
    gate = new Promise<void>((r) => (release = r));
  };
  const open = () => {
    gate = null;
    release();
  };
  const seqs = () => sent.filter((f) => f.t === 'event').map((f) => f.event!.seq);
  const settle = () => new Promise((r) => setTimeout(r, 20));
  return { session, frame, append, hold, open, seqs, settle, sent };
}

test('an event appended and published while the replay reads the log is sent once, after the replayed ones', async () => {
  const h = harness(5);
  h.hold();
  h.frame({ t: 'hello', id: 1, v: 1, resume: { lastSeq: 2 } });
  await h.settle();
  assert.equal(h.session.state, 'resuming');
  const late = h.append(); // committed after the replay's read started
  h.session.deliver(late, jsonFrame({ t: 'event', event: late }));
  h.open();
  await h.settle();
  assert.deepEqual(h.seqs(), [3, 4, 5, 6]);
  assert.equal(h.session.state, 'open');
  assert.equal(h.sent[0]!.data?.resume, 'resumed');
});

test('events published out of order on an open session are filled from the log; the late one is not repeated', async () => {
  const h = harness(2);
  h.frame({ t: 'hello', id: 1, v: 1 });
  await h.settle();
  assert.equal(h.session.state, 'open');
  const e3 = h.append();
  const e4 = h.append();
  h.session.deliver(e4, jsonFrame({ t: 'event', event: e4 }));
  await h.settle();
  h.session.deliver(e3, jsonFrame({ t: 'event', event: e3 }));
  await h.settle();
  assert.deepEqual(h.seqs(), [3, 4]);
  assert.equal(h.session.state, 'open');
});

test('a fresh hello (no resume) starts from the head; live events follow in order', async () => {
  const h = harness(4);
  h.frame({ t: 'hello', id: 1, v: 1 });
  await h.settle();
  for (let i = 0; i < 3; i++) {
    const e = h.append();
    h.session.deliver(e, jsonFrame({ t: 'event', event: e }));
  }
  await h.settle();
  assert.deepEqual(h.seqs(), [5, 6, 7]);
});

test('a session closed during the replay sends nothing more and releases its watcher entry', async () => {
  const h = harness(3);
  h.hold();
  h.frame({ t: 'hello', id: 1, v: 1, resume: { lastSeq: 0 } });
  await h.settle();
  h.session.closed(1006);
  h.open();
  await h.settle();
  assert.deepEqual(h.seqs(), []);
  assert.equal(h.session.state, 'closed');
});

test('a hello that cannot read the event log is answered with a coded error and the socket is closed', async () => {
  const h = harness(0);
  const closed: number[] = [];
  (h.session.conn.socket as unknown as { close: (c: number) => void }).close = (c) => closed.push(c);
  (h.session as unknown as { ctx: SessionContext }).ctx.events.head = async () => {
    throw new Error('database is gone');
  };
  h.frame({ t: 'hello', id: 1, v: 1 });
  await h.settle();
  assert.deepEqual(closed, [1011]);
  assert.deepEqual(
    h.sent.map((f) => [f.t, f.code]),
    [['error', 'internal']],
  );
});
