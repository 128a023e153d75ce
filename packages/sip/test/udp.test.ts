/** SIP over UDP on 127.0.0.1: garbage never crashes, keep-alives are ignored, names are never resolved. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createResponse, SipEndpoint, TransportError } from '../src/index.ts';

const open: SipEndpoint[] = [];
after(async () => {
  for (const e of open.splice(0)) await e.close();
});

test('garbage, keep-alives and a valid OPTIONS on one socket: only the OPTIONS is answered', async () => {
  const ep = new SipEndpoint({
    advertisedAddress: '127.0.0.1',
    user: { onRequest: (tx) => tx.respond(createResponse(tx.request, 200)) },
  });
  open.push(ep);
  const udp = await ep.listenUdp('127.0.0.1', 0);
  const s = createSocket('udp4');
  const got: string[] = [];
  s.on('message', (m) => got.push(m.toString().split('\r\n')[0]!));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const send = (d: Buffer | string) =>
    s.send(typeof d === 'string' ? Buffer.from(d) : d, udp.localPort, '127.0.0.1');
  send('\r\n\r\n');
  send(Buffer.from([0, 1, 2, 255, 254, 13, 10]));
  send('SIP/2.0 200 OK\r\n\r\n');
  send(
    'OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKudp1\r\nMax-Forwards: 70\r\n' +
      'From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: udp-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
  );
  try {
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(got, ['SIP/2.0 200 OK']);
    assert.equal(ep.stats.parseErrors, 1, 'the binary garbage');
    assert.equal(ep.stats.invalid, 1, 'the response without Via');
  } finally {
    s.close();
  }
});

test('a destination that is a host name is refused, not resolved', async () => {
  const ep = new SipEndpoint({ advertisedAddress: '127.0.0.1', user: { onRequest() {} } });
  open.push(ep);
  const udp = await ep.listenUdp('127.0.0.1', 0);
  assert.throws(
    () => udp.send(Buffer.from('x'), { protocol: 'UDP', address: 'localhost', port: 9 }),
    TransportError,
  );
});
