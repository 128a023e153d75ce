/**
 * RFC 3261 section 18 over real sockets on 127.0.0.1: where responses go (the sent-by port unless
 * the client asked for rport, section 18.2.2 and RFC 3581), a lost stream reopened to the sent-by
 * port (never to the peer's ephemeral port), and a request over 1,300 bytes moved from UDP to TCP
 * with its Via saying so (section 18.1.1).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  createResponse,
  headerFields,
  type Peer,
  SipEndpoint,
  SipRequest,
  type SipResponse,
  parseMessage,
  StreamFramer,
  type ServerTransaction,
} from '../src/index.ts';

const open: Array<{ close(): unknown }> = [];
after(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  for (let t = 0; t < ms && !cond(); t += 10) await wait(10);
  assert.ok(cond(), 'condition not reached in time');
}

async function udpSocket(): Promise<{ sock: UdpSocket; port: number; got: string[] }> {
  const sock = createSocket('udp4');
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  open.push({ close: () => new Promise<void>((r) => sock.close(() => r())) });
  return { sock, port: sock.address().port, got };
}

const options = (transport: string, sentBy: string, branch: string) =>
  `OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${transport} ${sentBy};branch=${branch}\r\n` +
  `Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:a@127.0.0.1>\r\nCall-ID: ${branch}\r\n` +
  'CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';

function answering(onRequest?: (tx: ServerTransaction) => void) {
  const ep = new SipEndpoint({
    advertisedAddress: '127.0.0.1',
    user: { onRequest: onRequest ?? ((tx) => tx.respond(createResponse(tx.request, 200))) },
  });
  open.push(ep);
  return ep;
}

describe('responses over UDP (RFC 3261 section 18.2.2, RFC 3581)', () => {
  test('without rport, the response goes to the sent-by port, not to the source port', async () => {
    const udp = await answering().listenUdp('127.0.0.1', 0);
    const sender = await udpSocket();
    const listener = await udpSocket();
    sender.sock.send(
      options('UDP', `127.0.0.1:${listener.port}`, 'z9hG4bK-sentby'),
      udp.localPort,
      '127.0.0.1',
    );
    await until(() => listener.got.length === 1);
    assert.match(listener.got[0]!, /^SIP\/2\.0 200 /);
    await wait(100);
    assert.deepEqual(sender.got, [], 'nothing to the source port');
  });

  test('with rport, it goes back to the source address and port', async () => {
    const udp = await answering().listenUdp('127.0.0.1', 0);
    const sender = await udpSocket();
    const listener = await udpSocket();
    sender.sock.send(
      options('UDP', `127.0.0.1:${listener.port};rport`, 'z9hG4bK-rport'),
      udp.localPort,
      '127.0.0.1',
    );
    await until(() => sender.got.length === 1);
    const res = parseMessage(Buffer.from(sender.got[0]!)) as SipResponse;
    assert.equal(res.topVia.rport, sender.port);
    assert.deepEqual(listener.got, []);
  });

  test('a sent-by without a port means 5060 at the source address (received), never the named host', async () => {
    const sent: Peer[] = [];
    const ep = answering();
    const udp = await ep.listenUdp('127.0.0.1', 0);
    const send = udp.send.bind(udp);
    udp.send = (data, dest) => (sent.push(dest), send(data, dest));
    const sender = await udpSocket();
    sender.sock.send(options('UDP', 'phone.example.com', 'z9hG4bK-noport'), udp.localPort, '127.0.0.1');
    await until(() => sent.length === 1);
    assert.deepEqual(sent[0], { protocol: 'UDP', address: '127.0.0.1', port: 5060 });
  });
});

describe('responses over TCP when the connection is gone (section 18.2.2)', () => {
  test('the response opens a new connection to the Via sent-by port, not to the ephemeral port', async () => {
    let pending: ServerTransaction | undefined;
    const ep = answering((tx) => (pending = tx));
    const tcp = await ep.listenTcp('127.0.0.1', 0);
    // The client's own listening port, named in its Via.
    const received: string[] = [];
    const accepted: Socket[] = [];
    const listening: Server = createServer((s) => {
      accepted.push(s);
      const framer = new StreamFramer();
      s.on('data', (d) => {
        for (const ev of framer.push(d)) if (ev.kind === 'message') received.push(ev.message.toString());
      });
    });
    await new Promise<void>((r) => listening.listen(0, '127.0.0.1', () => r()));
    open.push({
      close: () =>
        new Promise<void>((r) => {
          for (const s of accepted) s.destroy();
          listening.close(() => r());
        }),
    });
    const sentByPort = (listening.address() as { port: number }).port;
    const client = connect({ port: tcp.localPort, host: '127.0.0.1' });
    const onEphemeral: Buffer[] = [];
    client.on('data', (d) => onEphemeral.push(d));
    await new Promise<void>((r) => client.once('connect', () => r()));
    client.write(options('TCP', `127.0.0.1:${sentByPort}`, 'z9hG4bK-reopen'));
    await until(() => pending !== undefined);
    client.destroy();
    await until(() => tcp.connectionCount === 0);
    pending!.respond(createResponse(pending!.request, 200));
    await until(() => received.length === 1);
    assert.match(received[0]!, /^SIP\/2\.0 200 /);
    assert.deepEqual(onEphemeral, []);
  });
});

describe('requests over 1,300 bytes (section 18.1.1)', () => {
  async function pair() {
    const got: Array<{ transport: string; via: string; size: number }> = [];
    const b = answering((tx) => {
      got.push({
        transport: tx.peer.protocol,
        via: tx.request.getAll('via')[0]!,
        size: tx.request.body.length,
      });
      tx.respond(createResponse(tx.request, 200));
    });
    const bUdp = await b.listenUdp('127.0.0.1', 0);
    await b.listenTcp('127.0.0.1', bUdp.localPort);
    const a = answering();
    await a.listenUdp('127.0.0.1', 0);
    const aTcp = await a.listenTcp('127.0.0.1', 0);
    return { a, aTcp, dest: { protocol: 'UDP', address: '127.0.0.1', port: bUdp.localPort } as Peer, got };
  }

  const message = (bodyBytes: number) =>
    new SipRequest(
      'MESSAGE',
      'sip:b@127.0.0.1',
      headerFields([
        ['Max-Forwards', 70],
        ['From', '<sip:a@127.0.0.1>;tag=a'],
        ['To', '<sip:b@127.0.0.1>'],
        ['Call-ID', `big-${bodyBytes}`],
        ['CSeq', '1 MESSAGE'],
        ['Content-Type', 'text/plain'],
        ['Content-Length', bodyBytes],
      ]),
      Buffer.alloc(bodyBytes, 'x'),
    );

  test('a 2,000-byte request addressed over UDP goes over TCP, its Via saying TCP; a small one stays on UDP', async () => {
    const { a, aTcp, dest, got } = await pair();
    const statuses: number[] = [];
    const tu = { onResponse: (r: SipResponse) => void statuses.push(r.status) };
    const big = message(2000 - 250);
    a.sendRequest(big, dest, tu);
    assert.ok(big.serialize().length >= 2000, `${big.serialize().length} bytes`);
    a.sendRequest(message(100), dest, tu);
    await until(() => statuses.length === 2);
    assert.deepEqual(statuses, [200, 200]);
    const bySize = new Map(got.map((g) => [g.size, g]));
    assert.equal(bySize.get(1750)!.transport, 'TCP');
    assert.match(bySize.get(1750)!.via, new RegExp(`^SIP/2\\.0/TCP 127\\.0\\.0\\.1:${aTcp.localPort};`));
    assert.equal(bySize.get(100)!.transport, 'UDP');
    assert.match(bySize.get(100)!.via, /^SIP\/2\.0\/UDP /);
  });
});
