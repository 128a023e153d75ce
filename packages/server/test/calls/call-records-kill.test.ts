/**
 * `kill -9` the server mid-call, on both engines: a real `parley serve` process, two raw realtime
 * clients (alice places a call to bob, bob answers), the process killed while they talk, a new one
 * started on the same data folder or database. The call's record is closed (`failed`, at its last-alive
 * time), its duration is no longer than the call was (from bob's answer to the kill) and at most the
 * alive interval shorter, and both histories show it, with each user's `call.ended` event.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { CallHistoryPage, DurableEvent } from '@parley/protocol';
import { Http } from '../helpers/http.ts';
import { engines } from '../helpers/server.ts';
import { createPgDatabase } from '../helpers/pg.ts';
import { DEMO_PASSWORD, serveProcess } from '../helpers/serve-process.ts';

/** A minimal WebRTC audio description (ICE credentials and a DTLS fingerprint, RFC 8839, RFC 8122). */
const sdp = (type: 'offer' | 'answer') => ({
  type,
  sdp: [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${type === 'offer' ? 'kill' : 'kila'}`,
    'a=ice-pwd:killkillkillkillkillkill',
    'a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
    `a=setup:${type === 'offer' ? 'actpass' : 'active'}`,
    'a=mid:0',
    'a=sendrecv',
    'a=rtpmap:111 opus/48000/2',
    '',
  ].join('\r\n'),
});

type Frame = { t: string; re?: number; call?: { id: string; state: string }; data?: unknown };

/** A raw realtime client: frames as they come, and a wait for the first that matches. */
async function client(url: string, token: string) {
  const ws = new WebSocket(url.replace(/^http/, 'ws') + '/api/realtime', {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: Frame[] = [];
  const waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString()) as Frame;
    frames.push(f);
    for (const w of [...waiters])
      if (w.match(f)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(f);
      }
  });
  // Closed by the kill: nothing to report.
  ws.on('error', () => {});
  const next = (match: (f: Frame) => boolean) =>
    new Promise<Frame>((resolve) => {
      const seen = frames.find(match);
      if (seen) resolve(seen);
      else waiters.push({ match, resolve });
    });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1, device: { kind: 'bot' } }));
  await next((f) => f.t === 'result' && f.re === 1);
  return { ws, next, send: (f: object) => ws.send(JSON.stringify(f)) };
}

const ALIVE_MS = 300;

for (const engine of engines) {
  describe(`kill -9 mid-call (${engine})`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-call-kill-'));
    let drop: (() => Promise<void>) | undefined;
    const children: ChildProcess[] = [];
    after(async () => {
      for (const c of children) c.kill('SIGKILL');
      await drop?.();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('the record is closed after the restart, never longer than the call was', async () => {
      const env: Record<string, string> = {
        PARLEY_DATA_DIR: dataDir,
        PARLEY_CALL_RECORD_ALIVE_MS: String(ALIVE_MS),
      };
      if (engine === 'postgres') {
        const db = await createPgDatabase();
        drop = db.drop;
        env.PARLEY_DATABASE_URL = db.url;
      }
      const first = serveProcess(env);
      children.push(first.child);
      const url = await first.url;
      let http = new Http(url);
      const signIn = async (name: string) => {
        const r = await http.post('/api/auth/login', {
          address: `${name}@contoso.example`,
          password: DEMO_PASSWORD,
        });
        assert.equal(r.status, 200, r.text);
        const j = r.json as { accessToken: string; user: { id: string } };
        return { id: j.user.id, token: j.accessToken };
      };
      const alice = await signIn('alice');
      const bob = await signIn('bob');
      const a = await client(url, alice.token);
      const b = await client(url, bob.token);

      a.send({ t: 'call.place', id: 2, to: { userId: bob.id }, video: false, offer: sdp('offer') });
      const incoming = await b.next((f) => f.t === 'call.incoming');
      const callId = incoming.call!.id;
      const answerSent = Date.now();
      b.send({ t: 'call.answer', id: 2, callId, answer: sdp('answer') });
      const answered = await b.next((f) => f.re === 2);
      assert.equal(answered.t, 'result', JSON.stringify(answered));
      await a.next((f) => f.t === 'call.update' && f.call?.state === 'connected');

      // They talk for a few alive intervals (the server's own timer, in its own process: no clock to inject).
      await new Promise((r) => setTimeout(r, ALIVE_MS * 4 + 100));
      first.child.kill('SIGKILL');
      const killedAt = Date.now();
      await new Promise((r) => first.child.once('exit', r));

      const second = serveProcess(env);
      children.push(second.child);
      http = new Http(await second.url);
      // Tokens outlive the restart (sessions and the signing key are stored).
      const historyOf = async (u: { token: string }) => {
        const r = await http.get('/api/calls/history', { token: u.token });
        assert.equal(r.status, 200, r.text);
        return (r.json as CallHistoryPage).calls.find((c) => c.callId === callId);
      };
      const trueSeconds = (killedAt - answerSent) / 1000;
      for (const [u, direction] of [
        [alice, 'outgoing'],
        [bob, 'incoming'],
      ] as const) {
        const entry = await historyOf(u);
        assert.ok(entry, `the call is in ${direction === 'outgoing' ? "alice's" : "bob's"} history`);
        assert.equal(entry.direction, direction);
        assert.equal(entry.disposition, 'answered');
        assert.equal(entry.endReason, 'failed');
        assert.ok(entry.endedAt, 'the record is closed');
        const ended = Date.parse(entry.endedAt);
        assert.ok(ended <= killedAt, 'it ended no later than the kill');
        assert.ok(ended >= killedAt - ALIVE_MS - 1000, 'at its last-alive time, within an interval');
        assert.ok(entry.durationSeconds <= trueSeconds, 'never longer than the call was');
        assert.ok(
          Date.parse(entry.endedAt) - Date.parse(entry.answeredAt!) >= ALIVE_MS * 3,
          'the alive refreshes kept most of the call',
        );
        const events = await http.get('/api/me/events?after=0', { token: u.token });
        const ends = (events.json as { events: DurableEvent[] }).events.filter(
          (e) => e.kind === 'call.ended' && e.data.callId === callId,
        );
        assert.equal(ends.length, 1, 'one call.ended event each');
      }
      second.child.kill('SIGTERM');
    });
  });
}
