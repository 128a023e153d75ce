/**
 * SIP over WebSocket (RFC 7118) with SIP.js from npm as the browser softphone (in Node, `ws` as its
 * WebSocket, a stub session-description handler): OPTIONS, and an INVITE dialog (INVITE, 200, ACK,
 * BYE) with a user-agent core served at /sip of a plain HTTP server; a client without the `sip`
 * subprotocol is refused; the admission hook is asked before the handshake.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import WebSocket from 'ws';
import { type InviteSession, SipEndpoint, UserAgentCore, type WsTransport } from '../src/index.ts';
import { SessionState, sipjsCall, sipjsOptions, sipjsPeer, STUB_SDP } from './sipjs-peer.ts';

const open: Array<{ stop?(): unknown; close?(): unknown }> = [];
after(async () => {
  for (const c of open.splice(0).reverse()) await (c.stop ?? c.close)!.call(c);
});

/** An HTTP server that hands upgrades at /sip to the WebSocket transport, and 404s other paths. */
async function httpWithSip(
  attach: (port: number) => WsTransport,
): Promise<{ port: number; ws: WsTransport }> {
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as { port: number }).port;
  const ws = attach(port);
  http.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === '/sip') ws.handleUpgrade(req, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
  });
  open.push({ close: () => new Promise<void>((r) => (http.closeAllConnections(), http.close(() => r()))) });
  return { port, ws };
}

describe('SIP over WebSocket with SIP.js', () => {
  test('OPTIONS and an INVITE dialog (INVITE, 200, ACK, BYE) through /sip', async () => {
    const sessions: InviteSession[] = [];
    const offers: string[] = [];
    const ua = new UserAgentCore({
      advertisedAddress: '127.0.0.1',
      policy: {
        allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS'],
        supported: [],
        accept: ['application/sdp'],
        isLocalTarget: () => true,
      },
      handlers: {
        onInvite: (inv) => {
          offers.push(inv.request.body.toString());
          const s = inv.accept({ body: STUB_SDP, contentType: 'application/sdp' });
          if (s) sessions.push(s);
        },
      },
    });
    open.push(ua);
    const { port, ws } = await httpWithSip((p) => ua.endpoint.listenWs('127.0.0.1', p));
    const phone = await sipjsPeer(`ws://127.0.0.1:${port}/sip`);
    open.push(phone);
    assert.equal(ws.connectionCount, 1);

    const options = await sipjsOptions(phone, `sip:bob@127.0.0.1:${port};transport=ws`);
    assert.equal(options.statusCode, 200);
    assert.match(options.getHeader('allow') ?? '', /INVITE/);

    const call = await sipjsCall(phone, `sip:bob@127.0.0.1:${port};transport=ws`);
    assert.match(offers[0]!, /m=audio 9 RTP\/AVP 0/);
    const session = sessions[0]!;
    await new Promise<void>((r) => (session.state === 'confirmed' ? r() : session.once('confirmed', r)));
    const ended = new Promise<string>((r) => session.once('terminated', r));
    const terminated = new Promise<void>((r) =>
      call.stateChange.addListener((s) => s === SessionState.Terminated && r()),
    );
    await call.bye();
    assert.equal(await ended, 'bye');
    await terminated;
  });

  test('a client without the sip subprotocol is refused; the admission hook is asked first', async () => {
    const asked: string[] = [];
    let allow = true;
    const ep = new SipEndpoint({
      advertisedAddress: '127.0.0.1',
      user: { onRequest() {} },
      admission: (address, _port, protocol) => (asked.push(`${protocol} ${address}`), allow),
    });
    open.push(ep);
    const { port, ws } = await httpWithSip((p) => ep.listenWs('127.0.0.1', p));
    const attempt = (protocols: string[]) =>
      new Promise<string>((resolve) => {
        const c = new WebSocket(`ws://127.0.0.1:${port}/sip`, protocols);
        c.on('open', () => (resolve(`open ${c.protocol}`), c.close()));
        c.on('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
        c.on('error', () => resolve('closed'));
      });
    assert.equal(await attempt(['chat']), 'refused 400');
    assert.equal(await attempt(['sip']), 'open sip');
    allow = false;
    assert.equal(await attempt(['sip']), 'closed');
    assert.deepEqual(asked, ['WS 127.0.0.1', 'WS 127.0.0.1', 'WS 127.0.0.1']);
    for (let i = 0; i < 200 && ws.connectionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(ws.connectionCount, 0, 'the one that opened was closed by its client');
  });
});
