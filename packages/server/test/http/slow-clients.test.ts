/**
 * Slow and greedy clients at the HTTP edge, on real sockets from several loopback addresses: a client
 * trickling its body or its headers is cut at the timeout while others are served; an idle kept-alive
 * connection is closed; one address cannot hold more connections or unfinished body bytes than its share,
 * and the server as a whole not more than its budget.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { makeTenant, startServer, type Overrides, type TestServer } from '../helpers/server.ts';

/** A raw TCP client from a chosen source address that records what it receives and when it is closed. */
class RawClient {
  readonly socket: net.Socket;
  received = '';
  readonly opened = Date.now();
  readonly closed: Promise<number>;
  readonly connected: Promise<void>;

  constructor(port: number, from: string) {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    this.socket.on('data', (d: Buffer) => (this.received += d.toString('utf8')));
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      this.socket.once('close', () => resolve(Date.now() - this.opened)),
    );
    this.connected = new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }

  write(s: string): void {
    if (!this.socket.destroyed) this.socket.write(s);
  }

  /** Resolves once a complete response (by Content-Length) has arrived; returns it. */
  async response(timeoutMs = 3000): Promise<{ status: number; body: unknown; raw: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/.exec(this.received);
      if (m) {
        const len = Number(/content-length: *(\d+)/i.exec(m[2]!)?.[1] ?? 0);
        const start = m.index + m[0].length;
        if (Buffer.byteLength(this.received.slice(start)) >= len) {
          const text = this.received.slice(start, start + len);
          const raw = this.received;
          this.received = this.received.slice(start + len);
          return { status: Number(m[1]), body: text ? JSON.parse(text) : undefined, raw };
        }
      }
      if (Date.now() > deadline)
        throw new Error(`no complete response; got ${JSON.stringify(this.received)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

const codeOf = (body: unknown) => (body as { error?: { code?: string } } | undefined)?.error?.code;
const healthRequest = 'GET /api/health HTTP/1.1\r\nHost: parley\r\n\r\n';
const bodyHeaders = (length: number) =>
  `POST /api/auth/login HTTP/1.1\r\nHost: parley\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

/** A server for the enclosing suite, and raw clients to it that are closed with it. */
function serverForSuite(overrides: Overrides) {
  let s: TestServer;
  const clients: RawClient[] = [];
  before(async () => {
    s = await startServer('sqlite', overrides);
  });
  after(async () => {
    clients.forEach((c) => c.close());
    await s.close();
  });
  return {
    server: () => s,
    raw(from: string) {
      const c = new RawClient(s.app.config.port, from);
      clients.push(c);
      return c;
    },
  };
}

describe('slow clients are cut at the timeouts', { timeout: 30_000 }, () => {
  const headersTimeoutMs = 300;
  const requestTimeoutMs = 600;
  const idleTimeoutMs = 300;
  const { server, raw } = serverForSuite({
    httpHeadersTimeoutMs: headersTimeoutMs,
    httpRequestTimeoutMs: requestTimeoutMs,
    httpIdleTimeoutMs: idleTimeoutMs,
  });

  test('a body sent a byte at a time from 127.0.0.2 is cut with a coded 408 while 127.0.0.3 is served', async () => {
    const loris = raw('127.0.0.2');
    await loris.connected;
    loris.write(bodyHeaders(10_000));
    let sent = 0;
    const drip = setInterval(() => {
      loris.write(' ');
      sent++;
    }, 20);
    try {
      // Meanwhile a normal client is served at once.
      const normal = raw('127.0.0.3');
      normal.write(healthRequest);
      assert.equal((await normal.response()).status, 200);
      const lived = await loris.closed;
      assert.ok(lived >= requestTimeoutMs - 50, `cut too early (${lived} ms)`);
      assert.ok(
        lived < requestTimeoutMs + 2000,
        `lived ${lived} ms, the request timeout is ${requestTimeoutMs}`,
      );
      assert.ok(sent < 10_000);
      assert.match(loris.received, /^HTTP\/1\.1 408 /);
      assert.match(loris.received, /"code":"request_timeout"/);
    } finally {
      clearInterval(drip);
    }
  });

  test('headers that never finish are cut after the headers timeout', async () => {
    const halfOpen = raw('127.0.0.2');
    await halfOpen.connected;
    halfOpen.write('GET /api/health HTTP/1.1\r\nHost: parl');
    const lived = await halfOpen.closed;
    assert.ok(lived < headersTimeoutMs + 1500, `lived ${lived} ms`);
    assert.match(halfOpen.received, /"code":"request_timeout"/);
  });

  test('a kept-alive connection with no next request is closed after the idle timeout', async () => {
    const c = raw('127.0.0.2');
    c.write(healthRequest);
    assert.equal((await c.response()).status, 200);
    const lived = await c.closed;
    assert.ok(lived < idleTimeoutMs + 1500, `lived ${lived} ms`);
  });

  test('a WebSocket outlives the request and idle timeouts', async () => {
    const t = await makeTenant(server(), 'slow');
    // The upgrade itself must arrive within the (here very short) request timeout; on a loaded machine
    // its sign-in check may not, so the socket is opened again until it is open.
    let ws: WebSocket | undefined;
    for (let attempt = 0; !ws; attempt++) {
      const next = new WebSocket(`ws://127.0.0.1:${server().app.config.port}/api/realtime`, {
        headers: { authorization: `Bearer ${t.user.token}` },
      });
      const opened = await new Promise<boolean>((resolve) =>
        next.once('open', () => resolve(true)).once('error', () => resolve(false)),
      );
      if (opened) ws = next;
      else assert.ok(attempt < 5, 'the realtime connection never opened');
    }
    let closedAt: number | null = null;
    ws.once('close', () => (closedAt = Date.now()));
    // Three request timeouts without a byte from the client.
    await new Promise((r) => setTimeout(r, requestTimeoutMs * 3));
    assert.equal(closedAt, null, 'the realtime connection was cut by an HTTP timeout');
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
  });
});

describe('one address cannot hold more than its share', { timeout: 30_000 }, () => {
  const { raw } = serverForSuite({
    httpMaxConnectionsPerAddress: 3,
    bodyLimit: 16_384,
    httpBodyBudgetPerAddress: 32_768,
    httpBodyBudget: 65_536,
    deckMaxBytes: 65_536,
  });

  test('the 4th connection from 127.0.0.2 is refused with a coded 429; 127.0.0.3 is served; a freed slot is reused', async () => {
    const held: RawClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = raw('127.0.0.2');
      c.write(healthRequest); // kept alive: the connection stays open and counted
      assert.equal((await c.response()).status, 200);
      held.push(c);
    }
    const fourth = raw('127.0.0.2');
    fourth.write(healthRequest);
    const refused = await fourth.response();
    assert.equal(refused.status, 429);
    assert.equal(codeOf(refused.body), 'too_many_connections');
    await fourth.closed;

    const other = raw('127.0.0.3');
    other.write(healthRequest);
    assert.equal((await other.response()).status, 200);

    held[0]!.close();
    // The server sees the close a moment later; until then a new connection may still be refused.
    for (let attempt = 0; ; attempt++) {
      const again = raw('127.0.0.2');
      again.write(healthRequest);
      const r = await again.response();
      if (r.status === 200) break;
      assert.equal(codeOf(r.body), 'too_many_connections');
      assert.ok(attempt < 50, 'a freed connection slot was never reused');
      await again.closed;
    }
  });

  test('unfinished bodies: past the per-address share 429, past the process-wide budget 503, freed when a body completes', async () => {
    const pending = (from: string) => {
      const c = raw(from);
      c.write(bodyHeaders(16_384) + '{"address":');
      return c;
    };
    /** Three 16 KiB bodies from one address: two fit its 32 KiB share, so exactly one is refused. */
    const fillShare = async (from: string) => {
      const three = [pending(from), pending(from), pending(from)];
      let i = -1;
      for (let waited = 0; i < 0; waited += 10) {
        assert.ok(waited < 3000, 'none of three bodies was refused');
        await new Promise((r) => setTimeout(r, 10));
        i = three.findIndex((c) => c.received.length > 0);
      }
      const refused = await three[i]!.response();
      assert.equal(refused.status, 429);
      assert.equal(codeOf(refused.body), 'rate_limited');
      return three.filter((_, j) => j !== i);
    };
    const fromA = await fillShare('127.0.0.5');
    await fillShare('127.0.0.6'); // now 64 KiB in flight: the process-wide budget
    const plain = raw('127.0.0.7');
    plain.write(healthRequest);
    assert.equal((await plain.response()).status, 200, 'a request without a body is still served');
    const full = await pending('127.0.0.7').response();
    assert.equal(full.status, 503);
    assert.equal(codeOf(full.body), 'unavailable');

    // One body completes (a sign-in body without a password): its bytes are free again.
    fromA[0]!.write('"x"}'.padEnd(16_384 - '{"address":'.length, ' '));
    assert.equal((await fromA[0]!.response()).status, 400);
    for (let attempt = 0; ; attempt++) {
      const c = raw('127.0.0.7');
      c.write(bodyHeaders(2) + '{}');
      const r = await c.response();
      if (r.status === 400 && codeOf(r.body) === 'validation_failed') break;
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.ok(attempt < 50, 'the completed body never gave its bytes back');
    }
  });
});
