/** SIP over TCP on 127.0.0.1: framing across chunks, keep-alives, idle close, limits, answers on the same connection. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { createResponse, SipEndpoint, StreamFramer, type SipResponse } from '../src/index.ts';

const open: SipEndpoint[] = [];
after(async () => {
  for (const e of open.splice(0)) await e.close();
});

async function server(opts: { idleTimeoutMs?: number; maxConnectionsPerAddress?: number } = {}) {
  const ep = new SipEndpoint({
    advertisedAddress: '127.0.0.1',
    user: { onRequest: (tx) => tx.respond(createResponse(tx.request, 200)) },
  });
  open.push(ep);
  const t = await ep.listenTcp('127.0.0.1', 0, opts);
  return { ep, port: t.localPort, transport: t };
}

function client(port: number) {
  const framer = new StreamFramer();
  const got: SipResponse[] = [];
  let raw = '';
  let closed = false;
  const sock: Socket = connect({ port, host: '127.0.0.1' });
  sock.on('data', (d) => {
    raw += d.toString();
    for (const ev of framer.push(d)) if (ev.kind === 'message') got.push(ev.message as SipResponse);
  });
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  return {
    sock,
    got,
    get raw() {
      return raw;
    },
    get closed() {
      return closed;
    },
    ready: new Promise<void>((r) => sock.once('connect', () => r())),
  };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await wait(10);
  assert.ok(cond(), 'condition not reached in time');
}

const options = (n: number) =>
  `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKtcp${n}\r\nMax-Forwards: 70\r\n` +
  `From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: tcp-${n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 4\r\n\r\nbody`;

describe('TCP transport', () => {
  test('messages split across chunks and packed together are framed by Content-Length', async () => {
    const { port } = await server();
    const c = client(port);
    await c.ready;
    const all = options(1) + options(2) + options(3);
    for (let i = 0; i < all.length; i += 7) {
      c.sock.write(all.slice(i, i + 7));
      if (i % 70 === 0) await wait(1);
    }
    await until(() => c.got.length === 3);
    assert.deepEqual(
      c.got.map((r) => r.get('call-id')),
      ['tcp-1', 'tcp-2', 'tcp-3'],
    );
    c.sock.destroy();
  });

  test('a CRLF CRLF ping gets a CRLF pong (RFC 5626 section 4.4.1)', async () => {
    const { port } = await server();
    const c = client(port);
    await c.ready;
    c.sock.write('\r\n\r\n');
    await until(() => c.raw === '\r\n');
    c.sock.destroy();
  });

  test('an idle connection is closed; a half-sent message does not keep it open', async () => {
    const { port } = await server({ idleTimeoutMs: 200 });
    const c = client(port);
    await c.ready;
    c.sock.write('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\n');
    await until(() => c.closed, 2000);
  });

  test('a missing Content-Length is answered with 400 and the connection closed', async () => {
    const { port } = await server();
    const c = client(port);
    await c.ready;
    c.sock.write(options(4).replace('Content-Length: 4\r\n', ''));
    await until(() => c.closed);
    assert.deepEqual(
      c.got.map((r) => r.status),
      [400],
    );
  });

  test('an endless header section is cut off at the limit, not buffered forever', async () => {
    const { port } = await server();
    const c = client(port);
    await c.ready;
    c.sock.write('OPTIONS sip:a@b SIP/2.0\r\n');
    const junk = 'X-Junk: ' + 'y'.repeat(1000) + '\r\n';
    for (let i = 0; i < 40 && !c.closed; i++) {
      c.sock.write(junk);
      await wait(2);
    }
    await until(() => c.closed);
  });

  test('connections per address are limited', async () => {
    const { port, transport } = await server({ maxConnectionsPerAddress: 2 });
    const cs = [client(port), client(port), client(port)];
    await Promise.all(cs.map((c) => c.ready));
    await until(() => cs.filter((c) => c.closed).length === 1);
    assert.equal(transport.connectionCount, 2);
    for (const c of cs) c.sock.destroy();
  });
});
