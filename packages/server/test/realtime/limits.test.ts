/**
 * Greedy realtime clients: one user's token cannot open sockets without bound (the next upgrade is
 * refused with a code while other users still connect), and no extension (permessage-deflate) is ever
 * negotiated, since pushes are written pre-framed to the raw stream.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { makeTenant, startServer, type TestServer, type TenantFixture } from '../helpers/server.ts';
import { closeClients, rawSocket, waitFor } from './clients.ts';

const PER_USER = 3;

/** Tries an upgrade; resolves with the open socket, or the refusal's status, headers and body. */
interface Refusal {
  status: number;
  retryAfter: string | undefined;
  body: { error: { code: string; message: string } };
}

function upgrade(s: TestServer, token: string) {
  return new Promise<{ ws: WebSocket } | Refusal>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.app.config.port}/api/realtime`, {
      headers: { authorization: `Bearer ${token}` },
    });
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'],
          body: JSON.parse(text) as { error: { code: string; message: string } },
        }),
      );
    });
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe('realtime limits', () => {
  let s: TestServer;
  let t: TenantFixture;
  const opened: WebSocket[] = [];
  before(async () => {
    s = await startServer('sqlite', { realtimeMaxPerUser: PER_USER });
    t = await makeTenant(s, 'limits');
  });
  afterEach(() => {
    for (const ws of opened.splice(0)) ws.terminate();
    closeClients();
  });
  after(() => s.close());

  test('one user gets at most PARLEY_REALTIME_MAX_PER_USER sockets; the next is refused with 429 too_many_connections; others still connect', async () => {
    // Opened at once, as a greedy client would: the cap holds for upgrades still in flight.
    const first = await Promise.all(Array.from({ length: PER_USER + 2 }, () => upgrade(s, t.user.token)));
    const accepted = first.filter((r): r is { ws: WebSocket } => 'ws' in r);
    const refused = first.filter((r): r is Refusal => !('ws' in r));
    for (const r of accepted) opened.push(r.ws);
    assert.equal(accepted.length, PER_USER);
    assert.equal(refused.length, 2);
    for (const r of refused) {
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, 'too_many_connections');
      assert.equal(r.retryAfter, '5');
    }
    // Another user of the same tenant is not affected.
    const other = await upgrade(s, t.admin.token);
    assert.ok('ws' in other, 'another user connects');
    opened.push(other.ws);
    // Closing one of the user's sockets frees its slot.
    opened[0]!.close();
    await waitFor(
      () => (s.app.gateway.connectionsOf(t.user.id).size < PER_USER ? true : undefined),
      2000,
      'slot freed',
    );
    const again = await upgrade(s, t.user.token);
    assert.ok('ws' in again, 'a freed slot is usable');
    opened.push(again.ws);
  });

  test('permessage-deflate is never negotiated, even when the client offers it', async () => {
    const { ws, frames } = await rawSocket(s, t.user.token); // ws offers permessage-deflate by default
    opened.push(ws);
    assert.equal(ws.extensions, '');
    ws.send(JSON.stringify({ t: 'hello', id: 1, v: 1 }));
    await waitFor(() => frames.find((f) => f.t === 'result' && f.re === 1), 2000, 'welcome');
  });
});
