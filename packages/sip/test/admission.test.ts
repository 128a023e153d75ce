/**
 * The pre-parse admission hook: every transport asks it, with the source address, port, transport
 * and size, before parsing; a refused datagram is never parsed or answered, and a refused stream
 * source cannot keep a connection.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { createResponse, SipEndpoint, type TransportProtocol } from '../src/index.ts';

const open: SipEndpoint[] = [];
after(async () => {
  for (const e of open.splice(0)) await e.close();
});

const options = (n: number) =>
  Buffer.from(
    `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKadm${n}\r\nMax-Forwards: 70\r\n` +
      `From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: adm-${n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  );

function endpoint(refused: string) {
  const calls: Array<[string, number, TransportProtocol, number]> = [];
  const ep = new SipEndpoint({
    advertisedAddress: '127.0.0.1',
    user: { onRequest: (tx) => tx.respond(createResponse(tx.request, 200)) },
    admission: (address, port, protocol, bytes) => {
      calls.push([address, port, protocol, bytes]);
      return address !== refused;
    },
  });
  open.push(ep);
  return { ep, calls };
}

async function udpAnswers(from: string, port: number, data: Buffer): Promise<string[]> {
  const s = createSocket('udp4');
  const got: string[] = [];
  s.on('message', (m) => got.push(m.toString().split('\r\n')[0]!));
  await new Promise<void>((r) => s.bind(0, from, () => r()));
  s.send(data, port, '127.0.0.1');
  for (let i = 0; i < 50 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  await new Promise<void>((r) => s.close(() => r()));
  return got;
}

test('UDP: a refused source is not parsed nor answered; an admitted one is, and the hook saw both', async () => {
  const { ep, calls } = endpoint('127.0.0.2');
  const udp = await ep.listenUdp('127.0.0.1', 0);
  assert.deepEqual(await udpAnswers('127.0.0.2', udp.localPort, options(1)), []);
  assert.equal(ep.stats.received, 0, 'never reached the parser');
  assert.equal(ep.stats.notAdmitted, 1);
  assert.deepEqual(await udpAnswers('127.0.0.1', udp.localPort, options(2)), ['SIP/2.0 200 OK']);
  assert.deepEqual(
    calls.map(([a, , p, n]) => [a, p, n]),
    [
      ['127.0.0.2', 'UDP', options(1).length],
      ['127.0.0.1', 'UDP', options(2).length],
    ],
  );
  assert.ok(calls.every(([, port]) => port > 0));
});

test('TCP: a connection from a refused source is closed at once and nothing it sends is answered', async () => {
  const { ep } = endpoint('127.0.0.2');
  const tcp = await ep.listenTcp('127.0.0.1', 0);
  const got: Buffer[] = [];
  const closed = await new Promise<boolean>((resolve) => {
    const sock = connect({ port: tcp.localPort, host: '127.0.0.1', localAddress: '127.0.0.2' }, () =>
      sock.write(options(3)),
    );
    sock.on('data', (d) => got.push(d));
    sock.on('error', () => {});
    sock.on('close', () => resolve(true));
    setTimeout(() => (sock.destroy(), resolve(false)), 2000).unref();
  });
  assert.equal(closed, true);
  assert.equal(got.length, 0);
  assert.equal(ep.stats.received, 0);
  assert.ok(ep.stats.notAdmitted >= 1);
});
